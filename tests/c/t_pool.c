/* Pool member choice: the spreads of round-robin and weighted, failover
 * order, cooling and its cap, session slots, member names. */
#include <stdio.h>
#include "check.h"
#include "send/pool.h"

static void mk(struct pool_state *p, const char *spec)
{
	struct conf_pool cp;
	char err[256];
	if (conf_parse_pool(spec, &cp, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", spec, err);
		check_failures++;
	}
	pool_init(p, "t", &cp);
}

int main(void)
{
	struct pool_state p;
	int busy, i, n[4] = {0};

	mk(&p, "weighted a:25*3 b:25*1");
	for (i = 0; i < 1000; i++)
		n[pool_pick(&p, 0, 0, &busy)]++;
	CHECK(n[0] >= 712 && n[0] <= 788);   /* 3:1 within 5% */
	CHECK(n[0] + n[1] == 1000);
	printf("weighted 3:1 over 1000: %d %d\n", n[0], n[1]);

	mk(&p, "roundrobin a:25 b:25 c:25");
	n[0] = n[1] = n[2] = 0;
	for (i = 0; i < 999; i++)
		n[pool_pick(&p, 0, 0, &busy)]++;
	CHECK(n[0] == 333 && n[1] == 333 && n[2] == 333);

	mk(&p, "failover a:25 b:25");
	CHECK(pool_pick(&p, 0, 0, &busy) == 0);
	CHECK(pool_pick(&p, 0, 0, &busy) == 0);
	CHECK(pool_pick(&p, 0, 1UL, &busy) == 1);        /* a tried: b */
	CHECK(pool_pick(&p, 0, 3UL, &busy) == -1 && !busy); /* both tried */

	/* cooling: 15 p^2 seconds, one penalty per cooling period, cap 1h */
	pool_failed(&p, 0, 100);
	CHECK(p.ms[0].cool_until == 115);
	pool_failed(&p, 0, 101);               /* still cooling: no more penalty */
	CHECK(p.ms[0].penalty == 1);
	CHECK(pool_pick(&p, 110, 0, &busy) == 1);
	CHECK(pool_pick(&p, 116, 0, &busy) == 0);
	pool_failed(&p, 0, 200);
	CHECK(p.ms[0].cool_until == 260);      /* p=2: 60 s */
	for (i = 0; i < 50; i++)
		pool_failed(&p, 0, 1e6 * (i + 1));
	CHECK(p.ms[0].cool_until - 5e7 == 3600);
	pool_succeeded(&p, 0);
	CHECK(p.ms[0].penalty == 0 && pool_pick(&p, 0, 0, &busy) == 0);
	pool_failed(&p, 0, 0);
	pool_failed(&p, 1, 0);
	CHECK(pool_pick(&p, 1, 0, &busy) == -1 && !busy);
	CHECK(pool_ready_at(&p, 1) == 15);

	/* a full member: failover waits for it; round-robin goes around it */
	mk(&p, "failover a:25 b:25");
	p.ms[0].limit = 1;
	p.ms[0].active = 1;
	CHECK(pool_pick(&p, 0, 0, &busy) == -1 && busy);
	mk(&p, "roundrobin a:25 b:25");
	p.ms[0].limit = 1;
	p.ms[0].active = 1;
	CHECK(pool_pick(&p, 0, 0, &busy) == 1);
	CHECK(pool_pick(&p, 0, 0, &busy) == 1);

	/* rate=2/s: two at once, then one more each half second */
	mk(&p, "roundrobin a:25");
	shape_bucket_set(&p.ms[0].bucket, 2, 1);
	CHECK(pool_pick(&p, 10, 0, &busy) == 0);
	pool_used(&p, 0, 10);
	p.ms[0].active = 0;
	CHECK(pool_pick(&p, 10, 0, &busy) == 0);
	pool_used(&p, 0, 10);
	p.ms[0].active = 0;
	CHECK(pool_pick(&p, 10.1, 0, &busy) == -1 && busy);
	CHECK(pool_pick(&p, 10.6, 0, &busy) == 0);
	pool_used(&p, 0, 10.6);
	p.ms[0].active = 0;
	CHECK(pool_pick(&p, 10.7, 0, &busy) == -1 && busy);

	/* a released session slot is free again, and never goes below 0 */
	mk(&p, "failover a:25");
	p.ms[0].limit = 1;
	pool_used(&p, 0, 0);
	CHECK(pool_pick(&p, 0, 0, &busy) == -1 && busy);
	pool_released(&p, 0);
	CHECK(p.ms[0].active == 0 && pool_pick(&p, 0, 0, &busy) == 0);
	pool_released(&p, 0);
	CHECK(p.ms[0].active == 0);

	/* names in the log; a pool with an MX member */
	{
		char name[300];
		mk(&p, "failover relay.example:587 mx");
		CHECK(pool_has_mx(&p));
		pool_member_name(&p.cfg.m[0], "example.org", name, sizeof name);
		CHECK_STR(name, "relay.example:587");
		pool_member_name(&p.cfg.m[1], "example.org", name, sizeof name);
		CHECK_STR(name, "mx:example.org");
		mk(&p, "roundrobin a:25 b:25");
		CHECK(!pool_has_mx(&p));
	}
	CHECK_DONE();
}
