/* etc/webhooks: the parser, relay-config's compile step and the reader
 * (conf/webhooks.h). */
#include "conf/webhooks.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/diag.h"
#include "base/fileio.h"
#include "conf/cdbw.h"
#include "conf/conf.h"
#include "conf/confmake.h"
#include "conf/parse.h"

const char *const conf_event_names[] = {
	"received", "delivered", "deferred", "failed", "bounced", "expired", "suppressed",
	"failover", "throttle", "member_down", "member_up", "delay_warning", "bounce_deferred",
	NULL,
};

static int name_ok(const char *s)
{
	size_t i, n = strlen(s);
	if (!n || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

static int event_known(const char *e, size_t n)
{
	size_t i;
	for (i = 0; conf_event_names[i]; i++)
		if (strlen(conf_event_names[i]) == n && !memcmp(conf_event_names[i], e, n))
			return 1;
	return 0;
}

/* http:// only to this host itself: an event stream in clear text
 * over a network would show every recipient. */
static int loopback_url(const char *u)
{
	static const char *const ok[] = { "http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:",
	                                  "http://localhost/", "http://[::1]:", "http://[::1]/" };
	size_t i;
	for (i = 0; i < sizeof ok / sizeof *ok; i++)
		if (!strncmp(u, ok[i], strlen(ok[i])))
			return 1;
	return 0;
}

int conf_parse_webhook(const char *name, const char *rest, struct conf_webhook *w,
                       char *err, size_t errcap)
{
	char word[WEBHOOK_URL_MAX + 2];
	const char *p = rest;
	int have_url = 0;
	memset(w, 0, sizeof *w);
	w->batch = 100;
	w->timeout = 10;
	w->tries = 3;
	if (!name_ok(name))
		return conf_fail(err, errcap, "bad endpoint name \"%.64s\" (want [a-z0-9_-], at most 64)", name);
	snprintf(w->name, sizeof w->name, "%s", name);
	for (;;) {
		size_t n;
		unsigned long v;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		n = strcspn(p, " \t");
		if (n >= sizeof word)
			return conf_fail(err, errcap, "a field longer than %d bytes", WEBHOOK_URL_MAX);
		memcpy(word, p, n);
		word[n] = 0;
		p += n;
		if (!have_url) {
			size_t i;
			have_url = 1;
			for (i = 0; i < n; i++)
				if ((unsigned char)word[i] <= ' ' || (unsigned char)word[i] >= 0x7f)
					return conf_fail(err, errcap, "bad URL: a control byte or space");
			if (strncmp(word, "https://", 8) && !loopback_url(word))
				return conf_fail(err, errcap, "bad URL \"%.80s\" (want https://, or http:// to 127.0.0.1, [::1] or localhost)", word);
			if (strlen(word) <= (strncmp(word, "https://", 8) ? 7u : 8u))
				return conf_fail(err, errcap, "bad URL \"%.80s\": no host", word);
			if (n >= sizeof w->url)
				return conf_fail(err, errcap, "URL too long");
			memcpy(w->url, word, n + 1);
		} else if (!strncmp(word, "secret=", 7)) {
			if (!word[7] || n - 7 >= sizeof w->secret)
				return conf_fail(err, errcap, "bad secret= (want a file name)");
			memcpy(w->secret, word + 7, n - 7 + 1);
		} else if (!strncmp(word, "ca=", 3)) {
			if (!word[3] || n - 3 >= sizeof w->ca)
				return conf_fail(err, errcap, "bad ca= (want a file name)");
			memcpy(w->ca, word + 3, n - 3 + 1);
		} else if (!strncmp(word, "events=", 7)) {
			const char *e = word + 7;
			if (!*e || n - 7 >= sizeof w->events)
				return conf_fail(err, errcap, "bad events= (want names separated by commas)");
			while (*e) {
				size_t k = strcspn(e, ",");
				if (!event_known(e, k))
					return conf_fail(err, errcap, "unknown event \"%.*s\" (doc/events.md lists them)",
					                 (int)(k > 64 ? 64 : k), e);
				e += k;
				if (*e == ',' && !*++e)
					return conf_fail(err, errcap, "bad events=: a trailing comma");
			}
			memcpy(w->events, word + 7, n - 7 + 1);
		} else if (!strncmp(word, "batch=", 6)) {
			if (conf_uint(word + 6, n - 6, 1000, &v) < 0 || v < 1)
				return conf_fail(err, errcap, "bad batch= (want 1..1000)");
			w->batch = (unsigned)v;
		} else if (!strncmp(word, "tries=", 6)) {
			if (conf_uint(word + 6, n - 6, 100, &v) < 0 || v < 1)
				return conf_fail(err, errcap, "bad tries= (want 1..100)");
			w->tries = (unsigned)v;
		} else if (!strncmp(word, "timeout=", 8)) {
			char e2[200];
			if (conf_parse_duration(word + 8, &v, e2, sizeof e2) < 0 || v < 1 || v > 300)
				return conf_fail(err, errcap, "bad timeout= (want 1s..5m)");
			w->timeout = (unsigned)v;
		} else {
			return conf_fail(err, errcap, "unknown option \"%.64s\" (want secret=, ca=, events=, batch=, timeout= or tries=)", word);
		}
	}
	if (!have_url)
		return conf_fail(err, errcap, "no URL (want NAME URL [options])");
	return 0;
}

static int format(const struct conf_webhook *w, struct buf *v)
{
	v->len = 0;
	return buf_printf(v, "%s\t%s\t%s\t%u\t%u\t%u\t%s", w->url, w->secret[0] ? w->secret : "-",
	                  w->events[0] ? w->events : "-", w->batch, w->timeout, w->tries,
	                  w->ca[0] ? w->ca : "-");
}

int conf_webhooks_make(struct run *run, int write)
{
	struct buf file = BUF_INIT, v = BUF_INIT, names = BUF_INIT;
	struct conf_webhook w;
	struct cdbw cw;
	char path[PATH_MAX], *l, *nl;
	unsigned line = 0, errors = run->errors;
	int ret = 0, started = 0;
	conf_pathf(path, sizeof path, "%s/etc/webhooks", run->home);
	if (read_file(path, &file, CONF_FILE_MAX) < 0) {
		if (errno == EFBIG) {
			conf_error_at(run, "webhooks", 0, "larger than %lu bytes", CONF_FILE_MAX);
			goto out;
		}
		if (errno != ENOENT) {
			warn_sys("unable to read etc/webhooks");
			ret = -1;
			goto out;
		}
	}
	if (write && errors == 0) {
		conf_pathf(path, sizeof path, "%s/etc/webhooks.cdb", run->home);
		/* the URLs may carry tokens: not for everyone */
		if (cdbw_start(&cw, path, 0640) < 0 || cdbw_add(&cw, "", 0, CONF_VERSION, strlen(CONF_VERSION)) < 0) {
			warn_sys("unable to write etc/webhooks.cdb");
			ret = -1;
			goto out;
		}
		started = 1;
		/* on an installed tree relay-events (uid relaye) reads it */
		{
			struct group *gr = geteuid() == 0 ? getgrnam("relaye") : NULL;
			if (gr && fchown(cw.fd, 0, gr->gr_gid) < 0) {
				warn_sys("unable to give etc/webhooks.cdb to group relaye");
				ret = -1;
				goto out;
			}
		}
	}
	buf_adds(&names, "\n");
	for (l = file.p; l && *l; l = nl ? nl + 1 : NULL) {
		char name[CONF_LINE_MAX + 1], err[300], *h;
		const char *rest;
		size_t n;
		line++;
		nl = strchr(l, '\n');
		n = nl ? (size_t)(nl - l) : strlen(l);
		if (n > CONF_LINE_MAX) {
			conf_error_at(run, "webhooks", line, "line longer than %d bytes", CONF_LINE_MAX);
			continue;
		}
		if (nl)
			*nl = 0;
		if ((h = strchr(l, '#')))
			*h = 0;
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l)
			continue;
		n = strcspn(l, " \t");
		memcpy(name, l, n);
		name[n] = 0;
		rest = l + n;
		if (conf_parse_webhook(name, rest, &w, err, sizeof err) < 0) {
			conf_error_at(run, "webhooks", line, "%s", err);
			continue;
		}
		{
			char key[80];
			snprintf(key, sizeof key, "\n%s\n", w.name);
			if (memmem(names.p, names.len, key, strlen(key))) {
				conf_error_at(run, "webhooks", line, "endpoint \"%s\" defined twice", w.name);
				continue;
			}
			buf_adds(&names, key + 1);
		}
		if (w.secret[0]) {
			struct buf sp = BUF_INIT;
			struct stat st;
			if (conf_path(run->home, w.secret, &sp) == 0 && stat(sp.p, &st) < 0)
				conf_warn_at(run, "webhooks", line, "secret file %s: %s", w.secret, strerror(errno));
			buf_free(&sp);
		}
		if (started && format(&w, &v) == 0 &&
		    cdbw_add(&cw, w.name, strlen(w.name), v.p, v.len) < 0) {
			warn_sys("unable to write etc/webhooks.cdb");
			ret = -1;
			goto out;
		}
	}
	if (started && run->errors == errors) {
		if (cdbw_commit(&cw) < 0) {
			warn_sys("unable to write etc/webhooks.cdb");
			ret = -1;
		}
		started = 0;
	}
out:
	if (started)
		cdbw_abort(&cw);
	buf_free(&file);
	buf_free(&v);
	buf_free(&names);
	return ret;
}

long conf_webhooks_load(const char *home, struct conf_webhook **list)
{
	struct conf c;
	struct buf k = BUF_INIT, v = BUF_INIT;
	long n = 0;
	int r;
	*list = NULL;
	if ((r = conf_open(&c, home, "webhooks")) != 0)
		return r > 0 ? 0 : -1;
	conf_rewind(&c);
	while ((r = conf_each(&c, &k, &v)) == 1) {
		struct conf_webhook *nl = realloc(*list, (size_t)(n + 1) * sizeof **list), *w;
		char *f[7], *p = v.p, err[300];
		int i;
		if (!nl) {
			r = -1;
			break;
		}
		*list = nl;
		w = &nl[n];
		for (i = 0; i < 7; i++) {
			f[i] = p;
			p = p ? strchr(p, '\t') : NULL;
			if (p)
				*p++ = 0;
		}
		if (!f[6] || conf_parse_webhook(k.p, f[0], w, err, sizeof err) < 0) {
			errno = EPROTO;
			r = -1;
			break;
		}
		snprintf(w->secret, sizeof w->secret, "%s", strcmp(f[1], "-") ? f[1] : "");
		snprintf(w->events, sizeof w->events, "%s", strcmp(f[2], "-") ? f[2] : "");
		w->batch = (unsigned)atoi(f[3]);
		w->timeout = (unsigned)atoi(f[4]);
		w->tries = (unsigned)atoi(f[5]);
		snprintf(w->ca, sizeof w->ca, "%s", strcmp(f[6], "-") ? f[6] : "");
		n++;
	}
	buf_free(&k);
	buf_free(&v);
	conf_close(&c);
	if (r < 0) {
		free(*list);
		*list = NULL;
		return -1;
	}
	return n;
}

int conf_webhook_wants(const struct conf_webhook *w, const char *event)
{
	const char *e = w->events;
	size_t n = strlen(event);
	if (!*e)
		return 1;
	while (*e) {
		size_t k = strcspn(e, ",");
		if (k == n && !memcmp(e, event, n))
			return 1;
		e += k + (e[k] == ',');
	}
	return 0;
}
