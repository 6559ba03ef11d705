/* cluster (issue 16): the pure parts. The Redis URL of setting shared
 * (conf/redis_url.h), the block sizes and the fallback divisor
 * (send/cluster.h), and shape.c's accounting of shared blocks and of a
 * node's local share (send/shape.h), with a simulated clock. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "conf/redis_url.h"
#include "send/cluster.h"
#include "send/shape.h"

static char err[256];

static void t_url(void)
{
	struct redis_url u;
	char s[600];
	CHECK(redis_url_parse("redis://127.0.0.1:6380/2", &u, err, sizeof err) == 0);
	CHECK_STR(u.host, "127.0.0.1");
	CHECK(u.port == 6380 && u.db == 2 && !u.unix_sock && !u.tls && !u.pass[0]);
	CHECK(redis_url_parse("redis://redis.example", &u, err, sizeof err) == 0);
	CHECK(u.port == 6379 && u.db == 0);
	CHECK(redis_url_parse("redis://:s3cret@h:1/0", &u, err, sizeof err) == 0);
	CHECK_STR(u.pass, "s3cret");
	CHECK_STR(u.user, "");
	CHECK(redis_url_parse("redis://relay:pw@h/1", &u, err, sizeof err) == 0);
	CHECK_STR(u.user, "relay");
	CHECK_STR(u.pass, "pw");
	CHECK(redis_url_parse("redis://[::1]:7000/3", &u, err, sizeof err) == 0);
	CHECK_STR(u.host, "::1");
	CHECK(u.port == 7000 && u.db == 3);
	redis_url_show(&u, s, sizeof s);
	CHECK_STR(s, "redis://[::1]:7000/3");
	CHECK(redis_url_parse("rediss://h:6390/0", &u, err, sizeof err) == 0);
	CHECK(u.tls);
	CHECK_STR(u.ca, "");
	CHECK(redis_url_parse("rediss://:pw@h:6390/2?ca=/etc/ca.pem&cert=/c/cl.pem&key=/c/cl.key", &u, err, sizeof err) == 0);
	CHECK(u.tls && u.port == 6390 && u.db == 2);
	CHECK_STR(u.pass, "pw");
	CHECK_STR(u.ca, "/etc/ca.pem");
	CHECK_STR(u.cert, "/c/cl.pem");
	CHECK_STR(u.key, "/c/cl.key");
	redis_url_show(&u, s, sizeof s);
	CHECK_STR(s, "rediss://h:6390/2");
	CHECK(redis_url_parse("rediss://h?ca=/a/b.pem", &u, err, sizeof err) == 0);   /* a '/' in the query, no /DB */
	CHECK_STR(u.host, "h");
	CHECK(u.db == 0);
	CHECK(redis_url_parse("redis://h/0?ca=/a.pem", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("rediss://h?key=/k.pem", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("rediss://h?ca=rel.pem", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("rediss://h?ca=", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("rediss://h?insecure=1", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("rediss://h?ca=/a b", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("unix:/run/redis/redis.sock?db=4&password=x", &u, err, sizeof err) == 0);
	CHECK(u.unix_sock && u.db == 4);
	CHECK_STR(u.path, "/run/redis/redis.sock");
	CHECK_STR(u.pass, "x");
	redis_url_show(&u, s, sizeof s);
	CHECK_STR(s, "unix:/run/redis/redis.sock?db=4");   /* never the password */
	/* refused */
	CHECK(redis_url_parse("", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("http://h/", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://h:0", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://h:65536", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://h:01", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://h/16", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://h/x", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://h:1:2", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://a b", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://:@h", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://[::1", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("redis://[::1]x", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("unix:relative", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("unix:/s?db=99", &u, err, sizeof err) < 0);
	CHECK(redis_url_parse("unix:/s?what=1", &u, err, sizeof err) < 0);
	memset(s, 'a', sizeof s);
	memcpy(s, "unix:/", 6);
	s[200] = 0;
	CHECK(redis_url_parse(s, &u, err, sizeof err) < 0);   /* past sun_path */
}

static void t_blocks(void)
{
	CHECK(cluster_rate_block(600, 60) == 3);       /* 10/s: a quarter second */
	CHECK(cluster_rate_block(1, 3600) == 1);
	CHECK(cluster_rate_block(1000000, 1) == 1000);
	CHECK(cluster_rate_block(0, 0) == 1);
	CHECK(cluster_count_block(300) == 6);
	CHECK(cluster_count_block(10) == 1);
	CHECK(cluster_count_block(1000000) == 100);
	CHECK(cluster_fallback_div(0, 0) == 1);
	CHECK(cluster_fallback_div(0, 3) == 3);
	CHECK(cluster_fallback_div(5, 3) == 5);        /* the setting wins */
	CHECK(shape_share(300, 3) == 100);
	CHECK(shape_share(10, 3) == 4);                /* rounded up */
	CHECK(shape_share(1, 7) == 1);
	CHECK(shape_share(0, 3) == 0);
	CHECK(shape_share(300, 0) == 300 && shape_share(300, 1) == 300);
}

static struct conf_limits L(const char *v)
{
	struct conf_limits l;
	if (conf_parse_limits(v, &l, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", v, err);
		check_failures++;
	}
	return l;
}

/* A shared destination goes only on the blocks granted; used ones are
 * counted off; a reservation of another period is void. */
static void t_shared(void)
{
	struct shape s;
	struct conf_limits l = L("rate=600/m quota=300/d");
	const char *k[1] = { "r.example:25" };
	const char *why;
	struct shape_dest *d;
	time_t wall = 86400 * 1000 + 10;
	shape_init(&s);
	CHECK(shape_config_add(&s, k[0], &l) == 0);
	d = shape_find(&s, k[0]);
	CHECK(shape_sharable(d));
	shape_cluster_mode(&s, 1, 0);
	CHECK(d->shared);
	/* nothing granted: the quota is spent for this node (SKIP) */
	CHECK(shape_check(&s, k, 1, 1.0, wall, &why) == SHAPE_SKIP);
	CHECK_STR(why, "quota");
	d->qgrant = 2;
	CHECK(shape_check(&s, k, 1, 1.0, wall, &why) == SHAPE_BUSY);   /* no token */
	CHECK_STR(why, "rate");
	d->grant = 1.5;
	CHECK(shape_check(&s, k, 1, 1.0, wall, &why) == SHAPE_OK);
	shape_used(&s, k, 1, 1.0, wall);
	shape_released(&s, k, 1);
	CHECK(d->qgrant == 1 && d->grant == 0.5 && d->qcount == 1 && d->used_at == 1.0);
	CHECK(shape_check(&s, k, 1, 1.0, wall, &why) == SHAPE_BUSY);
	d->grant = 3;
	shape_used(&s, k, 1, 1.1, wall);
	shape_released(&s, k, 1);
	CHECK(d->qgrant == 0);
	CHECK(shape_check(&s, k, 1, 1.2, wall, &why) == SHAPE_SKIP);
	/* a new day: yesterday's reservation is void */
	d->qgrant = 5;
	CHECK(shape_check(&s, k, 1, 1.3, wall + 86400, &why) == SHAPE_SKIP);
	CHECK(d->qgrant == 0);
	/* fallback with 3 nodes: a third of the quota and of the rate, local */
	shape_cluster_mode(&s, 0, 3);
	CHECK(!d->shared && d->grant == 0 && d->div == 3);
	CHECK(d->bucket.rate == 200);
	d->qcount = 99;
	d->qperiod = (long)((wall + 86400) / 86400);
	CHECK(shape_quota_left(d, wall + 86400) == 1);
	CHECK(shape_check(&s, k, 1, 2.0, wall + 86400, &why) == SHAPE_OK);
	d->qcount = 100;
	CHECK(shape_check(&s, k, 1, 2.0, wall + 86400, &why) == SHAPE_SKIP);
	/* back to shared: the whole limits */
	shape_cluster_mode(&s, 1, 3);
	CHECK(d->shared && d->div == 1 && d->bucket.rate == 600);
	/* no cluster (div 1): as before */
	shape_cluster_mode(&s, 0, 1);
	CHECK(!d->shared && shape_quota_left(d, wall + 86400) == 200);
	shape_free(&s);
}

/* issue 16: a shared concurrency= is the leases held; in fallback the
 * node's share; local again (HUP removed shared) the whole. A
 * destination with nothing configured is never shared. */
static void t_leases(void)
{
	struct shape s;
	struct conf_limits l = L("concurrency=2");
	const char *k[1] = { "c.example:25" }, *u[1] = { "u.example:25" }, *why = "";
	struct shape_dest *d;
	shape_init(&s);
	CHECK(shape_config_add(&s, k[0], &l) == 0);
	CHECK(shape_dest(&s, u[0]) != NULL);
	shape_cluster_mode(&s, 1, 0);
	d = shape_find(&s, k[0]);
	CHECK(d->shared && !shape_find(&s, u[0])->shared);
	CHECK(shape_check(&s, k, 1, 1.0, 1000, &why) == SHAPE_BUSY);   /* no lease yet */
	CHECK_STR(why, "concurrency");
	d->leases = 1;
	CHECK(shape_check(&s, k, 1, 1.0, 1000, &why) == SHAPE_OK);
	shape_used(&s, k, 1, 1.0, 1000);
	CHECK(d->active == 1 && d->lease_peak == 1);
	CHECK(shape_check(&s, k, 1, 1.0, 1000, &why) == SHAPE_BUSY);   /* its one lease in use */
	d->leases = 5;
	CHECK(shape_conc_cap(d) == 2);                                  /* never past the limit */
	d->lease_fair = 1;                                              /* another node waits */
	CHECK(shape_conc_cap(d) == 1);
	shape_cluster_mode(&s, 0, 3);                                   /* fallback: 2/3, at least 1 */
	CHECK(d->leases == 0 && d->lease_fair == 0 && shape_conc_cap(d) == 1);
	CHECK(shape_check(&s, k, 1, 1.0, 1000, &why) == SHAPE_BUSY);
	shape_cluster_mode(&s, 0, 1);                                   /* local: the whole */
	CHECK(shape_conc_cap(d) == 2);
	CHECK(shape_check(&s, k, 1, 1.0, 1000, &why) == SHAPE_OK);
	shape_free(&s);
}

/* issue 16: a throttle from another node (relay:throttles). */
static void t_throttle_set(void)
{
	struct shape s;
	const char *k[1] = { "t.example:25" }, *why = "";
	struct shape_dest *d;
	shape_init(&s);
	CHECK(shape_throttle_set(&s, k[0], THROTTLE_NONE, 60, 0, 1.0) == 0);
	CHECK(shape_throttle_set(&s, k[0], THROTTLE_SUSPEND, 60, 0, 1.0) == 1);
	CHECK(shape_check(&s, k, 1, 2.0, 1000, &why) == SHAPE_SKIP);
	CHECK_STR(why, "suspended");
	CHECK(shape_throttle_set(&s, k[0], THROTTLE_SUSPEND, 59.5, 0, 1.5) == 0);   /* the same one, a beat later */
	CHECK(shape_throttle_set(&s, k[0], THROTTLE_SUSPEND, 120, 0, 2.0) == 1);    /* a longer one */
	d = shape_find(&s, k[0]);
	CHECK(d->throttle_until == 122.0 && s.dirty);
	CHECK(shape_check(&s, k, 1, 122.5, 1000, &why) == SHAPE_OK);               /* over by itself */
	CHECK(shape_throttle_set(&s, k[0], THROTTLE_CONCURRENCY, 30, 1, 200.0) == 1);
	CHECK(shape_conc_cap(d) == 1);
	CHECK(shape_throttle_set(&s, k[0], THROTTLE_SUSPEND, SHAPE_REMAIN_MAX + 1, 0, 200.0) == 0);
	shape_free(&s);
}

int main(void)
{
	t_url();
	t_blocks();
	t_shared();
	t_leases();
	t_throttle_set();
	CHECK_DONE();
}
