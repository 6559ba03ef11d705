/* issue 12: a relay's etc/limits (concurrency=, rate=) are kept by its
 * destination key "host:port", so a relay that is a member of two pools
 * has one session count and one token bucket, whichever pool sends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "conf/conf.h"
#include "send/sendconf.h"
#include "send/shaping.h"

static struct pool_state *pool(struct sendconf *c, const char *name)
{
	int pi = -1;
	CHECK(sendconf_pool_find(c, name, &pi));
	return sendconf_pool(c, pi);
}

int main(void)
{
	char dir[] = "/tmp/t_shape_pools.XXXXXX", home[256], err[256];
	struct sendconf *c = calloc(1, sizeof *c);
	struct pool_state *p1, *p2, *p3;
	const char *why;
	int busy, mi;
	double t = 1000;
	CHECK(c != NULL && mkdtemp(dir) != NULL);
	snprintf(home, sizeof home, "%s/h", dir);
	CHECK(conf_init_home(home, 0) == 0);
	check_put_etc(home, "pools", "p1 failover r.test:25\n"
	                             "p2 failover r.test:25 other.test:25\n"
	                             "p3 failover c.test:25\n"
	                             "p4 roundrobin c.test:25\n");
	check_put_etc(home, "limits", "r.test:25 rate=2/m\nc.test:25 concurrency=1\n");
	CHECK(conf_compile(home, 0) == 0);
	c->home = home;
	CHECK(sendconf_reload(c, err, sizeof err) == 0);
	p1 = pool(c, "p1");
	p2 = pool(c, "p2");
	p3 = pool(c, "p3");

	/* rate=2/m: two from p1 spend the relay's bucket; p2 waits (its
	 * first member is the same relay: a failover waits for it) */
	CHECK(shaping_pick(c, p1, "x.test", t, 0, &busy, &why) == 0);
	shaping_used(c, p1, 0, "x.test", t);
	CHECK(shaping_pick(c, p2, "x.test", t, 0, &busy, &why) == 0);
	shaping_used(c, p2, 0, "x.test", t);
	shaping_released(c, p1, 0, "x.test");
	shaping_released(c, p2, 0, "x.test");
	CHECK(shaping_pick(c, p1, "x.test", t + 1, 0, &busy, &why) < 0 && busy);
	CHECK(shaping_pick(c, p2, "x.test", t + 1, 0, &busy, &why) < 0 && busy);
	/* one token back after 30 s, for whichever pool takes it first */
	CHECK(shaping_pick(c, p2, "x.test", t + 31, 0, &busy, &why) == 0);
	shaping_used(c, p2, 0, "x.test", t + 31);
	shaping_released(c, p2, 0, "x.test");
	CHECK(shaping_pick(c, p1, "x.test", t + 32, 0, &busy, &why) < 0 && busy);

	/* concurrency=1: a session open from p3 holds p4 */
	mi = shaping_pick(c, p3, "x.test", t, 0, &busy, &why);
	CHECK(mi == 0);
	shaping_used(c, p3, 0, "x.test", t);
	CHECK(shaping_pick(c, pool(c, "p4"), "x.test", t, 0, &busy, &why) < 0 && busy);
	shaping_released(c, p3, 0, "x.test");
	CHECK(shaping_pick(c, pool(c, "p4"), "x.test", t, 0, &busy, &why) == 0);

	/* and no second bucket or count per pool member: one state per relay */
	CHECK(p1->ms[0].bucket.rate == 0 && p2->ms[0].bucket.rate == 0);
	CHECK(p3->ms[0].limit == 0);
	CHECK(shape_find(&c->shape, "r.test:25")->bucket.rate == 2);

	/* a reload keeps the one bucket's state (still spent) */
	CHECK(sendconf_reload(c, err, sizeof err) == 0);
	CHECK(shaping_pick(c, pool(c, "p1"), "x.test", t + 33, 0, &busy, &why) < 0 && busy);
	c->shape.dirty = 0;
	sendconf_free(c);
	free(c);
	CHECK_DONE();
}
