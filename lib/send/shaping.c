/* Traffic shaping for deliver.c (shaping.h): the keys of a transaction,
 * member choice with the shaping verdicts, counting, cooling by
 * destination, throttle rules, and state/shaping. */
#include "send/shaping.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/evlog.h"
#include "bounce/classify.h"
#include "net/dns.h"
#include "send/attempt.h"
#include "send/cluster.h"
#include "send/qindex.h"
#include "queue/queue.h"

#define SITE_TTL_S 3600.0   /* a domain's site (its MX hosts) is looked up again after this */
#define SAVE_EVERY_S 1      /* state/shaping at most once a second */

/* cluster (issue 16): setting shared, read at start-up and at each
 * reload (issue 16: HUP connects to a new Redis, or goes local). A URL
 * that does not parse is fatal at start-up (the limits would silently be
 * local); on a reload the old configuration stays. */
static void cluster_load(struct sendconf *c, int first)
{
	struct buf url = BUF_INIT, node = BUF_INIT;
	unsigned long nodes = 0;
	char err[256];
	int r;
	if (c->site_sync)
		return;   /* relay-qctl explain: this node's own view, no heartbeat */
	if ((r = conf_setting_value(c->home, "shared", &url)) < 0 ||
	    (r == 1 && url.len && (conf_setting_number(c->home, "shared_nodes", &nodes) < 0 ||
	                           conf_setting_value(c->home, "hostname", &node) < 0))) {
		if (first)
			die_sys(EXIT_TEMP, "unable to read etc/settings.cdb");
		warn_sys("unable to read etc/settings.cdb; setting shared stays as it was");
	} else if (cluster_configure(&c->shape, r == 1 && url.len ? url.p : "", node.len ? node.p : "relay",
	                             (unsigned)nodes, qindex_clock(), err, sizeof err) < 0) {
		if (first)
			die(EXIT_TEMP, "setting shared: %s", err);
		warn_("setting shared: %s; the old one stays", err);
	}
	buf_free(&url);
	buf_free(&node);
}

void shaping_cluster_tick(struct sendconf *c, unsigned long queued)
{
	if (c->shape_loaded && c->shape.cluster)
		cluster_tick(c->shape.cluster, &c->shape, qindex_clock(), time(NULL), queued);
}

void shaping_load(struct sendconf *c)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	char err[256];
	int r, first = !c->shape_loaded;
	if (!c->shape_loaded) {
		unsigned long bad = 0;
		shape_init(&c->shape);
		sitedns_init(&c->sitedns);
		if (shape_restore(&c->shape, c->home, qindex_clock(), time(NULL), &bad) < 0)
			warn_sys("unable to read %s/%s; quotas and ramps count from 0", c->home, SHAPE_FILE);
		else if (bad)
			warn_("%s/%s: %lu line(s) that do not parse, ignored (their counts, throttles "
			      "and cooling start from nothing)", c->home, SHAPE_FILE, bad);
		c->shape_loaded = 1;
	}
	shape_config_clear(&c->shape);
	conf_rewind(&c->limits);
	while ((r = conf_each(&c->limits, &k, &v)) == 1) {
		struct conf_limits l;
		if (conf_parse_limits(v.p, &l, err, sizeof err) < 0) {
			warn_("etc/limits.cdb: %s: %s", k.p, err);
			continue;
		}
		if (shape_config_add(&c->shape, k.p, &l) < 0)
			warn_("etc/limits.cdb: %s: more than %d sites, or out of memory; ignored", k.p, SHAPE_SITES_MAX);
	}
	if (r < 0)
		die_sys(EXIT_TEMP, "unable to read etc/limits.cdb");
	buf_free(&k);
	buf_free(&v);
	cluster_load(c, first);   /* issue 16: at every load, after the limits */
	if (c->shape.cluster)
		cluster_apply(c->shape.cluster, &c->shape);
}

#define SITE_ASK_AGAIN_S 10.0 /* a question not answered by then is asked again */

/* The site of one MX host list (index), or -1. */
static int site_of(const struct shape *s, char **hosts, size_t n)
{
	size_t i;
	int site = -1;
	for (i = 0; i < n && site < 0; i++)
		site = shape_site_match(s, hosts[i]);
	return site;
}

static void site_answer(void *ctx, const char *domain, char **hosts, size_t n)
{
	struct sendconf *c = ctx;
	struct shape_dest *d = shape_find(&c->shape, domain);
	if (!d)
		return;   /* dropped meanwhile: asked again when it is needed */
	d->site = site_of(&c->shape, hosts, n);
	d->site_at = qindex_clock();
	d->site_asked = 0;
}

/* The answers of the site lookups that came in (never blocks). */
static void sites_poll(struct sendconf *c)
{
	if (c->shape_loaded && c->sitedns.fd >= 0)
		sitedns_read(&c->sitedns, site_answer, c);
}

/* The site of domain from its MX hosts (cached SITE_TTL_S; a lookup that
 * fails counts as no site until the next one). relay-send asks its site
 * lookups' child (sitedns.h) and never waits in the loop: *pending is set
 * while a domain's first answer is out (its MX members wait, BUSY); an
 * expired answer is used while the new one is out. explain (site_sync)
 * looks up here. */
static int domain_site(struct sendconf *c, const char *domain, double now, int *pending)
{
	struct shape_dest *d;
	struct mx_list mx;
	char err[256];
	char *hosts[DNS_MX_MAX];
	size_t i;
	if (c->shape.nsites == 0)
		return -1;
	if (!(d = shape_dest(&c->shape, domain)))
		return -1;
	if (d->site != -2 && d->site_at + SITE_TTL_S > now)
		return d->site;
	if (!c->site_sync) {
		sites_poll(c);
		if (d->site != -2 && d->site_at + SITE_TTL_S > now)
			return d->site;
		if (!d->site_asked || d->site_asked + SITE_ASK_AGAIN_S <= now) {
			if (sitedns_ask(&c->sitedns, c->dns_config, domain) == 0)
				d->site_asked = now;
			else if (d->site == -2) {
				d->site = -1;      /* no lookup possible: no site this hour */
				d->site_at = now;
			}
		}
		if (d->site == -2 && pending)
			*pending = 1;
		return d->site == -2 ? -1 : d->site;
	}
	if (!c->shape_dns && !(c->shape_dns = dns_new(c->dns_config[0] ? c->dns_config : NULL, err, sizeof err))) {
		warn_("site lookup: %s", err);
		return -1;
	}
	d->site = -1;
	d->site_at = now;
	if (dns_mx(c->shape_dns, domain, &mx, err, sizeof err) == DNS_OK) {
		for (i = 0; i < mx.n; i++)
			hosts[i] = mx.h[i].name;
		d->site = site_of(&c->shape, hosts, mx.n);
	}
	return d->site;
}

/* shaping_keys, and whether the domain's site is still being looked up. */
static size_t keys_of(struct sendconf *c, const struct conf_member *cm, const char *domain, double now,
                      char keys[2][SHAPE_KEY_MAX], int *pending)
{
	int site;
	if (!cm->mx) {
		snprintf(keys[0], SHAPE_KEY_MAX, "%s:%u", cm->host, cm->port);
		conf_lower(keys[0]);
		return 1;
	}
	snprintf(keys[0], SHAPE_KEY_MAX, "%s", domain);
	conf_lower(keys[0]);
	if ((site = domain_site(c, keys[0], now, pending)) < 0)
		return 1;
	snprintf(keys[1], SHAPE_KEY_MAX, "site:%s", c->shape.sites[site].name);
	return 2;
}

size_t shaping_keys(struct sendconf *c, const struct conf_member *cm, const char *domain, double now,
                    char keys[2][SHAPE_KEY_MAX])
{
	return keys_of(c, cm, domain, now, keys, NULL);
}

/* The key throttles and cooling act on: the relay, or the domain's site
 * (every domain hosted there), else the domain. */
static const char *act_key(char keys[2][SHAPE_KEY_MAX], size_t n)
{
	return keys[n - 1];
}

struct pick_ctx {
	struct sendconf *c;
	struct pool_state *p;
	const char *domain;
	double now;
	time_t wall;
	const char *why;
};

static int veto(void *ctx, int i)
{
	struct pick_ctx *x = ctx;
	char keys[2][SHAPE_KEY_MAX];
	const char *k[2] = { keys[0], keys[1] }, *why = "";
	int pending = 0;
	size_t n = keys_of(x->c, &x->p->cfg.m[i], x->domain, x->now, keys, &pending);
	if (pending)
		return POOL_BUSY;   /* the site's limits are not known yet: soon */
	if (x->c->shape.cluster) {   /* cluster (issue 16): blocks from Redis first */
		size_t j;
		for (j = 0; j < n; j++) {
			struct shape_dest *d = shape_find(&x->c->shape, k[j]);
			if (d && d->shared)
				cluster_prepare(x->c->shape.cluster, &x->c->shape, d, x->now, x->wall);
		}
	}
	switch (shape_check(&x->c->shape, k, n, x->now, x->wall, &why)) {
	case SHAPE_OK:
		return POOL_OK;
	case SHAPE_BUSY:
		return POOL_BUSY;
	case SHAPE_SKIP:
		break;
	}
	x->why = why;
	return POOL_SKIP;
}

int shaping_pick(struct sendconf *c, struct pool_state *p, const char *domain, double now,
                 unsigned long tried, int *busy, const char **why)
{
	struct pick_ctx x = { c, p, domain, now, time(NULL), "" };
	int mi = pool_pick_veto(p, now, tried, busy, veto, &x);
	*why = mi < 0 ? x.why : "";
	return mi;
}

const char *shaping_defer_why(const char *why)
{
	if (!strcmp(why, "quota"))
		return "the quota of every member is spent";
	if (!strcmp(why, "ramp"))
		return "the warm-up ramp of every member is spent for today";
	if (!strcmp(why, "suspended"))
		return "every member is suspended (throttle)";
	if (!strcmp(why, "cooling"))
		return "the destination is cooling after a failure";
	return "no member of the pool is available";
}

void shaping_used(struct sendconf *c, struct pool_state *p, int mi, const char *domain, double now)
{
	char keys[2][SHAPE_KEY_MAX];
	const char *k[2] = { keys[0], keys[1] };
	size_t n = shaping_keys(c, &p->cfg.m[mi], domain, now, keys);
	struct shape_dest *d;
	pool_used(p, mi, now);
	shape_used(&c->shape, k, n, now, time(NULL));
	/* the release counts off the same site, whatever a lookup says then */
	if (p->cfg.m[mi].mx && (d = shape_find(&c->shape, keys[0])))
		snprintf(d->used_site, sizeof d->used_site, "%.*s", CONF_NAME_MAX, n == 2 ? keys[1] + 5 : "");
}

void shaping_released(struct sendconf *c, struct pool_state *p, int mi, const char *domain)
{
	char keys[2][SHAPE_KEY_MAX];
	const char *k[2] = { keys[0], keys[1] };
	size_t n = 1;
	if (p->cfg.m[mi].mx) {
		const struct shape_dest *d;
		snprintf(keys[0], SHAPE_KEY_MAX, "%s", domain);
		conf_lower(keys[0]);
		if ((d = shape_find(&c->shape, keys[0])) && d->used_site[0]) {
			snprintf(keys[1], SHAPE_KEY_MAX, "site:%s", d->used_site);
			n = 2;
		}
	} else
		n = shaping_keys(c, &p->cfg.m[mi], domain, qindex_clock(), keys);
	pool_released(p, mi);
	shape_released(&c->shape, k, n);
	shaping_tick(c);
}

double shaping_failed(struct sendconf *c, struct pool_state *p, int mi, const char *domain, double now)
{
	char key[SHAPE_KEY_MAX];
	if (!p->cfg.m[mi].mx) {
		pool_failed(p, mi, now);
		return p->ms[mi].cool_until;
	}
	/* one MX that does not answer cools its domain, not the mx member */
	snprintf(key, sizeof key, "%s", domain);
	conf_lower(key);
	return shape_failed(&c->shape, key, now);
}

void shaping_succeeded(struct sendconf *c, struct pool_state *p, int mi, const char *domain)
{
	char key[SHAPE_KEY_MAX];
	if (!p->cfg.m[mi].mx) {
		pool_succeeded(p, mi);
		return;
	}
	snprintf(key, sizeof key, "%s", domain);
	conf_lower(key);
	shape_succeeded(&c->shape, key);
}

void shaping_reply(struct sendconf *c, struct pool_state *p, int mi, const char *domain,
                   const struct smtp_result *r, double now)
{
	char keys[2][SHAPE_KEY_MAX];
	struct classify_result cr;
	char enh[CLASSIFY_ENH_MAX];
	size_t n;
	int code;
	const char *key, *rest;
	if (r->code / 100 == 2 || r->local)
		return;
	classify(&c->cls, r->code, r->enh, r->text, &cr);
	if (cr.throttle == CLASSIFY_THROTTLE_NONE)
		return;
	n = shaping_keys(c, &p->cfg.m[mi], domain, now, keys);
	key = act_key(keys, n);
	if (shape_throttle_hit(&c->shape, key, cr.throttle, cr.throttle_after, (double)cr.throttle_window,
	                       (double)cr.throttle_for, cr.throttle_conc, now)) {
		if (c->shape.cluster)   /* issue 16: the other nodes take it too */
			cluster_throttle(c->shape.cluster, &c->shape, key, r->code, r->text, now);
		ev_begin("throttle");
		ev_str("pool", p->name);
		ev_str("dest", key);
		ev_str("action", shape_throttle_name(cr.throttle));
		ev_num("for", (long long)cr.throttle_for);
		if (cr.throttle == CLASSIFY_THROTTLE_CONCURRENCY)
			ev_num("concurrency", (long long)cr.throttle_conc);
		classify_split_reply(r->text, &code, enh, &rest);
		ev_num("code", r->code);
		ev_str("dsn", r->enh[0] ? r->enh : enh[0] ? enh : "-");
		ev_str("reply", r->text);
		ev_end();
	}
}

int shaping_local_failover(const struct pool_state *p, unsigned long tried, int mi,
                           const struct smtp_result *r)
{
	size_t i;
	if (!r->local || r->code / 100 != 5 ||
	    (strcmp(r->enh, "5.6.7") && strcmp(r->enh, "5.6.3") && strcmp(r->enh, "5.3.4")))
		return 0;
	tried |= 1UL << mi;
	for (i = 0; i < p->cfg.n; i++)
		if (!(tried & (1UL << i)) && !p->ms[i].down)
			return 1;
	return 0;
}

double shaping_retry_due(struct sendconf *c, const struct attempt *a, double due)
{
	struct conf_retry rt;
	unsigned long best = 0, lo, hi;
	size_t i, k;
	for (i = 0; i < a->e.nrcpt; i++) {
		unsigned long h;
		if (a->st[i] != RS_PENDING || a->now[i] || a->err[i].code / 100 != 4)
			continue;
		h = shape_retry_hint(a->err[i].text);
		if (h && (!best || h < best))
			best = h;
	}
	if (!best)
		return due;
	sendconf_retry(c, a->e.class, &rt);
	for (lo = hi = rt.schedule[0], k = 1; k < rt.n; k++) {
		if (rt.schedule[k] < lo)
			lo = rt.schedule[k];
		if (rt.schedule[k] > hi)
			hi = rt.schedule[k];
	}
	if (best < lo)
		best = lo;
	if (best > hi)
		best = hi;
	return qindex_clock() + (double)best;
}

void shaping_tick(struct sendconf *c)
{
	time_t now;
	if (!c->shape_loaded || !c->shape.dirty)
		return;
	now = time(NULL);
	if (now - c->shape_saved < SAVE_EVERY_S)
		return;
	c->shape_saved = now;
	if (shape_save(&c->shape, c->home, qindex_clock(), now) < 0)
		warn_sys("unable to write %s/%s", c->home, SHAPE_FILE);
}

int shaping_cluster_wait_ms(struct sendconf *c)
{
	if (!c->shape_loaded || !c->shape.cluster)
		return -1;
	return cluster_wait_ms(c->shape.cluster, qindex_clock());
}
