/* The configuration relay-send runs with (sendconf.h): etc/ tables,
 * pools and their limits, retry schedules, settings, the reply
 * classification and relay-health's marks, all in struct sendconf. */
#include "send/sendconf.h"
#include "send/source.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/evlog.h"
#include "net/dns.h"
#include "send/qindex.h"
#include "send/shaping.h"

/* Everything below builds a new configuration aside and reports a
 * failure in err (0, or -1): nothing dies here, so that a reload that
 * fails leaves the daemon on its old configuration. */
static int fail(char *err, size_t cap, const char *fmt, const char *what, int e)
{
	snprintf(err, cap, fmt, what, e ? strerror(e) : "not a table of this format");
	return -1;
}

static int table(struct conf *t, const char *home, const char *name, char *err, size_t cap)
{
	if (conf_open(t, home, name) < 0)
		return fail(err, cap, "unable to open etc/%s.cdb: %s", name, errno);
	return 0;
}

/* A numeric setting (durations in seconds) into *v. A value relay-config
 * would not have written counts as 0, as it always has; a settings table
 * that cannot be read is an error. */
static int number(const char *home, const char *key, unsigned long *out, char *err, size_t cap)
{
	unsigned long v = 0;
	int r = conf_setting_number(home, key, &v);
	*out = 0;
	if (r < 0) {
		/* unreadable, or not a number: only the first is an error */
		struct buf b = BUF_INIT;
		int e;
		r = conf_setting_value(home, key, &b);
		e = errno;
		buf_free(&b);
		if (r < 0)
			return fail(err, cap, "unable to read etc/%s.cdb: %s", "settings", e);
		return 0;
	}
	*out = r == 1 ? v : 0;
	return 0;
}

/* A member's own limits: none. A relay's concurrency= and rate= are kept
 * once per destination "host:port" in c->shape (shaping_load), so a
 * relay that is a member of two pools has one session count and one
 * token bucket (issue 12); pool.h's per-member limit stays 0. */
static void limits_for(struct member_state *ms)
{
	ms->limit = 0;
	shape_bucket_set(&ms->bucket, 0, 0);
}

/* etc/limits reads to the end: a reload that cannot read it fails and
 * keeps the old tables (shaping_load, after the swap, would die). */
static int limits_read(struct sendconf *n, char *err, size_t cap)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	int r, e;
	conf_rewind(&n->limits);
	while ((r = conf_each(&n->limits, &k, &v)) == 1)
		;
	e = errno;
	buf_free(&k);
	buf_free(&v);
	if (r < 0)
		return fail(err, cap, "unable to read etc/%s.cdb: %s", "limits", e);
	return 0;
}

/* The pools of etc/pools.cdb into n; members that are still in old keep
 * their cooling state. */
static int load_pools(struct sendconf *n, const struct sendconf *old, char *err, size_t cap)
{
	struct conf pools;
	struct buf k = BUF_INIT, v = BUF_INIT;
	size_t i, j;
	char perr[256];
	int r, e;

	if (table(&pools, n->home, "pools", err, cap) < 0)
		return -1;
	n->npools = 0;
	conf_rewind(&pools);
	while ((r = conf_each(&pools, &k, &v)) == 1) {
		struct conf_pool cp;
		struct pool_state *p;
		if (n->npools >= POOLS_MAX) {
			warn_("more than %d pools; the rest are ignored", POOLS_MAX);
			break;
		}
		p = &n->pools[n->npools];
		if (conf_parse_pool(v.p, &cp, perr, sizeof perr) < 0) {
			warn_("etc/pools.cdb: pool %s: %s", k.p, perr);
			continue;
		}
		pool_init(p, k.p, &cp);
		for (j = 0; old && j < old->npools; j++) {
			size_t a, b;
			const struct pool_state *op = &old->pools[j];
			if (strcmp(op->name, k.p))
				continue;
			for (a = 0; a < cp.n; a++)
				for (b = 0; b < op->cfg.n; b++)
					if (cp.m[a].mx == op->cfg.m[b].mx && cp.m[a].port == op->cfg.m[b].port &&
					    !strcmp(cp.m[a].host, op->cfg.m[b].host))
						p->ms[a] = op->ms[b];
		}
		for (i = 0; i < cp.n; i++)
			limits_for(&p->ms[i]);
		n->npools++;
	}
	e = errno;
	conf_close(&pools);
	buf_free(&k);
	buf_free(&v);
	if (r < 0)
		return fail(err, cap, "unable to read etc/%s.cdb: %s", "pools", e);
	return 0;
}

static int load_settings(struct sendconf *c, char *err, size_t cap)
{
	struct buf v = BUF_INIT;
	unsigned long n;
	int r = conf_setting_value(c->home, "helo", &v);
	if (r < 0)
		goto bad;
	snprintf(c->helo, sizeof c->helo, "%s", r ? v.p : "");
	c->dns_config[0] = 0;
	if ((r = conf_setting_value(c->home, "dns_config", &v)) < 0)
		goto bad;
	if (r) {
		snprintf(c->dns_config, sizeof c->dns_config, "%s", v.p);
		if (c->dns_config[0] != '/') {
			struct buf p = BUF_INIT;
			if (conf_path(c->home, c->dns_config, &p) == 0 && p.len < sizeof c->dns_config)
				memcpy(c->dns_config, p.p, p.len + 1);
			else
				warn_("dns_config: file name too long");
			buf_free(&p);
		}
	}
	c->sts_ca[0] = 0;
	if ((r = conf_setting_value(c->home, "mta_sts_ca", &v)) < 0)
		goto bad;
	if (r) {
		struct buf p = BUF_INIT;
		if (conf_path(c->home, v.p, &p) == 0 && p.len < sizeof c->sts_ca)
			memcpy(c->sts_ca, p.p, p.len + 1);
		else
			warn_("mta_sts_ca: file name too long");
		buf_free(&p);
	}
	buf_free(&v);
	if (number(c->home, "mta_sts", &n, err, cap) < 0)
		return -1;
	c->sts_dir[0] = 0;
	if (n && snprintf(c->sts_dir, sizeof c->sts_dir, "%s/state/mta-sts", c->home) >= (int)sizeof c->sts_dir)
		c->sts_dir[0] = 0;
	if (number(c->home, "bounce_delay_warning", &c->delay_warn, err, cap) < 0 ||
	    number(c->home, "smtp_timeout", &n, err, cap) < 0)
		return -1;
	c->timeout_ms = (int)(n * 1000);
	return 0;
bad:
	r = errno;
	buf_free(&v);
	return fail(err, cap, "unable to read etc/%s.cdb: %s", "settings", r);
}

static void close_tables(struct sendconf *c)
{
	conf_close(&c->routes); conf_close(&c->tls); conf_close(&c->auth);
	conf_close(&c->limits); conf_close(&c->retry); conf_close(&c->source);
}

int sendconf_reload(struct sendconf *c, char *err, size_t cap)
{
	struct conf_pool direct = {0};
	struct sendconf *n = calloc(1, sizeof *n);
	char cerr[256];

	if (!n) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	n->home = c->home;
	n->routes.fd = n->tls.fd = n->auth.fd = n->limits.fd = n->retry.fd = n->source.fd = -1;
	if (table(&n->routes, n->home, "routes", err, cap) < 0 ||
	    table(&n->tls, n->home, "tls", err, cap) < 0 ||
	    table(&n->auth, n->home, "auth", err, cap) < 0 ||
	    table(&n->limits, n->home, "limits", err, cap) < 0 ||
	    limits_read(n, err, cap) < 0 ||
	    table(&n->retry, n->home, "retry", err, cap) < 0 ||
	    table(&n->source, n->home, "source", err, cap) < 0 ||
	    load_pools(n, c, err, cap) < 0 || load_settings(n, err, cap) < 0) {
		close_tables(n);
		free(n);
		return -1;
	}
	if (classify_load_home(&n->cls, n->home, cerr, sizeof cerr) < 0)
		warn_("etc/classify: %s; using the built-in rules", errno ? strerror(errno) : cerr);

	/* all read: the swap (the tables are in memory, a struct copy moves them) */
	close_tables(c);
	c->routes = n->routes; c->tls = n->tls; c->auth = n->auth;
	c->limits = n->limits; c->retry = n->retry; c->source = n->source;
	memcpy(c->pools, n->pools, n->npools * sizeof *n->pools);
	c->npools = n->npools;
	memcpy(c->helo, n->helo, sizeof c->helo);
	memcpy(c->dns_config, n->dns_config, sizeof c->dns_config);
	memcpy(c->sts_dir, n->sts_dir, sizeof c->sts_dir);
	memcpy(c->sts_ca, n->sts_ca, sizeof c->sts_ca);
	c->delay_warn = n->delay_warn;
	c->timeout_ms = n->timeout_ms;
	classify_table_free(&c->cls);
	c->cls = n->cls;
	free(n);
	shaping_load(c);   /* traffic shaping: etc/limits into c->shape (in memory now) */
	direct.strategy = CONF_FAILOVER;
	direct.n = 1;
	direct.m[0].mx = 1;
	direct.m[0].weight = 1;
	if (c->direct.cfg.n == 0)
		pool_init(&c->direct, "(direct)", &direct);
	c->health_at = 0;   /* look at state/health again now */
	return 0;
}

void sendconf_load(struct sendconf *c)
{
	char err[512];
	if (sendconf_reload(c, err, sizeof err) < 0)
		die(EXIT_TEMP, "%s", err);
	source_check(c);   /* issue 15: FCrDNS of etc/source's helo names, warnings only */
}

void sendconf_free(struct sendconf *c)
{
	/* traffic shaping: the last counts, then the state */
	if (c->shape_loaded && c->shape.dirty && shape_save(&c->shape, c->home, qindex_clock(), time(NULL)) < 0)
		warn_sys("unable to write %s/%s", c->home, SHAPE_FILE);
	if (c->shape_loaded)
		sitedns_stop(&c->sitedns);
	shape_free(&c->shape);
	c->shape_loaded = 0;
	if (c->shape_dns)
		dns_free(c->shape_dns);
	c->shape_dns = NULL;
	close_tables(c);
	classify_table_free(&c->cls);
	health_free(&c->health);
	health_free(&c->cluster_health);   /* issue 16 share */
}

int sendconf_workers(const struct sendconf *c, int asked)
{
	unsigned long n = (unsigned long)asked;
	char err[512];
	if (asked <= 0 && number(c->home, "concurrency", &n, err, sizeof err) < 0)
		die(EXIT_TEMP, "%s", err);
	if (n == 0)
		n = 20;
	return n > 1000 ? 1000 : (int)n;
}

int sendconf_retry(struct sendconf *c, const char *class, struct conf_retry *r)
{
	struct buf v = BUF_INIT;
	char err[256];
	struct conf *t = &c->retry;
	const char *keys[2] = {class, "default"};
	int i, g;
	for (i = 0; i < 2; i++) {
		g = conf_get(t, keys[i], &v);
		if (g < 0) {
			/* never "not configured": the built-in pace, no end of life */
			warn_sys("unable to read etc/retry.cdb (class %s); mail is retried and never expired until it reads", class);
			buf_free(&v);
			conf_retry_builtin(class, r);
			r->lifetime = CONF_DURATION_MAX;
			return -1;
		}
		if (g == 1 && conf_parse_retry(keys[i], v.p, r, err, sizeof err) == 0) {
			buf_free(&v);
			return 0;
		}
	}
	buf_free(&v);
	conf_retry_builtin(class, r);
	return 0;
}

struct pool_state *sendconf_pool(struct sendconf *c, int i)
{
	return i == POOL_DIRECT ? &c->direct : &c->pools[i];
}

int sendconf_pool_find(const struct sendconf *c, const char *name, int *i)
{
	size_t k;
	for (k = 0; k < c->npools; k++)
		if (strcmp(c->pools[k].name, name) == 0) {
			*i = (int)k;
			return 1;
		}
	return 0;
}

enum sendconf_route sendconf_route(struct sendconf *c, const char *sender, const char *class,
                                   const char *domain, int *pool)
{
	struct buf name = BUF_INIT;
	enum sendconf_route k;
	int r = conf_route(&c->routes, sender, class, domain, &name);
	*pool = POOL_DIRECT;
	if (r < 0)
		k = ROUTE_ERROR;
	else if (r == 0)
		k = ROUTE_DIRECT;
	else
		k = sendconf_pool_find(c, name.p, pool) ? ROUTE_POOL : ROUTE_UNKNOWN;
	buf_free(&name);
	return k;
}

/* Stale data (health_member_down) counts for nothing, so passive cooling
 * is all that applies then. If every relay of a pool would be down, none
 * is: relay-send then trusts its own cooling, rather than hold mail back
 * on a probe's word alone.
 *
 * The file is looked at on every call (a stat), so that a verdict written
 * a moment ago applies to the very next pick, however recently the loop
 * last came by; the marks are worked out again when it changed, and once
 * a second besides (a verdict goes stale with time, and the cluster's
 * verdicts change without the file). */
void sendconf_health_refresh(struct sendconf *c)
{
	char path[PATH_MAX], key[CONF_HOST_MAX + 8];
	struct stat st;
	time_t now = time(NULL);
	size_t p, i;
	int changed = 0;
	snprintf(path, sizeof path, "%s/%s", c->home, HEALTH_FILE);
	/* A file that cannot be read is not "every member up": the last marks
	 * stay (they go stale on their own, health_member_down). Only a file
	 * that is gone clears them. */
	if (stat(path, &st) < 0) {
		if (errno != ENOENT) {
			if (c->health_inode != (ino_t)-1)
				warn_sys("unable to stat %s; the last marks stay", path);
			c->health_inode = (ino_t)-1;
		} else if (c->health_inode != 0) {
			health_free(&c->health);
			c->health_inode = 0;
			changed = 1;
		}
	} else if (st.st_ino != c->health_inode || st.st_mtim.tv_sec != c->health_mtime.tv_sec ||
		   st.st_mtim.tv_nsec != c->health_mtime.tv_nsec) {
		struct health_state nh;
		memset(&nh, 0, sizeof nh);
		if (health_read(c->home, &nh) < 0) {
			warn_sys("unable to read %s; the last marks stay", path);
			health_free(&nh);
		} else {
			health_free(&c->health);
			c->health = nh;
			changed = 1;
		}
		c->health_inode = st.st_ino;
		c->health_mtime = st.st_mtim;
	}
	if (!changed && now == c->health_at)
		return;
	c->health_at = now;
	for (p = 0; p < c->npools; p++) {
		struct pool_state *ps = &c->pools[p];
		size_t relays = 0, down = 0;
		for (i = 0; i < ps->cfg.n; i++) {
			const struct conf_member *cm = &ps->cfg.m[i];
			int d = 0;
			const char *src = "relay-health";
			if (!cm->mx) {
				snprintf(key, sizeof key, "%s:%u", cm->host, cm->port);
				conf_lower(key);
				d = health_member_down(&c->health, ps->name, key, now);
				/* issue 16 share: a member this node's status does not
				 * cover takes the other nodes' verdict */
				if (!health_fresh(&c->health, now) || !health_find(&c->health, ps->name, key)) {
					src = "cluster";
					d = health_member_down(&c->cluster_health, ps->name, key, now);
				}
				relays++;
				down += d > 0;
			}
			if ((d > 0) != ps->ms[i].health_down) {
				/* events: a log line only; relay-health records the change */
				ev_begin_log(d > 0 ? "member_down" : "member_up");
				ev_str("pool", ps->name);
				ev_str("relay", cm->mx ? "mx" : key);
				ev_str("source", src);   /* issue 16 share: or cluster */
				ev_end();
			}
			ps->ms[i].down = ps->ms[i].health_down = d > 0;
		}
		if (relays && down == relays)
			for (i = 0; i < ps->cfg.n; i++)
				ps->ms[i].down = 0;
	}
}

int sendconf_source(struct sendconf *c, const char *key, struct conf_source *s,
                    char *err, size_t cap)
{
	struct buf v = BUF_INIT;
	int r = conf_get(&c->source, key, &v);
	memset(s, 0, sizeof *s);
	if (r < 0) {
		snprintf(err, cap, "unable to read etc/source.cdb: %s", strerror(errno));
	} else if (r == 1 && conf_parse_source(v.p, s, err, cap) < 0) {
		errno = EINVAL;
		r = -1;
	}
	buf_free(&v);
	return r;
}
