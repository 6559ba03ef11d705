/* net/smtpd_state.h: the rate per user and the tarpit per address, with
 * the clock passed in. */
#include "check.h"
#include "net/smtpd_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void put(const char *name, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void check_rate(void)
{
	time_t t0 = 1700000000, t;
	int i, n;
	/* 3 an hour: the fourth within the hour is refused */
	for (i = 0; i < 3; i++)
		CHECK(smtpd_rate_take(dir, "app1", 3, 3600, t0 + i * 60, 1, 0) == 1);
	CHECK(smtpd_rate_take(dir, "app1", 3, 3600, t0 + 600, 1, 0) == 0);
	/* another user has its own count */
	CHECK(smtpd_rate_take(dir, "app2", 3, 3600, t0 + 600, 1, 0) == 1);
	/* a give-back frees one */
	CHECK(smtpd_rate_take(dir, "app1", 3, 3600, t0 + 700, -1, t0 + 60) == 1);
	CHECK(smtpd_rate_take(dir, "app1", 3, 3600, t0 + 700, 1, 0) == 1);
	CHECK(smtpd_rate_take(dir, "app1", 3, 3600, t0 + 700, 1, 0) == 0);
	/* strict: in no window of an hour more than 3 (a sliding check) */
	for (n = 0, t = t0 + 3600 + 3600 / 60 + 1; t < t0 + 3 * 3600; t += 37)
		n += smtpd_rate_take(dir, "app3", 3, 3600, t, 1, 0) == 1;
	CHECK(n >= 4 && n <= 6);   /* about 3 an hour over 2 hours */
	/* after a whole period and a slot, all free again */
	CHECK(smtpd_rate_take(dir, "app1", 3, 3600, t0 + 700 + 3600 + 61, 1, 0) == 1);
	/* a clock that went back keeps the counts */
	CHECK(smtpd_rate_take(dir, "app4", 1, 60, t0, 1, 0) == 1);
	CHECK(smtpd_rate_take(dir, "app4", 1, 60, t0 - 5000, 1, 0) == 0);
	/* a file that does not parse is an error, never a fresh start */
	put("rate-bad", "rate1 60 3 1 2\n");
	errno = 0;
	CHECK(smtpd_rate_take(dir, "bad", 3, 3600, t0, 1, 0) == -1 && errno == EPROTO);
	put("rate-bad2", "garbage");
	CHECK(smtpd_rate_take(dir, "bad2", 3, 3600, t0, 1, 0) == -1);
	CHECK(smtpd_rate_take(dir, "x/y", 3, 3600, t0, 1, 0) == -1 && errno == EINVAL);
	/* an unusable directory is an error */
	CHECK(smtpd_rate_take("/nonexistent/dir/x", "app1", 3, 3600, t0, 1, 0) == -1);
}

/* the sliding property, exactly: every message at t has fewer than
 * rate others in (t - per, t] */
static void check_rate_strict(void)
{
	time_t ts[400], t;
	int n = 0, i, j;
	for (t = 1800000000; t < 1800000000 + 4 * 3600 && n < 400; t += 13)
		if (smtpd_rate_take(dir, "strict", 5, 3600, t, 1, 0) == 1)
			ts[n++] = t;
	for (i = 0; i < n; i++) {
		int in = 0;
		for (j = 0; j <= i; j++)
			if (ts[j] > ts[i] - 3600)
				in++;
		CHECK(in <= 5);
	}
	CHECK(n >= 15);
}

static void check_tarpit(void)
{
	time_t t0 = 1700000000;
	char a[64];
	int i;
	CHECK(smtpd_tarpit_fail(dir, "192.0.2.7", t0) == 1);
	CHECK(smtpd_tarpit_fail(dir, "192.0.2.7", t0 + 10) == 2);
	CHECK(smtpd_tarpit_fail(dir, "2001:db8::1", t0 + 10) == 1);
	CHECK(smtpd_tarpit_fail(dir, "192.0.2.7", t0 + 20) == 3);
	/* expiry: an hour after the last failure the count starts again */
	CHECK(smtpd_tarpit_fail(dir, "192.0.2.7", t0 + 20 + SMTPD_TARPIT_EXPIRE) == 1);
	/* bounded: a flood of addresses keeps at most SMTPD_TARPIT_MAX, the
	 * newest; the file stays parseable */
	for (i = 0; i < SMTPD_TARPIT_MAX + 50; i++) {
		snprintf(a, sizeof a, "10.0.%d.%d", i / 256, i % 256);
		CHECK(smtpd_tarpit_fail(dir, a, t0 + 5000 + i) == 1);
	}
	CHECK(smtpd_tarpit_fail(dir, "10.0.0.1", t0 + 9000) == 1);      /* evicted */
	CHECK(smtpd_tarpit_fail(dir, "10.0.4.40", t0 + 9000) == 2);     /* kept */
	CHECK(smtpd_tarpit_fail(dir, "a b", t0) == -1 && errno == EINVAL);
	put("tarpit", "tarpit1\n192.0.2.1 x 5\n");
	CHECK(smtpd_tarpit_fail(dir, "192.0.2.1", t0) == -1 && errno == EPROTO);
}

int main(void)
{
	char cmd[300];
	snprintf(dir, sizeof dir, "/tmp/t_smtpd_state.%ld", (long)getpid());
	check_rate();
	check_rate_strict();
	check_tarpit();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "unable to remove %s\n", dir);
	CHECK_DONE();
}
