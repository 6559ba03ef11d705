/* The configuration relay-send runs with (sendconf.h): etc/ tables,
 * pools and their limits, retry schedules, settings, the reply
 * classification and relay-health's marks, all in struct sendconf. */
#include "send/sendconf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/evlog.h"
#include "net/dns.h"
#include "send/shaping.h"

static void conf_must(struct conf *t, const char *home, const char *table)
{
	if (conf_open(t, home, table) < 0)
		die_sys(EXIT_TEMP, "unable to open etc/%s.cdb", table);
}

static void settings_fail(void)
{
	die_sys(EXIT_TEMP, "unable to read etc/settings.cdb");
}

/* A numeric setting (durations in seconds). A value relay-config would
 * not have written counts as 0, as it always has; a settings table that
 * cannot be read is fatal. */
static unsigned long number(const char *home, const char *key)
{
	unsigned long v = 0;
	int r = conf_setting_number(home, key, &v);
	if (r < 0) {
		/* unreadable, or not a number: only the first is fatal */
		struct buf b = BUF_INIT;
		if (conf_setting_value(home, key, &b) < 0)
			settings_fail();
		buf_free(&b);
		return 0;
	}
	return r == 1 ? v : 0;
}

static void limits_for(struct sendconf *c, struct member_state *ms, const struct conf_member *cm)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	struct conf_limits l;
	char err[256];
	ms->limit = 0;
	if (cm->mx)
		return;
	buf_printf(&k, "%s:%u", cm->host, cm->port);
	shape_bucket_set(&ms->bucket, 0, 0);
	if (conf_get(&c->limits, k.p, &v) == 1 && conf_parse_limits(v.p, &l, err, sizeof err) == 0) {
		ms->limit = l.concurrency;
		shape_bucket_set(&ms->bucket, l.rate, (double)l.rate_per);   /* shape.h's bucket */
	}
	buf_free(&k);
	buf_free(&v);
}

/* The pools of etc/pools.cdb; members that are still there keep their
 * cooling state. */
static void load_pools(struct sendconf *c)
{
	struct conf pools;
	struct buf k = BUF_INIT, v = BUF_INIT;
	struct pool_state *old = NULL;
	size_t nold = c->npools, i, j;
	char err[256];
	int r;

	if (nold && !(old = malloc(nold * sizeof *old)))
		die(EXIT_TEMP, "out of memory");
	if (nold)
		memcpy(old, c->pools, nold * sizeof *old);
	conf_must(&pools, c->home, "pools");
	c->npools = 0;
	conf_rewind(&pools);
	while ((r = conf_each(&pools, &k, &v)) == 1) {
		struct conf_pool cp;
		struct pool_state *p;
		if (c->npools >= POOLS_MAX) {
			warn_("more than %d pools; the rest are ignored", POOLS_MAX);
			break;
		}
		p = &c->pools[c->npools];
		if (conf_parse_pool(v.p, &cp, err, sizeof err) < 0) {
			warn_("etc/pools.cdb: pool %s: %s", k.p, err);
			continue;
		}
		pool_init(p, k.p, &cp);
		for (j = 0; j < nold; j++) {
			size_t a, b;
			if (strcmp(old[j].name, k.p))
				continue;
			for (a = 0; a < cp.n; a++)
				for (b = 0; b < old[j].cfg.n; b++)
					if (cp.m[a].mx == old[j].cfg.m[b].mx && cp.m[a].port == old[j].cfg.m[b].port &&
					    !strcmp(cp.m[a].host, old[j].cfg.m[b].host))
						p->ms[a] = old[j].ms[b];
		}
		for (i = 0; i < cp.n; i++)
			limits_for(c, &p->ms[i], &cp.m[i]);
		c->npools++;
	}
	if (r < 0)
		die_sys(EXIT_TEMP, "unable to read etc/pools.cdb");
	conf_close(&pools);
	free(old);
	buf_free(&k);
	buf_free(&v);
}

static void load_settings(struct sendconf *c)
{
	struct buf v = BUF_INIT;
	int r = conf_setting_value(c->home, "helo", &v);
	if (r < 0)
		settings_fail();
	snprintf(c->helo, sizeof c->helo, "%s", r ? v.p : "");
	c->dns_config[0] = 0;
	if ((r = conf_setting_value(c->home, "dns_config", &v)) < 0)
		settings_fail();
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
	buf_free(&v);
	c->delay_warn = number(c->home, "bounce_delay_warning");
	c->timeout_ms = (int)(number(c->home, "smtp_timeout") * 1000);
}

void sendconf_load(struct sendconf *c)
{
	struct conf_pool direct = {0};
	char cerr[256];

	conf_close(&c->routes); conf_close(&c->tls); conf_close(&c->auth);
	conf_close(&c->limits); conf_close(&c->retry);
	conf_must(&c->routes, c->home, "routes");
	conf_must(&c->tls, c->home, "tls");
	conf_must(&c->auth, c->home, "auth");
	conf_must(&c->limits, c->home, "limits");
	conf_must(&c->retry, c->home, "retry");
	load_pools(c);
	shaping_load(c);   /* traffic shaping: etc/limits into c->shape */
	direct.strategy = CONF_FAILOVER;
	direct.n = 1;
	direct.m[0].mx = 1;
	direct.m[0].weight = 1;
	if (c->direct.cfg.n == 0)
		pool_init(&c->direct, "(direct)", &direct);

	load_settings(c);
	classify_table_free(&c->cls);
	if (classify_load_home(&c->cls, c->home, cerr, sizeof cerr) < 0)
		warn_("etc/classify: %s; using the built-in rules", errno ? strerror(errno) : cerr);
	c->health_at = 0;   /* look at state/health again now */
}

void sendconf_free(struct sendconf *c)
{
	/* traffic shaping: the last counts, then the state */
	if (c->shape_loaded && c->shape.dirty && shape_save(&c->shape, c->home) < 0)
		warn_sys("unable to write %s/%s", c->home, SHAPE_FILE);
	shape_free(&c->shape);
	c->shape_loaded = 0;
	if (c->shape_dns)
		dns_free(c->shape_dns);
	c->shape_dns = NULL;
	conf_close(&c->routes); conf_close(&c->tls); conf_close(&c->auth);
	conf_close(&c->limits); conf_close(&c->retry);
	classify_table_free(&c->cls);
	health_free(&c->health);
}

int sendconf_workers(const struct sendconf *c, int asked)
{
	unsigned long n = asked > 0 ? (unsigned long)asked : number(c->home, "concurrency");
	if (n == 0)
		n = 20;
	return n > 1000 ? 1000 : (int)n;
}

void sendconf_retry(struct sendconf *c, const char *class, struct conf_retry *r)
{
	struct buf v = BUF_INIT;
	char err[256];
	struct conf *t = &c->retry;
	if (conf_get(t, class, &v) == 1 && conf_parse_retry(class, v.p, r, err, sizeof err) == 0) {
		buf_free(&v);
		return;
	}
	buf_free(&v);
	if (conf_get(t, "default", &v) == 1 && conf_parse_retry("default", v.p, r, err, sizeof err) == 0) {
		buf_free(&v);
		return;
	}
	buf_free(&v);
	conf_retry_builtin(class, r);
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
 * on a probe's word alone. */
void sendconf_health_refresh(struct sendconf *c)
{
	char path[PATH_MAX], key[CONF_HOST_MAX + 8];
	struct stat st;
	time_t now = time(NULL);
	size_t p, i;
	if (now == c->health_at)
		return;
	c->health_at = now;
	snprintf(path, sizeof path, "%s/%s", c->home, HEALTH_FILE);
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			warn_sys("unable to stat %s", path);
		health_free(&c->health);
		c->health_inode = 0;
	} else if (st.st_ino != c->health_inode || st.st_mtim.tv_sec != c->health_mtime.tv_sec ||
		   st.st_mtim.tv_nsec != c->health_mtime.tv_nsec) {
		if (health_read(c->home, &c->health) < 0) {
			warn_sys("unable to read %s; ignored", path);
			health_free(&c->health);
		}
		c->health_inode = st.st_ino;
		c->health_mtime = st.st_mtim;
	}
	for (p = 0; p < c->npools; p++) {
		struct pool_state *ps = &c->pools[p];
		size_t relays = 0, down = 0;
		for (i = 0; i < ps->cfg.n; i++) {
			const struct conf_member *cm = &ps->cfg.m[i];
			int d = 0;
			if (!cm->mx) {
				snprintf(key, sizeof key, "%s:%u", cm->host, cm->port);
				conf_lower(key);
				d = health_member_down(&c->health, ps->name, key, now);
				relays++;
				down += d > 0;
			}
			if ((d > 0) != ps->ms[i].health_down) {
				ev_begin(d > 0 ? "member_down" : "member_up");
				ev_str("pool", ps->name);
				ev_str("relay", cm->mx ? "mx" : key);
				ev_str("source", "relay-health");
				ev_end();
			}
			ps->ms[i].down = ps->ms[i].health_down = d > 0;
		}
		if (relays && down == relays)
			for (i = 0; i < ps->cfg.n; i++)
				ps->ms[i].down = 0;
	}
}
