/* lib/health: the state/health file (write, read back, malformed),
 * health_member_down with fresh and stale data, the counters reader as
 * relay-health uses it (counters.h) and the error-rate verdict
 * (verdict.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "health/counters.h"
#include "health/health.h"
#include "health/verdict.h"

static char home[256];

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", home, rel);
	f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

int main(void)
{
	struct health_state h = HEALTH_STATE_INIT, w = HEALTH_STATE_INIT;
	struct counts c;
	struct health_eject ej = HEALTH_EJECT_DEFAULTS;
	char dir[300], text[256];
	double pct;
	time_t now = 1800000000; /* minute 30000000 */

	snprintf(home, sizeof home, "%s/t_health.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(home))
		return 2;

	/* no file: empty, nothing down */
	CHECK(health_read(home, &h) == 0);
	CHECK(h.n == 0);
	CHECK(health_member_down(&h, "main", "a:25", now) == 0);

	/* write and read back */
	w.when = now;
	w.interval = 60;
	CHECK(health_add(&w, "main", "a.example:587", HS_DOWN, now - 100, "error-rate") == 0);
	CHECK(health_add(&w, "main", "b.example:25", HS_UP, now - 5, "ok") == 0);
	CHECK(health_add(&w, "bulk", "a.example:587", HS_DEGRADED, now, "two words\nnewline") == 0);
	CHECK(health_add(&w, "bulk", "mx", HS_SKIPPED, now, "mx") == 0);
	CHECK(health_write(home, &w) == 0);
	CHECK(health_read(home, &h) == 1);
	CHECK(h.n == 4 && h.when == now && h.interval == 60);
	CHECK_STR(h.e[0].reason, "error-rate");
	CHECK_STR(h.e[2].reason, "two-words/newline");
	CHECK(h.e[0].since == now - 100);

	/* down only while fresh: up to 3 intervals after the run */
	CHECK(health_member_down(&h, "main", "a.example:587", now) == 1);
	CHECK(health_member_down(&h, NULL, "a.example:587", now + 180) == 1);
	CHECK(health_member_down(&h, "main", "a.example:587", now + 181) == 0);
	CHECK(health_member_down(&h, "main", "a.example:587", now - 61) == 0); /* clock went back */
	CHECK(health_member_down(&h, "bulk", "a.example:587", now) == 0);       /* degraded is not down */
	CHECK(health_member_down(&h, "main", "b.example:25", now) == 0);
	CHECK(health_member_down(&h, "main", "c.example:25", now) == 0);        /* unknown */
	CHECK(health_member_down(&h, "bulk", "mx", now) == 0);

	/* malformed files are errors, never "all up" silently */
	put(HEALTH_FILE, "RH2 1 60\n");
	CHECK(health_read(home, &h) == -1 && errno == EPROTO);
	put(HEALTH_FILE, "RH1 1800000000 60\nmain a:25 sideways 1 x\n");
	CHECK(health_read(home, &h) == -1 && errno == EPROTO);
	put(HEALTH_FILE, "RH1 1800000000 0\n");
	CHECK(health_read(home, &h) == -1 && errno == EPROTO);
	put(HEALTH_FILE, "");
	CHECK(health_read(home, &h) == -1 && errno == EPROTO);

	/* counters: the window counts whole minutes back from now */
	snprintf(dir, sizeof dir, "%s/state/counters", home);
	mkdir(dir, 0755);
	snprintf(dir, sizeof dir, "%s/state/counters/relay", home);
	mkdir(dir, 0755);
	CHECK(counters_window_at(home, "relay", "a:25", 600, now, &c) == 0);
	CHECK(c.delivered == 0);
	snprintf(text, sizeof text, "RC1\n%ld 10 1 0\n%ld 5 0 2\n%ld 100 100 100\n%ld 7 7 7\n",
	         30000000L, 29999991L, 29999990L, 30000001L);
	put("state/counters/relay/a:25", text);
	CHECK(counters_window_at(home, "relay", "a:25", 600, now, &c) == 1);
	CHECK(c.delivered == 15 && c.deferred == 1 && c.bounced == 2);
	CHECK(counters_window_at(home, "relay", "a:25", 1, now, &c) == 1);
	CHECK(c.delivered == 10);
	CHECK(counters_window_at(home, "relay", "../x", 600, now, &c) == -1);
	put("state/counters/relay/b:25", "XX\n");
	CHECK(counters_window_at(home, "relay", "b:25", 600, now, &c) == -1 && errno == EPROTO);

	/* verdict: over 5% of at least 20 is down, over 2% degraded */
	c.delivered = 19; c.deferred = 1; c.bounced = 0;
	CHECK(health_error_verdict(&ej, &c, &pct) == HS_DEGRADED && pct == 5.0);
	c.delivered = 18; c.deferred = 1; c.bounced = 1;
	CHECK(health_error_verdict(&ej, &c, &pct) == HS_DOWN);
	c.delivered = 0; c.deferred = 10; c.bounced = 9;
	CHECK(health_error_verdict(&ej, &c, &pct) == HS_UP);
	c.delivered = 100; c.deferred = 0; c.bounced = 0;
	CHECK(health_error_verdict(&ej, &c, &pct) == HS_UP && pct == 0);

	health_free(&h);
	health_free(&w);
	{
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
		if (system(cmd) != 0)
			return 2;
	}
	CHECK_DONE();
}
