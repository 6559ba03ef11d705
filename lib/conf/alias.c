/* etc/aliases: the line parser (relay-config) and the one expansion walk
 * that both relay-config's loop check (confcheck.c) and the intake
 * (intake/aliases.c) run, so that a table relay-config accepts expands
 * the same way at intake. */
#include "conf/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/bounds.h"

/* atext of RFC 5322 and the dot: what a local name may hold. */
static int name_char(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~.-", c));
}

static int fail(char *err, size_t errcap, const char *what, const char *s, size_t n)
{
	if (err)
		snprintf(err, errcap, "%s \"%.*s\"", what, (int)(n > 200 ? 200 : n), s);
	return -1;
}

/* A local name (n bytes of s), lowercased into out. */
static int local_name(const char *s, size_t n, char *out, size_t cap, char *err, size_t errcap)
{
	size_t i;
	if (n == 0 || n > CONF_ALIAS_NAME_MAX || n >= cap)
		return fail(err, errcap, n ? "alias name longer than 64 octets:" : "empty alias name", s, n);
	for (i = 0; i < n; i++) {
		if (!name_char((unsigned char)s[i]))
			return fail(err, errcap, "bad alias name (letters, digits and !#$%&'*+/=?^_`{|}~.- only):", s, n);
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[n] = 0;
	return 0;
}

/* One target (n bytes of s), canonical onto out after a space. */
static int target(const char *s, size_t n, struct buf *out, char *err, size_t errcap)
{
	char local[CONF_ALIAS_NAME_MAX + 1], host[CONF_HOST_MAX + 1], d[CONF_HOST_MAX + 2];
	const char *at = memchr(s, '@', n);
	size_t ln = at ? (size_t)(at - s) : n, i;
	if (s[0] == '|' || s[0] == '/' || s[0] == '"' || (n >= 9 && strncasecmp(s, ":include:", 9) == 0))
		return fail(err, errcap, "relay delivers no mail on this host: programs, files, "
		            ":include: and quoted names are not supported; name an address instead of", s, n);
	if (!at)
		return local_name(s, n, local, sizeof local, err, errcap) < 0 ? -1
		       : buf_printf(out, out->len ? " %s" : "%s", local) < 0 ? -2 : 0;
	if (ln == 0 || ln > 64 || n > ADDR_PATH_MAX - 2)
		return fail(err, errcap, "bad address (local part of 1 to 64 octets, at most 254 in all):", s, n);
	for (i = 0; i < ln; i++)
		if (!name_char((unsigned char)s[i]))
			return fail(err, errcap, "bad address (a dot-atom local part only):", s, n);
	if (n - ln - 1 > CONF_HOST_MAX)
		return fail(err, errcap, "bad address (domain too long):", s, n);
	memcpy(d, at + 1, n - ln - 1);
	d[n - ln - 1] = 0;
	if (conf_parse_host(d, host, sizeof host, NULL, 0) < 0)
		return fail(err, errcap, "bad domain in", s, n);
	return buf_printf(out, out->len ? " %.*s@%s" : "%.*s@%s", (int)ln, s, host) < 0 ? -2 : 0;
}

int conf_parse_alias(const char *key, const char *rest, char *ck, size_t ckcap,
                     struct buf *cv, char *err, size_t errcap)
{
	const char *colon = strchr(key, ':'), *p;
	size_t kn = colon ? (size_t)(colon - key) : strlen(key);
	int r;
	if (local_name(key, kn, ck, ckcap, err, errcap) < 0)
		return -1;
	cv->len = 0;
	if (buf_adds(cv, "") < 0)
		return -2;
	/* "root : ops@x": the colon after white space */
	if (!colon) {
		const char *q = rest + strspn(rest, " \t");
		if (*q == ':')
			rest = q + 1;
	}
	/* "root:ops@x" written without a space: the rest starts after ':' */
	for (p = colon ? colon + 1 : ""; ; p = rest, rest = NULL) {
		while (p && *p) {
			size_t n;
			p += strspn(p, " \t,");
			if (!*p)
				break;
			n = strcspn(p, " \t,");
			if ((r = target(p, n, cv, err, errcap)) < 0)
				return r;
			p += n;
		}
		if (!rest)
			break;
	}
	if (cv->len == 0) {
		if (err)
			snprintf(err, errcap, "alias \"%s\" names no address", ck);
		return -1;
	}
	return 0;
}

int conf_alias_local(const char *addr, const char *host, char *out, size_t cap)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr), i;
	if (at && strcasecmp(at + 1, host) != 0)
		return 0;
	if (n == 0 || n > CONF_ALIAS_NAME_MAX || n >= cap)
		return 0;
	for (i = 0; i < n; i++) {
		if (!name_char((unsigned char)addr[i]))
			return 0;
		out[i] = (char)tolower((unsigned char)addr[i]);
	}
	out[n] = 0;
	return 1;
}

/* The walk, depth first. path[0..depth] are the names being expanded. */
static int walk(struct conf_alias_walk *w, char path[][CONF_ALIAS_NAME_MAX + 1], int depth)
{
	struct buf v = BUF_INIT;
	const char *p;
	int r = w->lookup(w->ctx, path[depth], &v), k;
	if (r <= 0) {
		buf_free(&v);
		return r;
	}
	for (p = v.p; *p;) {
		size_t n = strcspn(p, " ");
		char t[CONF_ALIAS_ADDR_CAP];
		char self[CONF_ALIAS_NAME_MAX + 1];
		if (n >= sizeof t)
			n = sizeof t - 1; /* canonical values never are */
		memcpy(t, p, n);
		t[n] = 0;
		p += n + (p[n] == ' ');
		if (!conf_alias_local(t, w->host, self, sizeof self)) {
			if ((r = w->emit(w->ctx, t)) < 0)
				goto out;
			continue;
		}
		/* a name that lists itself is delivered as it is (sendmail's
		 * "root: root, ops@x"); any other way back is a loop */
		if (strcmp(self, path[depth]) == 0) {
			snprintf(t, sizeof t, "%s@%s", self, w->host);
			if ((r = w->emit(w->ctx, t)) < 0)
				goto out;
			continue;
		}
		for (k = 0; k < depth; k++)
			if (strcmp(self, path[k]) == 0) {
				int o = 0;
				for (k = 0; k <= depth && o < (int)sizeof w->why - 1; k++)
					o += snprintf(w->why + o, sizeof w->why - o, "%s%s -> ", k ? "" : "alias loop: ", path[k]);
				if (o < (int)sizeof w->why - 1)
					snprintf(w->why + o, sizeof w->why - o, "%s", self);
				r = -2;
				goto out;
			}
		if (depth + 1 >= CONF_ALIAS_DEPTH) {
			snprintf(w->why, sizeof w->why, "aliases nest deeper than %d names (from %s)",
			         CONF_ALIAS_DEPTH, path[0]);
			r = -2;
			goto out;
		}
		strcpy(path[depth + 1], self);
		r = walk(w, path, depth + 1);
		if (r < 0)
			goto out;
		if (r == 0) { /* a local name without an alias: as it is */
			snprintf(t, sizeof t, "%s@%s", self, w->host);
			if ((r = w->emit(w->ctx, t)) < 0)
				goto out;
		}
	}
	r = 1;
out:
	buf_free(&v);
	return r;
}

int conf_alias_expand(struct conf_alias_walk *w, const char *name)
{
	char path[CONF_ALIAS_DEPTH][CONF_ALIAS_NAME_MAX + 1];
	w->why[0] = 0;
	if (strlen(name) > CONF_ALIAS_NAME_MAX)
		return 0;
	strcpy(path[0], name);
	return walk(w, path, 0);
}
