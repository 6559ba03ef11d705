/* lib/health/totals.c and lib/send/totrec.c (issue 13 totals): the
 * cumulative counts files: the parser refuses what is not exactly the
 * format, totals_add adds up and starts a damaged file again, relay-send's
 * batch counts per relay, pool and signing domain and writes on flush,
 * and totals_prom prints the counter families (a damaged file left out). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "base/fileio.h"
#include "health/totals.h"
#include "send/record.h"
#include "send/totrec.h"

static char home[256];

static int parse(enum totals_kind k, const char *s, struct totals *t)
{
	return totals_parse(k, s, strlen(s), t);
}

static void put(const char *rel, const char *text)
{
	char p[600];
	snprintf(p, sizeof p, "%s/state/counters/totals/%s", home, rel);
	CHECK(atomic_write(p, text, strlen(text), 0644) == 0);
}

int main(void)
{
	static const char *const bad[] = {
		"", "RT1\n", "RT1\n1 2 3\n", "RT1\n1 2 3 4", "RT1\n1 2 3 4 5\n", "RT1\n1 2 3 4\n\n",
		"RT2\n1 2 3 4\n", "RT1\n-1 2 3 4\n", "RT1\n+1 2 3 4\n", "RT1\n 1 2 3 4\n", "RT1\n1  2 3 4\n",
		"RT1\n1 2 3 18446744073709551616\n", "RT1\n1 2 3 4\r\n", "RT1\nx 2 3 4\n", "RT1\n1\t2 3 4\n",
	};
	struct totals t, a;
	struct record r;
	struct buf o = BUF_INIT, sig = BUF_INIT;
	size_t i;
	char p[600];

	snprintf(home, sizeof home, "/tmp/t_totals.%ld", (long)getpid());
	CHECK(mkdir(home, 0700) == 0);

	CHECK(parse(TOTALS_RELAY, "RT1\n1 2 3 4\n", &t) == 0);
	CHECK(t.v[0] == 1 && t.v[1] == 2 && t.v[2] == 3 && t.v[3] == 4);
	CHECK(parse(TOTALS_POOL, "RT1\n0 0 0 18446744073709551615\n", &t) == 0 && t.v[3] == 18446744073709551615ULL);
	CHECK(parse(TOTALS_DKIM, "RT1\n7\n", &t) == 0 && t.v[0] == 7);
	CHECK(parse(TOTALS_DKIM, "RT1\n1 2 3 4\n", &t) < 0 && errno == EPROTO);
	CHECK(parse(TOTALS_RELAY, "RT1\n7\n", &t) < 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		t.v[0] = 99;
		CHECK(parse(TOTALS_RELAY, bad[i], &t) < 0 && errno == EPROTO && t.v[0] == 0);
		if (parse(TOTALS_RELAY, bad[i], &t) == 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
	}
	CHECK(totals_parse(TOTALS_RELAY, "RT1\n1 2\0 3 4\n", 13, &t) < 0);

	/* no file yet; a bad name */
	CHECK(totals_read(home, TOTALS_RELAY, "relay1.example:25", &t) == 0 && t.v[0] == 0);
	CHECK(totals_read(home, TOTALS_RELAY, "../x", &t) < 0 && errno == EINVAL);
	CHECK(totals_add(home, TOTALS_POOL, ".hidden", &t) < 0 && errno == EINVAL);

	/* adds up */
	memset(&a, 0, sizeof a);
	a.v[TOTALS_DELIVERED] = 2;
	a.v[TOTALS_FAILOVERS] = 1;
	CHECK(totals_add(home, TOTALS_RELAY, "relay1.example:25", &a) == 0);
	CHECK(totals_add(home, TOTALS_RELAY, "relay1.example:25", &a) == 0);
	CHECK(totals_read(home, TOTALS_RELAY, "relay1.example:25", &t) == 1);
	CHECK(t.v[0] == 4 && t.v[1] == 0 && t.v[2] == 0 && t.v[3] == 2);
	snprintf(p, sizeof p, "%s/state/counters/totals.lock", home);
	CHECK(access(p, F_OK) == 0);

	/* a damaged file: read refuses it, the writer starts again */
	put("relay/relay1.example:25", "RT1\n4 0 0\n");
	CHECK(totals_read(home, TOTALS_RELAY, "relay1.example:25", &t) < 0 && errno == EPROTO);
	CHECK(totals_add(home, TOTALS_RELAY, "relay1.example:25", &a) == 0);
	CHECK(totals_read(home, TOTALS_RELAY, "relay1.example:25", &t) == 1 && t.v[0] == 2 && t.v[3] == 1);

	/* relay-send's batch */
	memset(&r, 0, sizeof r);
	r.home = home;
	record_totals_count(&r, "Relay2.Example:587", "main", COUNTER_DELIVERED);
	record_totals_count(&r, "relay2.example:587", "main", COUNTER_BOUNCED);
	record_totals_count(&r, "relay1.example:25", "main", COUNTER_DEFERRED);
	record_totals_failover(&r, "relay1.example:25", "main");
	record_totals_count(&r, "bad/name", NULL, COUNTER_DELIVERED);
	record_totals_count(&r, "mx:Example.NET", NULL, COUNTER_DELIVERED);
	record_totals_count(&r, "mx:example.org", NULL, COUNTER_DELIVERED);
	buf_adds(&sig, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n\td=Example.COM; s=sel;\r\n"
	               "\tbh=abc=; b=xyz\r\n"
	               "dkim-signature: v=1; a=ed25519-sha256; d = other.example ; s=e; b=q\r\n"
	               "List-Unsubscribe: <https://h/u/x>\r\n"
	               "DKIM-Signature: v=1; s=nodomain; b=q\r\n");
	record_totals_dkim(&r, &sig);
	CHECK(r.ntot == 6);   /* 3 relays (mx one), 1 pool, 2 domains */
	record_totals_flush(&r);
	CHECK(r.ntot == 0 && r.tot == NULL);
	CHECK(totals_read(home, TOTALS_RELAY, "relay2.example:587", &t) == 1 && t.v[0] == 1 && t.v[2] == 1);
	CHECK(totals_read(home, TOTALS_RELAY, "relay1.example:25", &t) == 1 && t.v[0] == 2 && t.v[1] == 1 &&
	      t.v[3] == 2);
	CHECK(totals_read(home, TOTALS_POOL, "main", &t) == 1 && t.v[0] == 1 && t.v[1] == 1 && t.v[2] == 1 &&
	      t.v[3] == 1);
	CHECK(totals_read(home, TOTALS_DKIM, "example.com", &t) == 1 && t.v[0] == 1);
	CHECK(totals_read(home, TOTALS_DKIM, "other.example", &t) == 1 && t.v[0] == 1);
	CHECK(totals_read(home, TOTALS_RELAY, "mx", &t) == 1 && t.v[0] == 2);
	snprintf(p, sizeof p, "%s/state/counters/totals/relay/bad", home);
	CHECK(access(p, F_OK) < 0);

	/* /metrics: a damaged pool file is left out, the rest is there */
	put("pool/broken", "garbage");
	CHECK(totals_prom(home, &o) == 0);
	buf_addc(&o, 0);
	CHECK(strstr(o.p, "# TYPE relay_delivered_total counter\n") != NULL);
	CHECK(strstr(o.p, "relay_delivered_total{relay=\"relay1.example:25\"} 2\n") != NULL);
	CHECK(strstr(o.p, "relay_failovers_total{relay=\"relay1.example:25\"} 2\n") != NULL);
	CHECK(strstr(o.p, "relay_bounced_total{relay=\"relay2.example:587\"} 1\n") != NULL);
	CHECK(strstr(o.p, "relay_pool_failovers_total{pool=\"main\"} 1\n") != NULL);
	CHECK(strstr(o.p, "relay_dkim_signatures_total{domain=\"example.com\"} 1\n") != NULL);
	CHECK(strstr(o.p, "broken") == NULL);
	buf_free(&o);
	buf_free(&sig);
	CHECK_DONE();
}
