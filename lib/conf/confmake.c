/* relay-config's work: check every table in etc/, compile each into
 * NAME.cdb all-or-nothing, and make a new relay home. The line parsers
 * are in conf.c; this file adds lines, files, duplicates, cross-table
 * checks and the atomic write. */
#include "conf/conf.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/diag.h"
#include "base/fileio.h"

enum { T_POOLS, T_ROUTES, T_AUTH, T_TLS, T_DKIM, T_LIMITS, T_RETRY, T_SETTINGS, T_N };

struct rec {
	char *key, *val;
	unsigned line;
};

struct table {
	const char *name;
	struct rec *r;
	size_t n, cap;
	int owned;          /* uid, gid: the text file's, for the CDB */
	uid_t uid;
	gid_t gid;
};

struct run {
	const char *home;
	struct table t[T_N];
	unsigned errors, warnings;
	int syserr;
};

/* snprintf into a path buffer: -1 (ENAMETOOLONG) if it did not fit. */
static int pathf(char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int pathf(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void vreport(const char *level, const char *table, unsigned line,
                    const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (line)
		fprintf(stderr, "%s: %s: etc/%s:%u: %s\n", progname, level, table, line, msg);
	else
		fprintf(stderr, "%s: %s: etc/%s: %s\n", progname, level, table, msg);
	fflush(stderr);
}

static void error_at(struct run *run, const char *table, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void error_at(struct run *run, const char *table, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error", table, line, fmt, ap);
	va_end(ap);
	run->errors++;
}

static void warn_at(struct run *run, const char *table, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void warn_at(struct run *run, const char *table, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning", table, line, fmt, ap);
	va_end(ap);
	run->warnings++;
}

static int add_rec(struct table *t, const char *key, const char *val, unsigned line)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 32;
		struct rec *nr = realloc(t->r, nc * sizeof *nr);
		if (!nr)
			return -1;
		t->r = nr;
		t->cap = nc;
	}
	t->r[t->n].key = strdup(key);
	t->r[t->n].val = strdup(val);
	if (!t->r[t->n].key || !t->r[t->n].val) {
		free(t->r[t->n].key);
		free(t->r[t->n].val);
		errno = ENOMEM;
		return -1;
	}
	t->r[t->n].line = line;
	t->n++;
	return 0;
}

static void free_tables(struct run *run)
{
	size_t i, j;
	for (i = 0; i < T_N; i++) {
		for (j = 0; j < run->t[i].n; j++) {
			/* auth values hold passwords: wipe before free */
			if (i == T_AUTH)
				memset(run->t[i].r[j].val, 0, strlen(run->t[i].r[j].val));
			free(run->t[i].r[j].key);
			free(run->t[i].r[j].val);
		}
		free(run->t[i].r);
		run->t[i].r = NULL;
		run->t[i].n = run->t[i].cap = 0;
	}
}

/* A file named in a table (relative to etc/) that does not exist is
 * worth a warning: the program that needs it will fail later. */
static void check_file(struct run *run, const char *table, unsigned line,
                       const char *what, const char *file)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int r;
	if (conf_path(run->home, file, &path) < 0)
		return;
	r = stat(path.p, &st);
	buf_free(&path);
	if (r < 0) {
		if (errno == ENOENT)
			warn_at(run, table, line, "%s \"%.200s\" does not exist", what, file);
		return;
	}
	/* A private key anyone may read is a key to replace. */
	if (strcmp(table, "dkim") == 0 && (st.st_mode & 077))
		warn_at(run, table, line, "%s \"%.200s\" is readable by group or others (mode %04o)",
		        what, file, (unsigned)(st.st_mode & 07777));
}

/* Parse one line (key and the rest) of table ti into canonical key and
 * value. 0 ok, -1 config error (reason in err), -2 out of memory. */
static int parse_line(struct run *run, int ti, unsigned line, const char *key,
                      const char *rest, char *ck, size_t ckcap, struct buf *cv,
                      char *err, size_t errcap)
{
	unsigned port;
	char h[CONF_HOST_MAX + 1];
	int r = 0;
	switch (ti) {
	case T_POOLS: {
		struct conf_pool p;
		if (conf_parse_name(key, ck, ckcap, err, errcap) < 0 ||
		    conf_parse_pool(rest, &p, err, errcap) < 0)
			return -1;
		r = conf_format_pool(&p, cv);
		break;
	}
	case T_ROUTES:
		if (conf_parse_route_key(key, ck, ckcap, err, errcap) < 0 ||
		    conf_parse_route(rest, h, sizeof h, err, errcap) < 0)
			return -1;
		cv->len = 0;
		r = buf_adds(cv, h);
		break;
	case T_AUTH: {
		struct conf_auth a;
		if (conf_parse_hostport(key, 1, h, sizeof h, &port, err, errcap) < 0)
			return -1;
		snprintf(ck, ckcap, "%s:%u", h, port);
		if (conf_parse_auth(rest, &a, err, errcap) < 0)
			return -1;
		cv->len = 0;
		r = buf_printf(cv, "%s %s", a.user, a.pass);
		conf_auth_wipe(&a);
		break;
	}
	case T_TLS: {
		struct conf_tls t;
		if (conf_parse_target(key, ck, ckcap, err, errcap) < 0 ||
		    conf_parse_tls(rest, &t, err, errcap) < 0)
			return -1;
		if (t.ca[0])
			check_file(run, "tls", line, "ca file", t.ca);
		r = conf_format_tls(&t, cv);
		break;
	}
	case T_DKIM: {
		struct conf_dkim d;
		if (conf_parse_host(key, ck, ckcap, err, errcap) < 0 ||
		    conf_parse_dkim(rest, &d, err, errcap) < 0)
			return -1;
		check_file(run, "dkim", line, "key file", d.keyfile);
		r = conf_format_dkim(&d, cv);
		break;
	}
	case T_LIMITS: {
		struct conf_limits l;
		if (conf_parse_target(key, ck, ckcap, err, errcap) < 0 ||
		    conf_parse_limits(rest, &l, err, errcap) < 0)
			return -1;
		r = conf_format_limits(&l, cv);
		break;
	}
	case T_RETRY: {
		struct conf_retry rt;
		if (conf_parse_name(key, ck, ckcap, err, errcap) < 0 ||
		    conf_parse_retry(ck, rest, &rt, err, errcap) < 0)
			return -1;
		r = conf_format_retry(&rt, cv);
		break;
	}
	case T_SETTINGS:
		if (strlen(key) >= ckcap) {
			snprintf(err, errcap, "unknown setting");
			return -1;
		}
		if (conf_parse_setting(key, rest, cv, err, errcap) < 0)
			return -1;
		strcpy(ck, key);
		conf_lower(ck);
		if (strcmp(ck, "dns_config") == 0)
			check_file(run, "settings", line, "dns_config file", cv->p);
		break;
	}
	return r < 0 ? -2 : 0;
}

/* Read and parse etc/NAME. 0 done (config errors are counted in run),
 * -1 system error (reported). */
static int read_table(struct run *run, int ti)
{
	struct table *t = &run->t[ti];
	struct buf file = BUF_INIT, cv = BUF_INIT;
	char path[PATH_MAX], ck[CONF_LINE_MAX + 1], key[CONF_LINE_MAX + 1], err[512];
	struct stat st;
	size_t off = 0;
	unsigned line = 0;
	int fd, ret = 0;

	pathf(path, sizeof path, "%s/etc/%s", run->home, t->name);
	/* O_NONBLOCK: a FIFO put there must not hang us (it is refused
	 * below as not a regular file); regular files ignore the flag. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* a missing table is an empty table */
		warn_sys("unable to open etc/%s", t->name);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		warn_sys("unable to stat etc/%s", t->name);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		error_at(run, t->name, 0, "not a regular file");
		close(fd);
		return 0;
	}
	t->owned = 1;
	t->uid = st.st_uid;
	t->gid = st.st_gid;
	if (ti == T_AUTH && (st.st_mode & 077))
		error_at(run, t->name, 0, "mode %04o is too open: passwords must not be readable "
		         "by group or others (chmod 600 etc/auth)", (unsigned)(st.st_mode & 07777));
	if (read_fd(fd, &file, CONF_FILE_MAX) < 0) {
		if (errno == EFBIG) {
			error_at(run, t->name, 0, "larger than %lu bytes", CONF_FILE_MAX);
		} else {
			warn_sys("unable to read etc/%s", t->name);
			ret = -1;
		}
		close(fd);
		goto out;
	}
	close(fd);

	while (off < file.len) {
		const char *p = file.p + off, *nl, *s, *k;
		size_t len, i, kn;
		int bad = 0, r;
		nl = memchr(p, '\n', file.len - off);
		len = nl ? (size_t)(nl - p) : file.len - off;
		off += len + (nl ? 1 : 0);
		line++;
		if (len > CONF_LINE_MAX) {
			error_at(run, t->name, line, "line longer than %d bytes", CONF_LINE_MAX);
			continue;
		}
		for (i = 0; i < len && !bad; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == 0) {
				error_at(run, t->name, line, "NUL byte in line");
				bad = 1;
			} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
				error_at(run, t->name, line, "control character 0x%02x in line%s", c,
				         c == '\r' ? " (a CRLF line ending?)" : "");
				bad = 1;
			} else if (c >= 0x80 && ti != T_AUTH) {
				error_at(run, t->name, line, "non-ASCII byte in line");
				bad = 1;
			}
		}
		if (bad)
			continue;
		memcpy(key, p, len); /* a NUL-terminated copy of the line */
		key[len] = 0;
		for (s = key; *s == ' ' || *s == '\t'; s++)
			;
		if (!*s || *s == '#')
			continue;
		for (k = s; *s && *s != ' ' && *s != '\t'; s++)
			;
		kn = (size_t)(s - k);
		memmove(key, k, kn);
		/* the rest follows the key in the same buffer: split there */
		{
			char rest[CONF_LINE_MAX + 1];
			size_t rn = strlen(s);
			memcpy(rest, s, rn + 1);
			key[kn] = 0;
			r = parse_line(run, ti, line, key, rest, ck, sizeof ck, &cv, err, sizeof err);
			if (ti == T_AUTH)
				memset(rest, 0, sizeof rest);
		}
		if (r == -1) {
			error_at(run, t->name, line, "%s", err);
			continue;
		}
		if (r == -2 || add_rec(t, ck, cv.p ? cv.p : "", line) < 0) {
			errno = ENOMEM;
			warn_sys("unable to parse etc/%s", t->name);
			ret = -1;
			break;
		}
	}
out:
	if (ti == T_AUTH) {
		if (file.p)
			memset(file.p, 0, file.len);
		if (cv.p)
			memset(cv.p, 0, cv.len);
		memset(key, 0, sizeof key);
	}
	buf_free(&file);
	buf_free(&cv);
	return ret;
}

static const struct table *sort_table;
static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = &sort_table->r[*(const size_t *)a];
	const struct rec *y = &sort_table->r[*(const size_t *)b];
	int c = strcmp(x->key, y->key);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorted index of a table's records by key, then line. */
static size_t *sorted(const struct table *t)
{
	size_t *ix = malloc((t->n ? t->n : 1) * sizeof *ix), i;
	if (!ix)
		return NULL;
	for (i = 0; i < t->n; i++)
		ix[i] = i;
	sort_table = t;
	qsort(ix, t->n, sizeof *ix, rec_cmp);
	return ix;
}

/* The first field of a canonical value (the dkim selector). */
static size_t first_len(const char *v)
{
	const char *sp = strchr(v, ' ');
	return sp ? (size_t)(sp - v) : strlen(v);
}

static int check_duplicates(struct run *run, int ti)
{
	struct table *t = &run->t[ti];
	size_t *ix = sorted(t), i, j;
	if (!ix)
		return -1;
	for (i = 1; i < t->n; i++) {
		struct rec *b = &t->r[ix[i]];
		if (ti != T_DKIM) {
			struct rec *a = &t->r[ix[i - 1]];
			if (strcmp(a->key, b->key) == 0)
				error_at(run, t->name, b->line, "duplicate key \"%.200s\" (first on line %u)",
				         b->key, t->r[ix[i - 1]].line);
			continue;
		}
		/* dkim: a domain may repeat, a domain and selector may not */
		for (j = i; j-- > 0;) {
			struct rec *a = &t->r[ix[j]];
			if (strcmp(a->key, b->key) != 0)
				break;
			if (first_len(a->val) == first_len(b->val) &&
			    memcmp(a->val, b->val, first_len(a->val)) == 0) {
				error_at(run, t->name, b->line, "duplicate selector \"%.*s\" for %.200s (first on line %u)",
				         (int)first_len(b->val), b->val, b->key, a->line);
				break;
			}
		}
	}
	free(ix);
	return 0;
}

static int has_key(const struct table *t, const char *key)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->r[i].key, key) == 0)
			return 1;
	return 0;
}

/* "host:port" of every pool member, for the auth/tls/limits warnings. */
static int pool_members(struct run *run, struct buf *list)
{
	struct table *t = &run->t[T_POOLS];
	size_t i, j;
	for (i = 0; i < t->n; i++) {
		struct conf_pool p;
		if (conf_parse_pool(t->r[i].val, &p, NULL, 0) < 0)
			continue;
		for (j = 0; j < p.n; j++)
			if (!p.m[j].mx && buf_printf(list, "\n%s:%u\n", p.m[j].host, p.m[j].port) < 0)
				return -1;
	}
	return buf_adds(list, "");
}

static int cross_checks(struct run *run)
{
	struct table *routes = &run->t[T_ROUTES];
	struct buf members = BUF_INIT, k = BUF_INIT;
	static const int hosted[] = { T_AUTH, T_TLS, T_LIMITS };
	size_t i, j;
	for (i = 0; i < routes->n; i++)
		if (!has_key(&run->t[T_POOLS], routes->r[i].val))
			error_at(run, "routes", routes->r[i].line, "no pool \"%.64s\" in etc/pools",
			         routes->r[i].val);
	if (routes->n && !has_key(routes, "default"))
		warn_at(run, "routes", 0, "no default route: mail that matches no route "
		        "is delivered directly to the recipient's MX");
	if (pool_members(run, &members) < 0)
		goto oom;
	for (i = 0; i < 3; i++) {
		struct table *t = &run->t[hosted[i]];
		for (j = 0; j < t->n; j++) {
			const char *key = t->r[j].key;
			if (!strchr(key, ':') || (key[0] == '[' && !strstr(key, "]:")))
				continue; /* a recipient domain, not a relay */
			k.len = 0;
			if (buf_printf(&k, "\n%s\n", key) < 0)
				goto oom;
			if (!strstr(members.p, k.p))
				warn_at(run, t->name, t->r[j].line, "%.200s is not a member of any pool", key);
		}
	}
	buf_free(&members);
	buf_free(&k);
	return 0;
oom:
	buf_free(&members);
	buf_free(&k);
	errno = ENOMEM;
	return -1;
}

/* Write table t into tmp (a new file) as a CDB: version record first,
 * then the records in file order; fsync and close. */
static int write_cdb(const struct table *t, const char *tmp, mode_t mode, gid_t authgid)
{
	struct cdb_make cm;
	size_t i;
	int fd, e;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	/* Run as root, the CDB gets the owner and group of its text file,
	 * so that "chown relaysend etc/auth" lets relay-send read auth.cdb. */
	if (t->owned && geteuid() == 0 && fchown(fd, t->uid, t->gid) < 0)
		goto fail;
	/* On an installed tree the passwords are for group relayauth (the
	 * scheduler and relay-health, doc/security.md): root:relayauth 0640. */
	if (mode == 0600 && authgid) {
		if (fchown(fd, 0, authgid) < 0)
			goto fail;
		mode = 0640;
	}
	if (fchmod(fd, mode) < 0 || cdb_make_start(&cm, fd) < 0)
		goto fail;
	if (cdb_make_add(&cm, "", 0, CONF_VERSION, (unsigned)strlen(CONF_VERSION)) < 0)
		goto fail;
	for (i = 0; i < t->n; i++)
		if (cdb_make_add(&cm, t->r[i].key, (unsigned)strlen(t->r[i].key),
		                 t->r[i].val, (unsigned)strlen(t->r[i].val)) < 0)
			goto fail;
	if (cdb_make_finish(&cm) < 0 || fsync_checked(fd) < 0)
		goto fail;
	if (close(fd) < 0)
		return -1;
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* The group of auth.cdb on an installed tree (queue/ owned by relayq,
 * group relayauth present, run as root); 0 elsewhere (tests, a home of
 * one's own): then auth.cdb is 0600 like its source. */
static gid_t auth_group(const char *home)
{
	char q[PATH_MAX];
	struct passwd *pw;
	struct group *gr;
	struct stat st;
	if (geteuid() != 0 || !(pw = getpwnam("relayq")) || !(gr = getgrnam("relayauth")))
		return 0;
	if (pathf(q, sizeof q, "%s/queue", home) < 0 || stat(q, &st) < 0 || st.st_uid != pw->pw_uid)
		return 0;
	return gr->gr_gid;
}

static int write_all_tables(struct run *run)
{
	char tmp[T_N][PATH_MAX], dst[PATH_MAX], etc[PATH_MAX];
	int i, made = 0;
	gid_t ag = auth_group(run->home);
	for (i = 0; i < T_N; i++) {
		pathf(tmp[i], sizeof tmp[i], "%s/etc/%s.cdb.tmp.%ld", run->home,
		         run->t[i].name, (long)getpid());
		if (write_cdb(&run->t[i], tmp[i], i == T_AUTH ? 0600 : 0644, ag) < 0) {
			warn_sys("unable to write etc/%s.cdb.tmp.%ld", run->t[i].name, (long)getpid());
			unlink(tmp[i]);
			goto fail;
		}
		made++;
	}
	/* Every table is on disk: now publish each by one rename. */
	for (i = 0; i < T_N; i++) {
		pathf(dst, sizeof dst, "%s/etc/%s.cdb", run->home, run->t[i].name);
		if (rename(tmp[i], dst) < 0) {
			warn_sys("unable to rename etc/%s.cdb.tmp.%ld to etc/%s.cdb",
			         run->t[i].name, (long)getpid(), run->t[i].name);
			goto fail;
		}
		crash_point("config-rename");
	}
	pathf(etc, sizeof etc, "%s/etc", run->home);
	if (fsync_dir(etc) < 0) {
		warn_sys("unable to sync etc/");
		return -1;
	}
	return 0;
fail:
	for (i = 0; i < made; i++)
		unlink(tmp[i]);
	return -1;
}

int conf_compile(const char *home, int flags)
{
	struct run run;
	char etc[PATH_MAX];
	struct stat st;
	int i, ret;
	memset(&run, 0, sizeof run);
	run.home = home;
	for (i = 0; i < T_N; i++)
		run.t[i].name = conf_tables[i];
	/* Room for every path below: home/etc/NAME.cdb.tmp.PID. */
	if (strlen(home) > PATH_MAX - 64 || pathf(etc, sizeof etc, "%s/etc", home) < 0) {
		errno = ENAMETOOLONG;
		warn_sys("unable to use %s", home);
		return -1;
	}
	if (stat(etc, &st) < 0) {
		warn_sys("unable to use %s", etc);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		warn_sys("unable to use %s", etc);
		return -1;
	}
	for (i = 0; i < T_N; i++)
		if (read_table(&run, i) < 0)
			run.syserr = 1;
	for (i = 0; i < T_N && !run.syserr; i++)
		if (check_duplicates(&run, i) < 0)
			run.syserr = 1;
	if (!run.syserr && cross_checks(&run) < 0) {
		warn_sys("unable to check tables");
		run.syserr = 1;
	}
	if (run.syserr)
		ret = -1;
	else if (run.errors)
		ret = 1;
	else if (flags & CONF_CHECK_ONLY)
		ret = 0;
	else
		ret = write_all_tables(&run);
	if (run.errors)
		fprintf(stderr, "%s: %u error%s; no table was written\n", progname, run.errors,
		        run.errors == 1 ? "" : "s");
	free_tables(&run);
	return ret;
}

/* ---- init ---- */

static const char ex_pools[] =
"# etc/pools: NAME STRATEGY MEMBER...        (relay-config(8))\n"
"#   STRATEGY: failover | roundrobin | weighted\n"
"#   MEMBER:   host[:port][*weight] (port 25 if left out; weight only with\n"
"#             weighted), or the word mx (deliver directly to the MX)\n"
"#\n"
"#smarthosts  failover   smtp1.example.net:587 smtp2.example.net:587\n"
"#spread      weighted   a.example.net:587*3 b.example.net:587*1\n"
"#direct      failover   mx\n";

static const char ex_routes[] =
"# etc/routes: KEY POOL          (first match wins, in this order:)\n"
"#   from:user@domain   from:@domain   class:NAME   to:domain   default\n"
"# Mail that matches no route goes directly to the recipient's MX.\n"
"#\n"
"#from:alerts@example.com  direct\n"
"#class:bulk               spread\n"
"#to:example.org           direct\n"
"#default                  smarthosts\n";

static const char ex_auth[] =
"# etc/auth: host:port USER PASSWORD      (this file must be mode 0600)\n"
"#   The password runs to the end of the line and may contain spaces.\n"
"#   AUTH is only ever sent over TLS.\n"
"#\n"
"#smtp1.example.net:587  relayuser  correct horse battery staple\n";

static const char ex_tls[] =
"# etc/tls: host:port-or-domain MODE [smtps] [ca=FILE]\n"
"#   MODE: none | may | encrypt | verify\n"
"#   smtps: TLS from the first byte (port 465), needs encrypt or verify\n"
"#   ca=FILE: trust these CAs (absolute or relative to etc/), needs verify\n"
"#   Default without an entry: port 465 verify smtps, else may.\n"
"#\n"
"#smtp1.example.net:587    verify\n"
"#smtp2.example.net:465    verify smtps\n"
"#127.0.0.1:2525           verify ca=test-ca.pem\n"
"#example.org              encrypt\n";

static const char ex_dkim[] =
"# etc/dkim: DOMAIN SELECTOR KEYFILE [rsa-sha256 | ed25519-sha256]\n"
"#   One line per signature; a domain may have several (RSA and Ed25519).\n"
"#   KEYFILE is absolute or relative to etc/; default rsa-sha256.\n"
"#\n"
"#example.com  rsa2026  dkim/example.com.rsa.pem\n"
"#example.com  ed2026   dkim/example.com.ed25519  ed25519-sha256\n";

static const char ex_limits[] =
"# etc/limits: host:port-or-domain [concurrency=N] [rate=N/s|N/m|N/h]\n"
"#\n"
"#smtp1.example.net:587  concurrency=10 rate=100/m\n"
"#gmail.com              concurrency=5\n";

static const char ex_retry[] =
"# etc/retry: CLASS [schedule=D,D,...] [lifetime=D]     D: 30s 5m 2h 5d 1w\n"
"#   The last interval repeats until the lifetime ends. What is left out\n"
"#   comes from the built-in schedule (relay-config(8)):\n"
"#\n"
"#transactional  schedule=1m,2m,5m,10m,30m,1h   lifetime=1d\n"
"#bulk           schedule=30m,1h,2h,4h,8h       lifetime=3d\n"
"#default        schedule=5m,15m,30m,1h,2h,4h   lifetime=5d\n";

static const char ex_settings_head[] =
"# etc/settings: KEY VALUE        (unknown keys are errors)\n"
"#   hostname    name in Message-ID, Received and EHLO (default: this host)\n"
"#   helo        EHLO name (default: hostname)\n"
"#   postmaster  address told of double bounces (default: postmaster@hostname)\n"
"#   maxsize     message size limit in bytes (default 33554432)\n"
"#   concurrency deliveries in flight at once (default 20)\n"
"#   dns_config  unbound config file for tests (default: system resolver)\n"
"#   bounce_delay_warning  delay before a \"delayed\" DSN (default 4h; 0s: none)\n"
"#   suppression_expiry    how long a hard-bounced address is suppressed (default 30d)\n"
"#\n";

static int mkdir_mode(const char *path, mode_t mode, int *made)
{
	struct stat st;
	if (mkdir(path, mode) == 0) {
		if (made)
			*made = 1;
		return chmod(path, mode); /* not the umask */
	}
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static int mkdir_at(const char *dir, const char *sub, mode_t mode)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s/%s", dir, sub) >= (int)sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir_mode(p, mode, NULL) < 0) {
		warn_sys("unable to make %s", p);
		return -1;
	}
	return 0;
}

static int buckets(const char *dir, const char *sub)
{
	char p[PATH_MAX], b[8];
	int i;
	pathf(p, sizeof p, "%s/%s", dir, sub);
	for (i = 0; i < 256; i++) {
		snprintf(b, sizeof b, "%02x", i);
		if (mkdir_at(p, b, 0750) < 0)
			return -1;
	}
	if (fsync_dir(p) < 0) {
		warn_sys("unable to sync %s", p);
		return -1;
	}
	return 0;
}

int conf_init_home(const char *dir, int force)
{
	static const char *const ex[T_N] = { ex_pools, ex_routes, ex_auth, ex_tls,
		ex_dkim, ex_limits, ex_retry, NULL };
	char etc[PATH_MAX], p[PATH_MAX], host[256];
	struct buf settings = BUF_INIT;
	struct stat st;
	int i, have = 0;

	if (strlen(dir) > PATH_MAX - 64 || pathf(etc, sizeof etc, "%s/etc", dir) < 0) {
		errno = ENAMETOOLONG;
		warn_sys("unable to use %s", dir);
		return -1;
	}
	if (mkdir_mode(dir, 0755, NULL) < 0) {
		warn_sys("unable to make %s", dir);
		return -1;
	}
	for (i = 0; i < T_N; i++) {
		pathf(p, sizeof p, "%s/%s", etc, conf_tables[i]);
		if (lstat(p, &st) == 0)
			have = 1;
		pathf(p, sizeof p, "%s/%s.cdb", etc, conf_tables[i]);
		if (lstat(p, &st) == 0)
			have = 1;
	}
	if (have && !force) {
		fprintf(stderr, "%s: error: %s already has tables; not changing it "
		        "(-f adds only what is missing)\n", progname, etc);
		return 1;
	}
	if (mkdir_mode(etc, 0755, NULL) < 0) {
		warn_sys("unable to make %s", etc);
		return -1;
	}
	/* settings: the host name is filled in but left commented, so that
	 * one "hostname" line added later is not a duplicate. */
	if (gethostname(host, sizeof host) < 0 || !host[0])
		strcpy(host, "localhost");
	host[sizeof host - 1] = 0;
	{
		char safe[256];
		safe_text(safe, sizeof safe, host, strlen(host));
		if (buf_adds(&settings, ex_settings_head) < 0 ||
		    buf_printf(&settings, "#hostname     %s\n#helo         %s\n"
		               "#postmaster   postmaster@%s\n#maxsize      33554432\n"
		               "#concurrency  20\n#bounce_delay_warning  4h\n"
		               "#suppression_expiry    30d\n", safe, safe, safe) < 0) {
			buf_free(&settings);
			warn_sys("unable to make settings");
			return -1;
		}
	}
	for (i = 0; i < T_N; i++) {
		const char *text = ex[i] ? ex[i] : settings.p;
		pathf(p, sizeof p, "%s/%s", etc, conf_tables[i]);
		if (lstat(p, &st) == 0)
			continue; /* -f: keep what the operator has */
		if (atomic_write(p, text, strlen(text), i == T_AUTH ? 0600 : 0644) < 0) {
			warn_sys("unable to write %s", p);
			buf_free(&settings);
			return -1;
		}
	}
	buf_free(&settings);
	if (mkdir_at(dir, "queue", 0750) < 0 || mkdir_at(dir, "queue/tmp", 0700) < 0 ||
	    mkdir_at(dir, "queue/msg", 0750) < 0 || mkdir_at(dir, "queue/info", 0750) < 0 ||
	    mkdir_at(dir, "queue/hold", 0750) < 0 || mkdir_at(dir, "queue/corrupt", 0750) < 0 ||
	    buckets(dir, "queue/msg") < 0 || buckets(dir, "queue/info") < 0 ||
	    mkdir_at(dir, "state", 0750) < 0)
		return -1;
	pathf(p, sizeof p, "%s/queue", dir);
	if (fsync_dir(p) < 0 || fsync_dir(dir) < 0) {
		warn_sys("unable to sync %s", dir);
		return -1;
	}
	return conf_compile(dir, 0);
}
