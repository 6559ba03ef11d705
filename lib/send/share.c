/* issue 16 share: the suppression list and relay-health's verdicts
 * across the nodes (share.h). */
#include "send/share.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "base/evlog.h"
#include "conf/settings.h"
#include "send/csuppress.h"
#include "send/qindex.h"
#include "send/redis.h"
#include "send/share_parse.h"

struct verdict {
	struct health_entry e;
	char node[SHARE_NODE_MAX + 1];
	time_t when;
	long interval;
};

struct share {
	const char *home;
	char node[SHARE_NODE_MAX + 1];
	char shown[REDIS_URL_MAX + 16];
	struct rconn r;
	struct csuppress cs;
	double next, retry_at;      /* qindex_clock() */
	int unreachable;            /* logged once */
	time_t published;           /* WHEN of the local status last published */
	struct verdict *v;          /* the others', as last read */
	size_t nv;
};

struct share *share_new(const char *home)
{
	struct buf url = BUF_INIT, node = BUF_INIT;
	struct redis_url u;
	struct share *sh = NULL;
	char err[256];
	int r = conf_setting_value(home, "shared", &url);
	if (r < 0 || (r == 1 && url.len && conf_setting_value(home, "hostname", &node) < 0))
		warn_sys("unable to read etc/settings.cdb: the suppression list and health verdicts stay local");
	else if (r == 1 && url.len && redis_url_parse(url.p, &u, err, sizeof err) < 0)
		warn_("setting shared: %s", err);
	else if (r == 1 && url.len && !(sh = calloc(1, sizeof *sh)))
		warn_("out of memory: the suppression list and health verdicts stay local");
	else if (sh) {
		sh->home = home;
		snprintf(sh->node, sizeof sh->node, "%s", node.len ? node.p : "relay");
		rconn_init(&sh->r, &u, SHARE_TIMEOUT_MS);
		redis_url_show(&u, sh->shown, sizeof sh->shown);
		csuppress_init(&sh->cs, home, sh->node);
	}
	buf_free(&url);
	buf_free(&node);
	return sh;
}

void share_free(struct share *sh)
{
	if (!sh)
		return;
	rconn_close(&sh->r);
	free(sh->v);
	free(sh);
}

int share_wait_ms(const struct share *sh)
{
	double d;
	if (!sh)
		return -1;
	d = sh->next - qindex_clock();
	return d <= 0 ? 0 : (int)(d * 1000) + 1;
}

static void unreachable(struct share *sh, const char *err, double now)
{
	rconn_close(&sh->r);
	sh->retry_at = now + SHARE_RETRY_S;
	if (sh->unreachable)
		return;
	sh->unreachable = 1;
	ev_begin_log("share");
	ev_str("state", "unreachable");
	ev_str("redis", sh->shown);
	ev_str("reason", err);
	ev_end();
}

/* This node's status, when fresh and not yet published, into the hash. */
static int publish(struct share *sh, const struct health_state *h, time_t wall, char *err, size_t cap)
{
	size_t i = 0;
	if (!health_fresh(h, wall) || h->when == sh->published)
		return 0;
	while (i < h->n) {
		struct buf f[30], v[30];
		const char *a[2 + 2 * 30];
		int k, argc = 2, rc = 0;
		redisReply *rep;
		a[0] = "HSET";
		a[1] = SHARE_HEALTH_KEY;
		for (k = 0; k < 30 && i < h->n; k++, i++) {
			f[k] = (struct buf)BUF_INIT;
			v[k] = (struct buf)BUF_INIT;
			if (share_health_format(&f[k], &v[k], &h->e[i], sh->node, h->when, h->interval) < 0 ||
			    buf_addc(&f[k], 0) < 0 || buf_addc(&v[k], 0) < 0)
				rc = -1;
			a[argc++] = f[k].p ? f[k].p : "";
			a[argc++] = v[k].p ? v[k].p : "";
		}
		rep = rc < 0 ? NULL : rconn_cmd(&sh->r, argc, a, err, cap);
		if (rc < 0)
			snprintf(err, cap, "out of memory");
		rconn_free(rep);
		while (k-- > 0) {
			buf_free(&f[k]);
			buf_free(&v[k]);
		}
		if (!rep)
			return -1;
	}
	sh->published = h->when;
	return 0;
}

/* The hash: the other nodes' verdicts, fresh or not (they are sorted out
 * at each rebuild). */
static int read_verdicts(struct share *sh, time_t wall, char *err, size_t cap)
{
	const char *a[2] = { "HGETALL", SHARE_HEALTH_KEY }, *del[2 + 32];
	redisReply *rep = rconn_cmd(&sh->r, 2, a, err, cap), *dr;
	size_t i;
	int nd = 2;
	if (!rep)
		return -1;
	sh->nv = 0;
	del[0] = "HDEL";
	del[1] = SHARE_HEALTH_KEY;
	for (i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
		struct verdict x;
		if (rep->element[i]->type != REDIS_REPLY_STRING || rep->element[i + 1]->type != REDIS_REPLY_STRING ||
		    share_health_parse(rep->element[i]->str, rep->element[i + 1]->str, &x.e, x.node, sizeof x.node,
		                       &x.when, &x.interval) < 0)
			continue;
		if (x.when + SHARE_HEALTH_FORGET_S < wall && nd < 2 + 32)
			del[nd++] = rep->element[i]->str;   /* a member no node has probed for a day */
		if (!strcmp(x.node, sh->node) || !share_health_fresh(x.when, x.interval, wall))
			continue;
		if (sh->nv % 64 == 0) {
			struct verdict *nvv;
			if (sh->nv >= SHARE_VERDICTS_MAX ||
			    !(nvv = realloc(sh->v, (sh->nv + 64) * sizeof *nvv)))
				break;
			sh->v = nvv;
		}
		sh->v[sh->nv++] = x;
	}
	dr = nd > 2 ? rconn_cmd(&sh->r, nd, del, err, cap) : NULL;
	rconn_free(rep);
	if (nd > 2 && !dr)
		return -1;
	rconn_free(dr);
	return 0;
}

/* c->cluster_health: the verdicts still fresh now, for sendconf (one
 * second of freshness of its own: the next tick rebuilds it). */
static void rebuild(struct share *sh, struct sendconf *c, time_t wall)
{
	size_t i;
	health_free(&c->cluster_health);
	for (i = 0; sh && i < sh->nv; i++)
		if (share_health_fresh(sh->v[i].when, sh->v[i].interval, wall) &&
		    health_add(&c->cluster_health, sh->v[i].e.pool, sh->v[i].e.member, sh->v[i].e.state,
		               sh->v[i].e.since, sh->v[i].e.reason) < 0)
			break;
	if (c->cluster_health.n) {
		c->cluster_health.when = wall;
		c->cluster_health.interval = 1;
	}
}

void share_tick(struct share *sh, struct sendconf *c)
{
	double now = qindex_clock();
	time_t wall = time(NULL);
	char err[256];
	if (!sh) {
		if (c->cluster_health.n)
			health_free(&c->cluster_health);
		return;
	}
	if (now < sh->next)
		return;
	sh->next = now + SHARE_TICK_S;
	if (!rconn_up(&sh->r) && now >= sh->retry_at) {
		if (rconn_open(&sh->r, err, sizeof err) < 0)
			unreachable(sh, err, now);
		else if (sh->unreachable) {
			sh->unreachable = 0;
			ev_begin_log("share");
			ev_str("state", "shared");
			ev_str("redis", sh->shown);
			ev_end();
		}
	}
	if (rconn_up(&sh->r)) {
		if (csuppress_tick(&sh->cs, &sh->r, wall, err, sizeof err) < 0 ||
		    publish(sh, &c->health, wall, err, sizeof err) < 0 || read_verdicts(sh, wall, err, sizeof err) < 0)
			unreachable(sh, err, now);
	}
	rebuild(sh, c, wall);
}

int share_show(const char *url, struct buf *out, char *err, size_t cap)
{
	struct rconn r;
	const char *xl[2] = { "XLEN", CSUPPRESS_KEY }, *hg[2] = { "HGETALL", SHARE_HEALTH_KEY };
	redisReply *rep;
	time_t now = time(NULL);
	size_t i;
	if (rconn_open_url(&r, url, 1000, err, cap) < 0)
		return -1;
	if (!(rep = rconn_cmd(&r, 2, xl, err, cap)))
		goto fail;
	buf_printf(out, "suppress stream %s entries=%lld\n", CSUPPRESS_KEY,
	           rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0LL);
	rconn_free(rep);
	xl[0] = "HLEN";   /* issue 16 sset: the set a new node refreshes from */
	xl[1] = CSUPPRESS_SET_KEY;
	if (!(rep = rconn_cmd(&r, 2, xl, err, cap)))
		goto fail;
	buf_printf(out, "suppress set %s entries=%lld\n", CSUPPRESS_SET_KEY,
	           rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0LL);
	rconn_free(rep);
	if (!(rep = rconn_cmd(&r, 2, hg, err, cap)))
		goto fail;
	for (i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
		struct health_entry e;
		char node[SHARE_NODE_MAX + 1];
		time_t when;
		long iv;
		if (rep->element[i]->type != REDIS_REPLY_STRING || rep->element[i + 1]->type != REDIS_REPLY_STRING ||
		    share_health_parse(rep->element[i]->str, rep->element[i + 1]->str, &e, node, sizeof node, &when,
		                       &iv) < 0)
			continue;
		buf_printf(out, "health %s %s %s since=%lld reason=%s node=%s when=%lld fresh=%s\n", e.pool, e.member,
		           health_state_name(e.state), (long long)e.since, e.reason, node, (long long)when,
		           share_health_fresh(when, iv, now) ? "yes" : "no");
	}
	rconn_free(rep);
	rconn_close(&r);
	return 0;
fail:
	rconn_close(&r);
	return -1;
}
