#include "dkim/dkim_serve.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"

struct dkim_keyent {
	char *path;
	int alg;                 /* as configured; 0: from the key */
	struct dkim_key key;
	struct dkim_keyent *next;
};

void dkim_server_init(struct dkim_server *s, const char *home)
{
	memset(s, 0, sizeof *s);
	snprintf(s->home, sizeof s->home, "%s", home);
	snprintf(s->cdbpath, sizeof s->cdbpath, "%s/etc/dkim.cdb", home);
	s->fd = -1;
	s->t = -1;
}

static void drop(struct dkim_server *s)
{
	struct dkim_keyent *k, *nx;
	for (k = s->keys; k; k = nx) {
		nx = k->next;
		dkim_key_free(&k->key);
		free(k->path);
		free(k);
	}
	s->keys = NULL;
	if (s->cdb) {
		cdb_free(s->cdb);
		free(s->cdb);
		s->cdb = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	memset(&s->mtime, 0, sizeof s->mtime);
	s->ino = 0;
	s->size = 0;
}

void dkim_server_free(struct dkim_server *s) { drop(s); }

static void say(struct buf *resp, char code, const char *fmt, const char *a, const char *b)
{
	resp->len = 0;
	buf_addc(resp, code);
	buf_printf(resp, fmt, a, b);
}

/* Make sure the cdb we hold is the one on disk. 0: ready (s->fd < 0 if
 * there is no cdb: nothing configured); -1: resp holds a Z answer. */
static int refresh(struct dkim_server *s, struct buf *resp)
{
	struct stat st;
	if (stat(s->cdbpath, &st) < 0) {
		if (errno == ENOENT) { /* absent, which is not an error */
			drop(s);
			return 0;
		}
		say(resp, 'Z', "unable to stat %s: %s", s->cdbpath, strerror(errno));
		return -1;
	}
	if (s->fd >= 0 && st.st_ino == s->ino && st.st_size == s->size &&
	    st.st_mtim.tv_sec == s->mtime.tv_sec && st.st_mtim.tv_nsec == s->mtime.tv_nsec)
		return 0;
	drop(s);
	s->fd = open(s->cdbpath, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		say(resp, 'Z', "unable to open %s: %s", s->cdbpath, strerror(errno));
		return -1;
	}
	/* describe the file we opened, not the name (a rename may be racing) */
	if (fstat(s->fd, &st) < 0 || !(s->cdb = calloc(1, sizeof(struct cdb))) ||
	    cdb_init(s->cdb, s->fd) != 0) {
		say(resp, 'Z', "unable to read %s: %s", s->cdbpath, strerror(errno));
		free(s->cdb);
		s->cdb = NULL;
		drop(s);
		return -1;
	}
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	return 0;
}

static struct dkim_keyent *key_get(struct dkim_server *s, const char *path, int alg,
                                   char *why, size_t wn, int *code)
{
	struct dkim_keyent *k;
	for (k = s->keys; k; k = k->next)
		if (k->alg == alg && !strcmp(k->path, path))
			return k;
	k = calloc(1, sizeof *k);
	if (!k || !(k->path = strdup(path))) {
		free(k);
		*code = DKIM_TEMP;
		snprintf(why, wn, "out of memory");
		return NULL;
	}
	*code = dkim_key_load(&k->key, path, alg, why, wn);
	if (*code != DKIM_OK) { /* not cached: the next message tries again */
		free(k->path);
		free(k);
		return NULL;
	}
	if (k->key.alg == DKIM_RSA_SHA256 && k->key.bits < DKIM_RSA_WARN_BITS)
		warn_("key %s has %d bits; 2048 or more is recommended (RFC 8301)", path, k->key.bits);
	k->alg = alg;
	k->next = s->keys;
	s->keys = k;
	return k;
}

void dkim_server_handle(struct dkim_server *s, const char *msg, size_t len, struct buf *resp)
{
	char dom[256], why[512], line[1024], path[8400];
	struct cdb_find cf;
	struct buf fields = BUF_INIT;
	int r, nsig = 0;

	resp->len = 0;
	if (refresh(s, resp) < 0) {
		warn_("%s", resp->p + 1);
		return;
	}
	r = dkim_from_domain(msg, len, dom, sizeof dom, why, sizeof why);
	if (r != DKIM_OK) {
		say(resp, r == DKIM_PERM ? 'D' : 'Z', "%s%s", why, "");
		warn_("not signed: %s", why);
		return;
	}
	if (s->fd >= 0) {
		if (cdb_findinit(&cf, s->cdb, dom, (unsigned)strlen(dom)) < 0)
			goto cdberr;
		while ((r = cdb_findnext(&cf)) > 0) {
			unsigned vlen = cdb_datalen((struct cdb *)s->cdb);
			const char *v = cdb_get(s->cdb, vlen, cdb_datapos((struct cdb *)s->cdb));
			char *sel, *file, *alg, *extra, *save = NULL;
			int a = 0, code;
			struct dkim_keyent *k;
			struct dkim_sign_opts o;
			if (!v || vlen >= sizeof line)
				goto cdberr;
			memcpy(line, v, vlen);
			line[vlen] = 0;
			sel = strtok_r(line, " ", &save);
			file = strtok_r(NULL, " ", &save);
			alg = strtok_r(NULL, " ", &save);
			extra = strtok_r(NULL, " ", &save);
			if (!sel || !file || extra || (alg && !(a = dkim_alg_parse(alg)))) {
				say(resp, 'Z', "bad etc/dkim.cdb entry for %s%s", dom, "");
				goto fail;
			}
			if (file[0] == '/')
				snprintf(path, sizeof path, "%s", file);
			else
				snprintf(path, sizeof path, "%s/etc/%s", s->home, file);
			k = key_get(s, path, a, why, sizeof why, &code);
			if (!k) {
				/* configured but unusable: never send unsigned */
				say(resp, 'Z', "%s%s", why, "");
				goto fail;
			}
			memset(&o, 0, sizeof o);
			o.domain = dom;
			o.selector = sel;
			o.key = &k->key;
			o.hcanon = o.bcanon = DKIM_RELAXED;
			o.t = s->t;
			code = dkim_sign_message(msg, len, &o, &fields, why, sizeof why);
			if (code != DKIM_OK) {
				say(resp, code == DKIM_PERM ? 'D' : 'Z', "%s%s", why, "");
				goto fail;
			}
			nsig++;
		}
		if (r < 0)
			goto cdberr;
	}
	if (nsig == 0)
		fprintf(stderr, "%s: info: no key for domain %s, not signed\n", progname, dom);
	buf_addc(resp, 'K');
	buf_add(resp, fields.p ? fields.p : "", fields.len);
	buf_free(&fields);
	return;
cdberr:
	say(resp, 'Z', "unable to read %s%s", s->cdbpath, "");
fail:
	warn_("not signed: %s", resp->p + 1);
	buf_free(&fields);
}
