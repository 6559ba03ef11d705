/* Traffic shaping (send/shape.h, send/pool.h's veto, bounce/classify's
 * throttles, conf's limits values) with a simulated clock: rates,
 * quotas at their period edges, ramps across days, suspensions that
 * expire, cooling per destination, spill-over in a failover pool,
 * state/shaping across a restart, bounded state. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "check.h"
#include "base/buf.h"
#include "bounce/classify.h"
#include "send/pool.h"
#include "send/shape.h"

static char err[256];

static struct conf_limits L(const char *v)
{
	struct conf_limits l;
	if (conf_parse_limits(v, &l, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", v, err);
		check_failures++;
	}
	return l;
}

static const char *fmt(const char *v)
{
	static struct buf b;
	struct conf_limits l;
	if (conf_parse_limits(v, &l, err, sizeof err) < 0)
		return "ERR";
	conf_format_limits(&l, &b);
	return b.p;
}

#define DAY 86400L
/* 2026-12-01 00:00:00 UTC */
#define D0 ((time_t)20788 * DAY)

static void t_parse(void)
{
	struct conf_limits l;
	CHECK_STR(fmt("rate=100/d quota=10000/d"), "rate=100/d quota=10000/d");
	CHECK_STR(fmt("quota=5/h concurrency=2"), "concurrency=2 quota=5/h");
	CHECK_STR(fmt("ramp=2026-12-01:50*2:1000"), "ramp=2026-12-01:50,100,200,400,800,1000");
	CHECK_STR(fmt("ramp=2026-12-01:10,20,30"), "ramp=2026-12-01:10,20,30");
	CHECK_STR(fmt("mx=*.google.com,*.GoogleMail.com rate=100/m"), "rate=100/m mx=*.google.com,*.googlemail.com");
	CHECK_STR(fmt("quota=5/m"), "ERR");
	CHECK_STR(fmt("quota=0/d"), "ERR");
	CHECK_STR(fmt("ramp=2026-02-30:10"), "ERR");
	CHECK_STR(fmt("ramp=2026-12-01:10,,20"), "ERR");
	CHECK_STR(fmt("ramp=2026-12-01:100*2:50"), "ERR");
	CHECK_STR(fmt("mx=*.google.com"), "ERR");   /* a site needs a limit */
	CHECK_STR(fmt("mx=a_b.com rate=1/s"), "ERR");
	l = L("ramp=2026-12-01:10,20");
	CHECK(l.ramp_day0 == D0 / DAY && l.ramp_n == 2);
}

static void t_rate_concurrency(void)
{
	struct shape s;
	struct conf_limits l = L("concurrency=2 rate=2/s");
	const char *k[] = { "example.net" };
	const char *why;
	shape_init(&s);
	shape_config_add(&s, "example.net", &l);
	CHECK(shape_check(&s, k, 1, 10, D0, &why) == SHAPE_OK);
	shape_used(&s, k, 1, 10, D0);
	shape_used(&s, k, 1, 10, D0);
	CHECK(shape_check(&s, k, 1, 10, D0, &why) == SHAPE_BUSY && !strcmp(why, "concurrency"));
	shape_released(&s, k, 1);
	shape_released(&s, k, 1);
	CHECK(shape_check(&s, k, 1, 10, D0, &why) == SHAPE_BUSY && !strcmp(why, "rate"));
	CHECK(shape_check(&s, k, 1, 10.4, D0, &why) == SHAPE_BUSY);
	CHECK(shape_check(&s, k, 1, 10.5, D0, &why) == SHAPE_OK);   /* 2/s: one token in 0.5 s */
	/* N/d: 24 a day is one an hour */
	l = L("rate=24/d");
	shape_config_add(&s, "slow.test", &l);
	k[0] = "slow.test";
	shape_used(&s, k, 1, 0, D0);
	shape_released(&s, k, 1);
	{
		int i, n = 0;
		for (i = 0; i < 23; i++, n++) {
			shape_used(&s, k, 1, 0, D0);
			shape_released(&s, k, 1);
		}
		CHECK(n == 23 && shape_check(&s, k, 1, 0, D0, &why) == SHAPE_BUSY);
		CHECK(shape_check(&s, k, 1, 3599, D0, &why) == SHAPE_BUSY);
		CHECK(shape_check(&s, k, 1, 3600, D0, &why) == SHAPE_OK);
	}
	/* a key with nothing configured is never held */
	k[0] = "other.test";
	CHECK(shape_check(&s, k, 1, 0, D0, &why) == SHAPE_OK);
	shape_free(&s);
}

static void t_quota(void)
{
	struct shape s;
	struct conf_limits l = L("quota=3/d");
	const char *k[] = { "relay.test:587" };
	const char *why;
	int i;
	shape_init(&s);
	shape_config_add(&s, k[0], &l);
	for (i = 0; i < 3; i++) {
		CHECK(shape_check(&s, k, 1, 0, D0 + DAY - 10, &why) == SHAPE_OK);
		shape_used(&s, k, 1, 0, D0 + DAY - 10);
	}
	CHECK(shape_check(&s, k, 1, 0, D0 + DAY - 1, &why) == SHAPE_SKIP && !strcmp(why, "quota"));
	CHECK(shape_quota_left(shape_find(&s, k[0]), D0 + DAY - 1) == 0);
	/* the day's edge (UTC midnight): counted from 0 */
	CHECK(shape_check(&s, k, 1, 0, D0 + DAY, &why) == SHAPE_OK);
	CHECK(shape_quota_left(shape_find(&s, k[0]), D0 + DAY) == 3);
	/* hourly */
	l = L("quota=2/h");
	shape_config_add(&s, k[0], &l);
	shape_used(&s, k, 1, 0, D0 + 3599);
	shape_used(&s, k, 1, 0, D0 + 3599);
	CHECK(shape_check(&s, k, 1, 0, D0 + 3599, &why) == SHAPE_SKIP);
	CHECK(shape_check(&s, k, 1, 0, D0 + 3600, &why) == SHAPE_OK);
	shape_free(&s);
}

static void t_ramp(void)
{
	struct shape s;
	struct conf_limits l = L("ramp=2026-12-01:2*2:5");   /* 2, 4, 5, 5, ... */
	const char *k[] = { "new.test:25" };
	const char *why;
	int day, i;
	CHECK(shape_ramp_today(&l, D0 - 1) == 0);
	CHECK(shape_ramp_today(&l, D0) == 2);
	CHECK(shape_ramp_today(&l, D0 + DAY) == 4);
	CHECK(shape_ramp_today(&l, D0 + 2 * DAY) == 5);
	CHECK(shape_ramp_today(&l, D0 + 30 * DAY) == 5);
	shape_init(&s);
	shape_config_add(&s, k[0], &l);
	CHECK(shape_check(&s, k, 1, 0, D0 - 1, &why) == SHAPE_SKIP && !strcmp(why, "ramp"));
	for (day = 0; day < 4; day++) {
		time_t w = D0 + day * DAY + 7200;
		unsigned long want = day == 0 ? 2 : day == 1 ? 4 : 5;
		for (i = 0; shape_check(&s, k, 1, 0, w, &why) == SHAPE_OK && i < 100; i++)
			shape_used(&s, k, 1, 0, w);
		CHECK((unsigned long)i == want);
	}
	shape_free(&s);
}

static void t_throttle(void)
{
	struct shape s;
	const char *k[] = { "site:gmail" };
	const char *why;
	struct conf_limits l = L("rate=10/s mx=*.google.com");
	shape_init(&s);
	shape_config_add(&s, "gmail", &l);
	/* 3 in 60 s trips it; 2 do not; hits spread wider than the window do not */
	CHECK(shape_throttle_hit(&s, k[0], THROTTLE_SUSPEND, 3, 60, 600, 0, 100) == 0);
	CHECK(shape_throttle_hit(&s, k[0], THROTTLE_SUSPEND, 3, 60, 600, 0, 170) == 0); /* window restarted */
	CHECK(shape_throttle_hit(&s, k[0], THROTTLE_SUSPEND, 3, 60, 600, 0, 180) == 0);
	CHECK(shape_check(&s, k, 1, 181, D0, &why) == SHAPE_OK);
	CHECK(shape_throttle_hit(&s, k[0], THROTTLE_SUSPEND, 3, 60, 600, 0, 190) == 1);
	CHECK(shape_check(&s, k, 1, 191, D0, &why) == SHAPE_SKIP && !strcmp(why, "suspended"));
	CHECK(shape_check(&s, k, 1, 789, D0, &why) == SHAPE_SKIP);
	CHECK(shape_check(&s, k, 1, 790, D0, &why) == SHAPE_OK);   /* it expired by itself */
	/* halve: 10/s becomes 5/s for the duration */
	CHECK(shape_throttle_hit(&s, k[0], THROTTLE_HALVE, 1, 60, 100, 0, 1000) == 1);
	{
		int n = 0;
		double t;
		for (t = 1000; t < 1010; t += 0.01)
			if (shape_check(&s, k, 1, t, D0, &why) == SHAPE_OK) {
				shape_used(&s, k, 1, t, D0);
				shape_released(&s, k, 1);
				n++;
			}
		CHECK(n >= 50 && n <= 60);   /* a full bucket (10) + 5/s for 10 s */
		for (n = 0, t = 1200; t < 1210; t += 0.01)
			if (shape_check(&s, k, 1, t, D0, &why) == SHAPE_OK) {
				shape_used(&s, k, 1, t, D0);
				shape_released(&s, k, 1);
				n++;
			}
		CHECK(n >= 100 && n <= 110);   /* back to 10/s */
	}
	/* lower concurrency */
	CHECK(shape_throttle_hit(&s, k[0], THROTTLE_CONCURRENCY, 1, 60, 100, 1, 2000) == 1);
	shape_used(&s, k, 1, 2000, D0);
	CHECK(shape_check(&s, k, 1, 2001, D0, &why) == SHAPE_BUSY && !strcmp(why, "concurrency"));
	CHECK(shape_check(&s, k, 1, 2101, D0, &why) == SHAPE_OK);
	shape_free(&s);
}

static void t_cooling_and_sites(void)
{
	struct shape s;
	struct conf_limits l = L("concurrency=5 mx=*.google.com,aspmx*.googlemail.com");
	const char *a[] = { "down.test" }, *b[] = { "up.test" };
	const char *why;
	shape_init(&s);
	shape_config_add(&s, "google", &l);
	CHECK(shape_site_match(&s, "alt1.gmail-smtp-in.l.google.com") == 0);
	CHECK(shape_site_match(&s, "ASPMX2.googlemail.com") == 0);
	CHECK(shape_site_match(&s, "google.com.evil.test") == -1);
	CHECK(shape_site_match(&s, "mx.example.net") == -1);
	/* one domain's MX failing cools that domain only */
	CHECK(shape_failed(&s, a[0], 100) == 115);
	CHECK(shape_failed(&s, a[0], 101) == 115);   /* no more penalty while cooling */
	CHECK(shape_check(&s, a, 1, 110, D0, &why) == SHAPE_SKIP && !strcmp(why, "cooling"));
	CHECK(shape_check(&s, b, 1, 110, D0, &why) == SHAPE_OK);
	CHECK(shape_check(&s, a, 1, 115, D0, &why) == SHAPE_OK);
	CHECK(shape_failed(&s, a[0], 200) == 260);   /* 15 p^2 */
	shape_succeeded(&s, a[0]);
	CHECK(shape_check(&s, a, 1, 201, D0, &why) == SHAPE_OK);
	shape_free(&s);
}

/* A failover pool a, b with a quota on a: the veto skips a when spent. */
struct vctx { struct shape *s; time_t wall; };
static int veto(void *ctx, int i)
{
	struct vctx *x = ctx;
	const char *k[] = { i == 0 ? "a:25" : "b:25" };
	switch (shape_check(x->s, k, 1, 0, x->wall, NULL)) {
	case SHAPE_OK: return POOL_OK;
	case SHAPE_BUSY: return POOL_BUSY;
	default: return POOL_SKIP;
	}
}

static void t_spill(void)
{
	struct shape s;
	struct pool_state p;
	struct conf_pool cp;
	struct conf_limits l = L("quota=100/d");
	struct vctx x = { &s, D0 + 60 };
	int i, busy, n[2] = {0};
	conf_parse_pool("failover a:25 b:25", &cp, err, sizeof err);
	pool_init(&p, "t", &cp);
	shape_init(&s);
	shape_config_add(&s, "a:25", &l);
	for (i = 0; i < 150; i++) {
		int mi = pool_pick_veto(&p, 0, 0, &busy, veto, &x);
		const char *k[] = { mi == 0 ? "a:25" : "b:25" };
		CHECK(mi >= 0);
		if (mi < 0)
			break;
		n[mi]++;
		shape_used(&s, k, 1, 0, x.wall);
		shape_released(&s, k, 1);
	}
	CHECK(n[0] == 100 && n[1] == 50);   /* message 101 went to b */
	/* both spent: none, and not "busy" (deferred, not waited for) */
	shape_config_add(&s, "b:25", &l);
	shape_find(&s, "b:25")->qperiod = (long)(x.wall / DAY);
	shape_find(&s, "b:25")->qcount = 100;
	CHECK(pool_pick_veto(&p, 0, 0, &busy, veto, &x) == -1 && !busy);
	/* the next day, a again */
	x.wall += DAY;
	CHECK(pool_pick_veto(&p, 0, 0, &busy, veto, &x) == 0);
	/* round-robin skips a spent member too */
	conf_parse_pool("roundrobin a:25 b:25", &cp, err, sizeof err);
	pool_init(&p, "t", &cp);
	shape_find(&s, "a:25")->qperiod = (long)(x.wall / DAY);
	shape_find(&s, "a:25")->qcount = 100;
	for (i = 0; i < 4; i++)
		CHECK(pool_pick_veto(&p, 0, 0, &busy, veto, &x) == 1);
	shape_free(&s);
}

/* A home made by a state test, gone. */
static void rm_home(const char *dir)
{
	char path[300];
	snprintf(path, sizeof path, "%s/state/shaping", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/state", dir);
	rmdir(path);
	rmdir(dir);
}

static void t_state(void)
{
	struct shape s;
	char dir[] = "/tmp/t_shape.XXXXXX", path[300];
	struct conf_limits l = L("quota=10/d ramp=2026-12-01:5,50");
	const char *k[] = { "r:25" };
	int i;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/state", dir);
	CHECK(mkdir(path, 0755) == 0);
	shape_init(&s);
	CHECK(shape_restore(&s, dir, 0, D0, NULL) == 0);   /* absent: nothing counted */
	shape_config_add(&s, k[0], &l);
	for (i = 0; i < 4; i++)
		shape_used(&s, k, 1, 0, D0 + 100);
	CHECK(s.dirty);
	CHECK(shape_save(&s, dir, 0, D0) == 0 && !s.dirty);
	shape_free(&s);
	/* a restart: the counts are back */
	shape_init(&s);
	CHECK(shape_restore(&s, dir, 0, D0, NULL) == 0);
	shape_config_add(&s, k[0], &l);
	CHECK(shape_quota_left(shape_find(&s, k[0]), D0 + 200) == 6);
	CHECK(shape_ramp_left(shape_find(&s, k[0]), D0 + 200) == 1);
	CHECK(shape_ramp_left(shape_find(&s, k[0]), D0 + DAY) == 50);   /* the next day */
	CHECK(shape_quota_left(shape_find(&s, k[0]), D0 + DAY) == 10);
	shape_free(&s);
	rm_home(dir);
}

/* issue 12: throttles and MX cooling survive a restart (state/shaping);
 * expired ones are dropped; a corrupt file is skipped line by line */
static void put_state(const char *dir, const char *text, size_t len)
{
	char path[300];
	FILE *f;
	snprintf(path, sizeof path, "%s/state/shaping", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
}

static void t_state_throttles(void)
{
	struct shape s;
	char dir[] = "/tmp/t_shape.XXXXXX", path[300];
	struct conf_limits l = L("rate=10/s");
	const char *ks[] = { "r1:25" }, *kh[] = { "r2:25" }, *kc[] = { "mx.example" }, *kx[] = { "r3:25" };
	const char *why;
	unsigned long bad;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/state", dir);
	CHECK(mkdir(path, 0755) == 0);
	shape_init(&s);
	shape_config_add(&s, kh[0], &l);
	s.dirty = 0;
	CHECK(shape_throttle_hit(&s, ks[0], THROTTLE_SUSPEND, 1, 60, 600, 0, 100) == 1);   /* until 700 */
	CHECK(s.dirty);
	CHECK(shape_throttle_hit(&s, kh[0], THROTTLE_HALVE, 1, 60, 600, 0, 100) == 1);
	CHECK(shape_throttle_hit(&s, kx[0], THROTTLE_SUSPEND, 1, 60, 50, 0, 100) == 1);    /* until 150 */
	CHECK(shape_failed(&s, kc[0], 195) == 210);                                        /* 15 s */
	/* saved at mono 200 = wall D0+100: r3's throttle is over, not written */
	CHECK(shape_save(&s, dir, 200, D0 + 100) == 0 && !s.dirty);
	shape_free(&s);

	/* a new relay-send: its monotonic clock starts again, 200 s later */
	shape_init(&s);
	CHECK(shape_restore(&s, dir, 5, D0 + 300, &bad) == 0 && bad == 0);
	shape_config_add(&s, kh[0], &l);
	CHECK(shape_find(&s, kx[0]) == NULL);
	CHECK(shape_check(&s, ks, 1, 6, D0 + 301, &why) == SHAPE_SKIP && !strcmp(why, "suspended"));
	CHECK(shape_check(&s, ks, 1, 304, D0 + 599, &why) == SHAPE_SKIP);
	CHECK(shape_check(&s, ks, 1, 306, D0 + 601, &why) == SHAPE_OK);   /* expired by itself */
	CHECK(shape_find(&s, kh[0])->throttle == THROTTLE_HALVE);
	CHECK(shape_find(&s, kh[0])->bucket.per == 2.0);                   /* still halved */
	CHECK(shape_check(&s, kh, 1, 306, D0 + 601, &why) == SHAPE_OK);
	CHECK(shape_find(&s, kh[0])->bucket.per == 1.0);                   /* and back */
	/* the cooling was over at the restart (D0+115 < D0+300) */
	CHECK(shape_check(&s, kc, 1, 6, D0 + 301, &why) == SHAPE_OK);
	shape_free(&s);

	/* cooling restored when still on */
	shape_init(&s);
	CHECK(shape_failed(&s, kc[0], 1000) == 1015);
	CHECK(shape_save(&s, dir, 1000, D0) == 0);
	shape_free(&s);
	shape_init(&s);
	CHECK(shape_restore(&s, dir, 7, D0 + 5, &bad) == 0 && bad == 0);
	CHECK(shape_check(&s, kc, 1, 8, D0 + 6, &why) == SHAPE_SKIP && !strcmp(why, "cooling"));
	CHECK(shape_check(&s, kc, 1, 18, D0 + 16, &why) == SHAPE_OK);
	CHECK(shape_find(&s, kc[0])->penalty == 1);
	shape_free(&s);

	/* corrupt: a NUL, junk, a throttle 20 years ahead, an unknown action,
	 * a control character in a key, an overlong line; the good lines stay */
	{
		static const char bin[] = "r1:25 0 0 0 0 suspend 99999999999 0 0 0\n"
		                          "junk\n\x01\x02\xff\n"
		                          "r4:25 0 0 0 0 explode 2000000000 0 0 0\n"
		                          "r\x01:25 0 0 0 0 suspend 2000000000 0 0 0\n"
		                          "a\0b 1 2 3 4\n"
		                          "r5:25 0 0 0 0 suspend %lld 0 0 0\n"
		                          "r6:25 1 2 3 4";   /* the old format, no newline */
		char text[600], lng[2000];
		int n = snprintf(text, sizeof text, "%s", bin);
		char tail[200];
		snprintf(tail, sizeof tail, bin + n + 1, (long long)(D0 + 60));
		memcpy(text + n, "\0", 1);
		memcpy(text + n + 1, tail, strlen(tail) + 1);
		put_state(dir, text, (size_t)n + 1 + strlen(tail));
		shape_init(&s);
		CHECK(shape_restore(&s, dir, 0, D0, &bad) == 0);
		CHECK(bad == 6);
		CHECK(shape_find(&s, "r1:25") == NULL && shape_find(&s, "r4:25") == NULL);
		CHECK(shape_find(&s, "r5:25") && shape_find(&s, "r5:25")->throttle == THROTTLE_SUSPEND);
		CHECK(shape_find(&s, "r6:25") && shape_find(&s, "r6:25")->qcount == 2);
		shape_free(&s);
		memset(lng, 'x', sizeof lng - 2);
		lng[sizeof lng - 2] = '\n';
		lng[sizeof lng - 1] = 0;
		put_state(dir, lng, strlen(lng));
		shape_init(&s);
		CHECK(shape_restore(&s, dir, 0, D0, &bad) == 0 && bad == 1 && s.n == 0);
		shape_free(&s);
	}
	/* bounded: lines past SHAPE_DESTS_MAX are not read */
	{
		struct buf b = BUF_INIT;
		int i;
		for (i = 0; i < SHAPE_DESTS_MAX + 10; i++)
			buf_printf(&b, "d%d.test 0 0 0 0 suspend %lld 0 0 0\n", i, (long long)(D0 + 600));
		put_state(dir, b.p, b.len);
		buf_free(&b);
		shape_init(&s);
		CHECK(shape_restore(&s, dir, 0, D0, &bad) == 0 && bad == 10);
		CHECK(s.n == SHAPE_DESTS_MAX);
		shape_free(&s);
	}
	rm_home(dir);
}

static void t_bounded(void)
{
	struct shape s;
	char key[64];
	int i;
	shape_init(&s);
	/* 50,000 domains that failed once and recovered: the table stays bounded */
	for (i = 0; i < 50000; i++) {
		snprintf(key, sizeof key, "d%d.test", i);
		shape_failed(&s, key, 0);
		shape_succeeded(&s, key);
	}
	CHECK(s.n <= SHAPE_DESTS_MAX + 1);
	printf("50000 domains: %zu destinations kept\n", s.n);
	shape_free(&s);
}

static void t_classify_throttles(void)
{
	struct classify_result r;
	struct classify_rule rule;
	char out[128];
	classify(NULL, 421, "4.7.28", "[1.2.3.4] Our system has detected an unusual rate of unsolicited mail "
	         "originating from your IP address. ... temporarily rate limited.", &r);
	CHECK(r.category == CAT_RATE_LIMIT && r.action == ACTION_FAILOVER && r.throttle == CLASSIFY_THROTTLE_SUSPEND);
	CHECK(r.throttle_after == 3 && r.throttle_window == 300 && r.throttle_for == 900);
	classify(NULL, 421, "4.7.0", "[TSS04] Messages from 1.2.3.4 temporarily deferred due to unexpected "
	         "volume or user complaints", &r);
	CHECK(r.throttle == CLASSIFY_THROTTLE_SUSPEND && r.throttle_for == 1800);
	classify(NULL, 451, "4.7.500", "Server busy. Please try again later from [1.2.3.4]. (S77714)", &r);
	CHECK(r.category == CAT_RATE_LIMIT && r.throttle == CLASSIFY_THROTTLE_CONCURRENCY && r.throttle_conc == 2);
	classify(NULL, 451, "4.7.650", "The mail server [1.2.3.4] has been temporarily rate limited due to IP reputation.", &r);
	CHECK(r.throttle == CLASSIFY_THROTTLE_SUSPEND);
	classify(NULL, 421, "4.7.0", "Try again later, closing connection. (rate limited)", &r);
	CHECK(r.throttle == CLASSIFY_THROTTLE_HALVE);
	classify(NULL, 550, "5.1.1", "user unknown", &r);
	CHECK(r.throttle == CLASSIFY_THROTTLE_NONE);
	/* an operator's rule */
	CHECK(classify_parse_line("421 4.7.28 * -> rate-limit soft suspend=2s after=2/1m", &rule, err, sizeof err) == 1);
	CHECK(rule.thr.action == CLASSIFY_THROTTLE_SUSPEND && rule.thr.dur == 2 && rule.thr.after == 2 && rule.thr.window == 60);
	classify_throttle_format(&rule.thr, out, sizeof out);
	CHECK_STR(out, "suspend=2s after=2/1m");
	CHECK(classify_parse_line("451 * busy -> rate-limit soft concurrency=1:10m", &rule, err, sizeof err) == 1);
	classify_throttle_format(&rule.thr, out, sizeof out);
	CHECK_STR(out, "concurrency=1:10m after=1/10m");
	CHECK(classify_parse_line("451 * busy -> rate-limit soft slow=1m", &rule, err, sizeof err) == -1);
	CHECK(classify_parse_line("451 * busy -> rate-limit soft suspend=1m after=0/1m", &rule, err, sizeof err) == -1);
	CHECK(classify_parse_line("451 * busy -> rate-limit soft suspend=1m junk", &rule, err, sizeof err) == -1);
	CHECK(classify_parse_line("451 * busy -> rate-limit soft", &rule, err, sizeof err) == 1 &&
	      rule.thr.action == CLASSIFY_THROTTLE_NONE);
}

static void t_retry_hint(void)
{
	CHECK(shape_retry_hint("4.7.0 Too many connections, try again in 30 seconds") == 30);
	CHECK(shape_retry_hint("Greylisted, please Try Again In 5 Minutes.") == 300);
	CHECK(shape_retry_hint("rate limited; retry in 2 min") == 120);
	CHECK(shape_retry_hint("try again after 1 hour") == 3600);
	CHECK(shape_retry_hint("retry in 90s") == 90);
	CHECK(shape_retry_hint("try again in 100000 hours") == 86400);   /* capped at a day */
	CHECK(shape_retry_hint("try again later") == 0);
	CHECK(shape_retry_hint("try again in a few minutes") == 0);
	CHECK(shape_retry_hint("try again in 5 fortnights") == 0);
	CHECK(shape_retry_hint("try again in 0 seconds") == 0);
	CHECK(shape_retry_hint("try again in 9999999999 seconds") == 0);   /* too many digits */
	CHECK(shape_retry_hint("try again in x; try again in 7 sec") == 7);
	CHECK(shape_retry_hint(NULL) == 0);
	CHECK(shape_retry_hint("") == 0);
}

int main(void)
{
	t_retry_hint();
	t_parse();
	t_rate_concurrency();
	t_quota();
	t_ramp();
	t_throttle();
	t_cooling_and_sites();
	t_spill();
	t_state();
	t_state_throttles();
	t_bounded();
	t_classify_throttles();
	CHECK_DONE();
}
