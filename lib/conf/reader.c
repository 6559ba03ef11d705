/* Reading the compiled CDB tables (conf.h has the contract), and the
 * routes lookup over them. */
#include "conf/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"

const char *const conf_tables[] = {
	"pools", "routes", "auth", "tls", "dkim", "limits", "retry", "settings",
	"aliases" /* issue 11 */,
	"clients", "users",  /* relay-smtpd (conf/clients.h, conf/users.h) */
	"apikeys",           /* issue 13: relay-httpd (conf/apikeys.h) */
	"source",            /* issue 15 (conf/source.h) */
	NULL
};
/* ---- reading ---- */

#define CONF_CDB_MAX (256UL * 1024 * 1024) /* one compiled table, read whole */

/* The whole table, read into memory once (no mmap): a file truncated or
 * rewritten in place after this cannot reach the reader (with tinycdb's
 * mmap a truncated file is a SIGBUS), and every later lookup is bounded
 * by the size read, which tinycdb checks on every access. A table is at
 * most CONF_CDB_MAX bytes. This mirrors tinycdb's cdb_init. */
static int load_cdb(struct cdb *cdb, int fd)
{
	struct stat st;
	unsigned char *mem;
	ssize_t got;
	unsigned dend;
	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size < 2048) {
		errno = EPROTO;
		return -1;
	}
	if ((unsigned long long)st.st_size > CONF_CDB_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (!(mem = malloc((size_t)st.st_size + 1)))
		return -1;
	/* one byte more than fstat said: a file that grew is caught too */
	got = read_full(fd, mem, (size_t)st.st_size + 1);
	if (got != (ssize_t)st.st_size) {
		int e = got < 0 ? errno : EPROTO;
		free(mem);
		errno = e;
		return -1;
	}
	memset(cdb, 0, sizeof *cdb);
	cdb->cdb_fd = fd;
	cdb->cdb_fsize = (unsigned)st.st_size;
	cdb->cdb_mem = mem;
	dend = cdb_unpack(mem);
	if (dend < 2048)
		dend = 2048;
	else if (dend >= cdb->cdb_fsize)
		dend = cdb->cdb_fsize;
	cdb->cdb_dend = dend;
	return 0;
}

int conf_open(struct conf *c, const char *home, const char *table)
{
	char path[PATH_MAX];
	int e;
	memset(c, 0, sizeof *c);
	c->fd = -1;
	if (snprintf(path, sizeof path, "%s/etc/%s.cdb", home, table) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	c->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (c->fd < 0) {
		if (errno == ENOENT)
			return 1;
		return -1;
	}
	if (load_cdb(&c->cdb, c->fd) < 0) {
		e = errno;
		close(c->fd);
		c->fd = -1;
		errno = e ? e : EPROTO;
		return -1;
	}
	/* The version record: a CDB without it is not ours. */
	if (cdb_find(&c->cdb, "", 0) <= 0 || cdb_datalen(&c->cdb) != strlen(CONF_VERSION) ||
	    !cdb_getdata(&c->cdb) ||
	    memcmp(cdb_getdata(&c->cdb), CONF_VERSION, strlen(CONF_VERSION)) != 0) {
		conf_close(c);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

void conf_close(struct conf *c)
{
	if (c->fd >= 0) {
		free((void *)c->cdb.cdb_mem);
		c->cdb.cdb_mem = NULL;
		close(c->fd);
	}
	c->fd = -1;
	buf_free(&c->fkey);
}

/* Copy the current data (or key) of cdb into b. */
static int copy_out(struct cdb *cdb, unsigned pos, unsigned len, struct buf *b)
{
	const void *p = cdb_get(cdb, len, pos);
	if (!p) {
		errno = EPROTO;
		return -1;
	}
	b->len = 0;
	return buf_add(b, p, len);
}

int conf_get(struct conf *c, const char *key, struct buf *val)
{
	int r;
	if (c->fd < 0)
		return 0;
	r = cdb_find(&c->cdb, key, (unsigned)strlen(key));
	if (r < 0) {
		errno = EPROTO;
		return -1;
	}
	if (r == 0)
		return 0;
	if (copy_out(&c->cdb, cdb_datapos(&c->cdb), cdb_datalen(&c->cdb), val) < 0)
		return -1;
	return 1;
}

int conf_find(struct conf *c, const char *key)
{
	c->finding = 0;
	if (c->fd < 0)
		return 0;
	c->fkey.len = 0;
	if (buf_add(&c->fkey, key, strlen(key)) < 0)
		return -1;
	if (cdb_findinit(&c->find, &c->cdb, c->fkey.p, (unsigned)c->fkey.len) < 0) {
		errno = EPROTO;
		return -1;
	}
	c->finding = 1;
	return 0;
}

int conf_next(struct conf *c, struct buf *val)
{
	int r;
	if (c->fd < 0 || !c->finding)
		return 0;
	r = cdb_findnext(&c->find);
	if (r <= 0) {
		c->finding = 0;
		if (r < 0) {
			errno = EPROTO;
			return -1;
		}
		return 0;
	}
	if (copy_out(&c->cdb, cdb_datapos(&c->cdb), cdb_datalen(&c->cdb), val) < 0)
		return -1;
	return 1;
}

void conf_rewind(struct conf *c)
{
	if (c->fd >= 0)
		cdb_seqinit(&c->seq, &c->cdb);
}

int conf_each(struct conf *c, struct buf *key, struct buf *val)
{
	int r;
	if (c->fd < 0)
		return 0;
	for (;;) {
		r = cdb_seqnext(&c->seq, &c->cdb);
		if (r < 0) {
			errno = EPROTO;
			return -1;
		}
		if (r == 0)
			return 0;
		if (cdb_keylen(&c->cdb) == 0)
			continue; /* the version record */
		if (copy_out(&c->cdb, cdb_keypos(&c->cdb), cdb_keylen(&c->cdb), key) < 0 ||
		    copy_out(&c->cdb, cdb_datapos(&c->cdb), cdb_datalen(&c->cdb), val) < 0)
			return -1;
		return 1;
	}
}

int conf_path(const char *home, const char *file, struct buf *out)
{
	out->len = 0;
	if (file[0] == '/')
		return buf_adds(out, file);
	return buf_printf(out, "%s/etc/%s", home, file);
}

static int buf_reset_copy(struct buf *dst, const struct buf *src)
{
	dst->len = 0;
	return buf_adds(dst, src->p ? src->p : "");
}

/* Try one routes key; 1 found, 0 absent, -1 error. */
static int route_try(struct conf *routes, struct buf *k, struct buf *pool)
{
	if (!k->p)
		return 0;
	conf_lower(k->p);
	return conf_get(routes, k->p, pool);
}

int conf_route(struct conf *routes, const char *sender, const char *class,
               const char *rcpt_domain, struct buf *pool)
{
	return conf_route_key(routes, sender, class, rcpt_domain, pool, NULL);
}

int conf_route_key(struct conf *routes, const char *sender, const char *class,
                   const char *rcpt_domain, struct buf *pool, struct buf *key)
{
	struct buf k = BUF_INIT;
	const char *at;
	int r = 0;
	if (sender && *sender) {
		if (buf_printf(&k, "from:%s", sender) < 0)
			goto oom;
		if ((r = route_try(routes, &k, pool)) != 0)
			goto out;
		at = strrchr(sender, '@');
		if (at) {
			k.len = 0;
			if (buf_printf(&k, "from:%s", at) < 0)
				goto oom;
			if ((r = route_try(routes, &k, pool)) != 0)
				goto out;
		}
	}
	if (class && *class) {
		k.len = 0;
		if (buf_printf(&k, "class:%s", class) < 0)
			goto oom;
		if ((r = route_try(routes, &k, pool)) != 0)
			goto out;
	}
	if (rcpt_domain && *rcpt_domain) {
		k.len = 0;
		if (buf_printf(&k, "to:%s", rcpt_domain) < 0)
			goto oom;
		if ((r = route_try(routes, &k, pool)) != 0)
			goto out;
		/* to:.example.com: every subdomain, the nearest parent first */
		for (at = strchr(rcpt_domain, '.'); at; at = strchr(at + 1, '.')) {
			k.len = 0;
			if (buf_printf(&k, "to:%s", at) < 0)
				goto oom;
			if ((r = route_try(routes, &k, pool)) != 0)
				goto out;
		}
	}
	k.len = 0;
	if (buf_adds(&k, "default") < 0)
		goto oom;
	r = conf_get(routes, "default", pool);
out:
	if (key && r == 1 && (buf_reset_copy(key, &k) < 0)) {
		buf_free(&k);
		return -1;
	}
	buf_free(&k);
	return r;
oom:
	buf_free(&k);
	return -1;
}
