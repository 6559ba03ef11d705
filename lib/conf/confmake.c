/* relay-config's work: read and check every table in etc/ and compile
 * each into NAME.cdb, all or nothing. The line parsers are in parse.c,
 * tables.c and settings.c; the checks across lines and tables in
 * confcheck.c; a new home in confinit.c. This file adds lines, files
 * and the atomic write of every table. */
#include "conf/conf.h"
#include "conf/confmake.h"
#include "conf/source.h"

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
#include "conf/apikeys.h" /* issue 13 */
#include "conf/cdbw.h"
#include "conf/clients.h"
#include "conf/member.h"
#include "conf/users.h"
#include "conf/webhooks.h"   /* events */

int conf_pathf(char *out, size_t cap, const char *fmt, ...)
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
			conf_warn_at(run, table, line, "%s \"%.200s\" does not exist", what, file);
		return;
	}
	/* A private key anyone may read is a key to replace. */
	if (strcmp(table, "dkim") == 0 && (st.st_mode & 077))
		conf_warn_at(run, table, line, "%s \"%.200s\" is readable by group or others (mode %04o)",
		        what, file, (unsigned)(st.st_mode & 07777));
}

/* Parse one line (key and the rest) of table ti into canonical key and
 * value. 0 ok, -1 config error (reason in err), -2 out of memory. */
static int parse_line(struct run *run, int ti, unsigned line, const char *key,
                      const char *rest, char *ck, size_t ckcap, struct buf *cv,
                      char *err, size_t errcap)
{
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
		/* issue 12: host:port, or from:SENDER[/host:port] (conf/member.h) */
		if (conf_parse_auth_key(key, ck, ckcap, err, errcap) < 0)
			return -1;
		if (conf_parse_auth(rest, &a, err, errcap) < 0)
			return -1;
		cv->len = 0;
		r = buf_printf(cv, "%s %s", a.user, a.pass);
		conf_auth_wipe(&a);
		break;
	}
	case T_TLS: {
		struct conf_tls t;
		/* "*": every domain delivered by MX that has no line (issue 15) */
		if (strcmp(key, "*") == 0)
			snprintf(ck, ckcap, "*");
		else if (conf_parse_target(key, ck, ckcap, err, errcap) < 0)
			return -1;
		if (conf_parse_tls(rest, &t, err, errcap) < 0)
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
	case T_ALIASES: /* issue 11: sendmail's local names (conf/alias.c) */
		return conf_parse_alias(key, rest, ck, ckcap, cv, err, errcap);
	/* relay-smtpd's tables (conf/clients.h, conf/users.h) */
	case T_CLIENTS: {
		enum conf_client_action a;
		if (conf_parse_client_key(key, ck, ckcap, err, errcap) < 0 ||
		    conf_parse_client_action(rest, &a, err, errcap) < 0)
			return -1;
		cv->len = 0;
		r = buf_adds(cv, conf_client_action_name(a));
		break;
	}
	case T_USERS: {
		struct conf_user u;
		if (conf_parse_user_key(key, ck, ckcap, err, errcap) < 0 ||
		    conf_parse_user(rest, &u, err, errcap) < 0)
			return -1;
		r = conf_format_user(&u, cv);
		break;
	}
	case T_APIKEYS: /* issue 13: relay-httpd's tokens (conf/apikeys.c) */
		return conf_parse_apikey_line(key, rest, ck, ckcap, cv, err, errcap);
	case T_SOURCE: {   /* issue 15: a member's source addresses */
		struct conf_source so;
		unsigned port;
		if (strcasecmp(key, "mx") == 0)
			snprintf(ck, ckcap, "mx");
		else if (conf_parse_hostport(key, 1, h, sizeof h, &port, err, errcap) < 0)
			return -1;
		else
			snprintf(ck, ckcap, "%s:%u", h, port);
		if (conf_parse_source(rest, &so, err, errcap) < 0)
			return -1;
		r = conf_format_source(&so, cv);
		break;
	}
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

	conf_pathf(path, sizeof path, "%s/etc/%s", run->home, t->name);
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
		conf_error_at(run, t->name, 0, "not a regular file");
		close(fd);
		return 0;
	}
	t->owned = 1;
	t->uid = st.st_uid;
	t->gid = st.st_gid;
	if (ti == T_AUTH && (st.st_mode & 077))
		conf_error_at(run, t->name, 0, "mode %04o is too open: passwords must not be readable "
		         "by group or others (chmod 600 etc/auth)", (unsigned)(st.st_mode & 07777));
	if (read_fd(fd, &file, CONF_FILE_MAX) < 0) {
		if (errno == EFBIG) {
			conf_error_at(run, t->name, 0, "larger than %lu bytes", CONF_FILE_MAX);
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
			conf_error_at(run, t->name, line, "line longer than %d bytes", CONF_LINE_MAX);
			continue;
		}
		for (i = 0; i < len && !bad; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == 0) {
				conf_error_at(run, t->name, line, "NUL byte in line");
				bad = 1;
			} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
				conf_error_at(run, t->name, line, "control character 0x%02x in line%s", c,
				         c == '\r' ? " (a CRLF line ending?)" : "");
				bad = 1;
			} else if (c >= 0x80 && ti != T_AUTH) {
				conf_error_at(run, t->name, line, "non-ASCII byte in line");
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
			conf_error_at(run, t->name, line, "%s", err);
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

/* Write table t as a new CDB beside etc/NAME.cdb (not yet renamed):
 * version record first, then the records in file order. */
static int write_cdb(const struct table *t, struct cdbw *w, const char *dst, mode_t mode,
                     gid_t group)
{
	size_t i;
	if (cdbw_start(w, dst, mode) < 0)
		return -1;
	/* Run as root, the CDB gets the owner and group of its text file,
	 * so that "chown relaysend etc/auth" lets relay-send read auth.cdb. */
	if (t->owned && geteuid() == 0 && fchown(w->fd, t->uid, t->gid) < 0)
		return -1;
	/* On an installed tree the secrets are for one group (doc/security.md):
	 * auth.cdb root:relayauth 0640 (the scheduler and relay-health),
	 * users.cdb root:relays 0640 (relay-smtpd's password hashes). */
	if (mode == 0600 && group) {
		if (fchown(w->fd, 0, group) < 0)
			return -1;
		mode = 0640;
	}
	if (fchmod(w->fd, mode) < 0)
		return -1;
	if (cdbw_add(w, "", 0, CONF_VERSION, strlen(CONF_VERSION)) < 0)
		return -1;
	for (i = 0; i < t->n; i++)
		if (cdbw_add(w, t->r[i].key, strlen(t->r[i].key), t->r[i].val, strlen(t->r[i].val)) < 0)
			return -1;
	return cdbw_finish(w);
}

/* The group of a secret table (auth.cdb: relayauth, users.cdb: relays)
 * on an installed tree (queue/ owned by relayq, the group present, run as
 * root); 0 elsewhere (tests, a home of one's own): then the CDB is 0600. */
static gid_t secret_group(const char *home, const char *group)
{
	char q[PATH_MAX];
	struct passwd *pw;
	struct group *gr;
	struct stat st;
	if (geteuid() != 0 || !(pw = getpwnam("relayq")) || !(gr = getgrnam(group)))
		return 0;
	if (conf_pathf(q, sizeof q, "%s/queue", home) < 0 || stat(q, &st) < 0 || st.st_uid != pw->pw_uid)
		return 0;
	return gr->gr_gid;
}

static int write_all_tables(struct run *run)
{
	struct cdbw w[T_N];
	char dst[PATH_MAX], etc[PATH_MAX];
	int i, made = 0;
	gid_t ag = secret_group(run->home, "relayauth"), ug = secret_group(run->home, "relays");
	for (i = 0; i < T_N; i++) {
		conf_pathf(dst, sizeof dst, "%s/etc/%s.cdb", run->home, run->t[i].name);
		made++;
		if (write_cdb(&run->t[i], &w[i], dst, i == T_AUTH || i == T_USERS ? 0600 : 0644,
		              i == T_AUTH ? ag : i == T_USERS ? ug : 0) < 0) {
			warn_sys("unable to write etc/%s.cdb.tmp.%ld", run->t[i].name, (long)getpid());
			goto fail;
		}
	}
	/* Every table is on disk: now publish each by one rename. */
	for (i = 0; i < T_N; i++) {
		if (cdbw_rename(&w[i]) < 0) {
			warn_sys("unable to rename etc/%s.cdb.tmp.%ld to etc/%s.cdb",
			         run->t[i].name, (long)getpid(), run->t[i].name);
			goto fail;
		}
		crash_point("config-rename");
	}
	conf_pathf(etc, sizeof etc, "%s/etc", run->home);
	if (fsync_dir(etc) < 0) {
		warn_sys("unable to sync etc/");
		return -1;
	}
	return 0;
fail:
	for (i = 0; i < made; i++)
		cdbw_abort(&w[i]);
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
	if (strlen(home) > PATH_MAX - 64 || conf_pathf(etc, sizeof etc, "%s/etc", home) < 0) {
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
		if (conf_check_duplicates(&run, i) < 0)
			run.syserr = 1;
	if (!run.syserr && conf_cross_checks(&run) < 0) {
		warn_sys("unable to check tables");
		run.syserr = 1;
	}
	/* events: etc/webhooks (conf/webhooks.h), checked with the others,
	 * compiled after them */
	if (!run.syserr && conf_webhooks_make(&run, 0) < 0)
		run.syserr = 1;
	if (run.syserr)
		ret = -1;
	else if (run.errors)
		ret = 1;
	else if (flags & CONF_CHECK_ONLY)
		ret = 0;
	else if ((ret = write_all_tables(&run)) == 0 && conf_webhooks_make(&run, 1) < 0)
		ret = -1;   /* events */
	if (run.errors)
		fprintf(stderr, "%s: %u error%s; no table was written\n", progname, run.errors,
		        run.errors == 1 ? "" : "s");
	free_tables(&run);
	return ret;
}
