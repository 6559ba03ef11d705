/* relay-qctl cluster: the nodes and the shared counters (send/cluster.h). */
#include "send/cluster.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "send/redis.h"

static int show_cmd(struct rconn *r, struct buf *out, int argc, const char **argv, redisReply **rep, char *err,
                    size_t cap)
{
	(void)out;
	*rep = rconn_cmd(r, argc, argv, err, cap);
	return *rep ? 0 : -1;
}

/* The counters of one SCAN pattern: "counter KEY VALUE" lines. */
static int show_counters(struct rconn *r, struct buf *out, const char *pattern, char *err, size_t cap)
{
	char cursor[32] = "0";
	do {
		const char *a[6] = { "SCAN", cursor, "MATCH", pattern, "COUNT", "500" };
		redisReply *rep;
		size_t i;
		if (show_cmd(r, out, 6, a, &rep, err, cap) < 0)
			return -1;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING ||
		    rep->element[1]->type != REDIS_REPLY_ARRAY) {
			rconn_free(rep);
			snprintf(err, cap, "SCAN: unexpected reply");
			return -1;
		}
		snprintf(cursor, sizeof cursor, "%.*s", (int)rep->element[0]->len, rep->element[0]->str);
		for (i = 0; i < rep->element[1]->elements; i++) {
			const redisReply *k = rep->element[1]->element[i];
			const char *g[2] = { "GET", k->str };
			redisReply *v;
			if (k->type != REDIS_REPLY_STRING)
				continue;
			if (!(v = rconn_cmd(r, 2, g, err, cap))) {
				rconn_free(rep);
				return -1;
			}
			if (v->type == REDIS_REPLY_STRING)
				buf_printf(out, "counter %s %.*s\n", k->str, (int)v->len, v->str);
			rconn_free(v);
		}
		rconn_free(rep);
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

int cluster_show(const char *url, struct buf *out, char *err, size_t cap)
{
	struct rconn r;
	char shown[REDIS_URL_MAX + 16];
	const char *z[5] = { "ZRANGE", "relay:nodes", "0", "-1", "WITHSCORES" };
	redisReply *rep;
	size_t i;
	if (rconn_open_url(&r, url, 1000, err, cap) < 0)
		return -1;
	redis_url_show(&r.url, shown, sizeof shown);
	buf_printf(out, "redis %s\n", shown);
	if (show_cmd(&r, out, 5, z, &rep, err, cap) < 0)
		goto fail;
	for (i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
		const redisReply *n = rep->element[i];
		char key[300];
		const char *h[2] = { "HGETALL", key };
		redisReply *hr;
		size_t j;
		if (n->type != REDIS_REPLY_STRING)
			continue;
		snprintf(key, sizeof key, "relay:node:%s", n->str);
		if (!(hr = rconn_cmd(&r, 2, h, err, cap))) {
			rconn_free(rep);
			goto fail;
		}
		buf_printf(out, "node %s", n->str);
		for (j = 0; hr->type == REDIS_REPLY_ARRAY && j + 1 < hr->elements; j += 2)
			if (hr->element[j]->type == REDIS_REPLY_STRING && hr->element[j + 1]->type == REDIS_REPLY_STRING)
				buf_printf(out, " %s=%s", hr->element[j]->str, hr->element[j + 1]->str);
		buf_adds(out, "\n");
		rconn_free(hr);
	}
	rconn_free(rep);
	if (show_counters(&r, out, "relay:quota:*", err, cap) < 0 || show_counters(&r, out, "relay:ramp:*", err, cap) < 0)
		goto fail;
	rconn_close(&r);
	return 0;
fail:
	rconn_close(&r);
	return -1;
}
