/* relay-config's checks across lines and tables: duplicate keys, routes
 * to missing pools, settings for relays no pool has; and the form of
 * every error and warning it reports. */
#include "conf/conf.h"
#include "conf/confmake.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"

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

void conf_error_at(struct run *run, const char *table, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error", table, line, fmt, ap);
	va_end(ap);
	run->errors++;
}

void conf_warn_at(struct run *run, const char *table, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning", table, line, fmt, ap);
	va_end(ap);
	run->warnings++;
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

int conf_check_duplicates(struct run *run, int ti)
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
				conf_error_at(run, t->name, b->line, "duplicate key \"%.200s\" (first on line %u)",
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
				conf_error_at(run, t->name, b->line, "duplicate selector \"%.*s\" for %.200s (first on line %u)",
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

/* ---- issue 11: etc/aliases expands without a loop, within the depth
 * limit, by the walk the intake runs (conf/alias.c) */
static int alias_lookup(void *ctx, const char *name, struct buf *val)
{
	const struct table *t = ctx;
	size_t i;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->r[i].key, name) == 0) {
			val->len = 0;
			return buf_adds(val, t->r[i].val) < 0 ? -1 : 1;
		}
	return 0;
}

static int alias_emit(void *ctx, const char *addr)
{
	return 0;
}

static int aliases_check(struct run *run)
{
	const struct table *t = &run->t[T_ALIASES];
	char host[CONF_HOST_MAX + 1] = "";
	size_t i;
	for (i = 0; i < run->t[T_SETTINGS].n; i++)
		if (strcmp(run->t[T_SETTINGS].r[i].key, "hostname") == 0)
			snprintf(host, sizeof host, "%s", run->t[T_SETTINGS].r[i].val);
	if (!host[0] && gethostname(host, sizeof host) < 0)
		host[0] = 0;
	host[sizeof host - 1] = 0;
	for (i = 0; i < t->n; i++) {
		struct conf_alias_walk w = { alias_lookup, alias_emit, (void *)t, host, "" };
		int r = conf_alias_expand(&w, t->r[i].key);
		if (r == -1)
			return -1;
		if (r == -2)
			conf_error_at(run, "aliases", t->r[i].line, "%s", w.why);
	}
	return 0;
}

int conf_cross_checks(struct run *run)
{
	struct table *routes = &run->t[T_ROUTES];
	struct buf members = BUF_INIT, k = BUF_INIT;
	static const int hosted[] = { T_AUTH, T_TLS, T_LIMITS };
	size_t i, j;
	for (i = 0; i < routes->n; i++)
		if (!has_key(&run->t[T_POOLS], routes->r[i].val))
			conf_error_at(run, "routes", routes->r[i].line, "no pool \"%.64s\" in etc/pools",
			         routes->r[i].val);
	if (routes->n && !has_key(routes, "default"))
		conf_warn_at(run, "routes", 0, "no default route: mail that matches no route "
		        "is delivered directly to the recipient's MX");
	if (pool_members(run, &members) < 0)
		goto oom;
	for (i = 0; i < 3; i++) {
		struct table *t = &run->t[hosted[i]];
		for (j = 0; j < t->n; j++) {
			const char *key = t->r[j].key;
			if (hosted[i] == T_AUTH && strncmp(key, "from:", 5) == 0) {
				/* a sender's account: any relay, or the one after '/' */
				const char *sl = strchr(strrchr(key, '@'), '/');
				if (!sl)
					continue;
				key = sl + 1;
			}
			if (!strchr(key, ':') || (key[0] == '[' && !strstr(key, "]:")))
				continue; /* a recipient domain, not a relay */
			k.len = 0;
			if (buf_printf(&k, "\n%s\n", key) < 0)
				goto oom;
			if (!strstr(members.p, k.p))
				conf_warn_at(run, t->name, t->r[j].line, "%.200s is not a member of any pool", key);
		}
	}
	if (aliases_check(run) < 0)
		goto oom;
	buf_free(&members);
	buf_free(&k);
	return 0;
oom:
	buf_free(&members);
	buf_free(&k);
	errno = ENOMEM;
	return -1;
}
