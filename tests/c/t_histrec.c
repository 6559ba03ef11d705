/* lib/send/histrec.c (issue 13): relay-send counts only the configured
 * relays (host:port, and "mx" for every MX delivery), so a name from
 * elsewhere never becomes a file; a minute is written when it is over,
 * not per count; a reload writes what the old tables counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "health/history.h"
#include "send/histrec.h"
#include "send/record.h"
#include "send/sendconf.h"

static char home[256];
static struct history_slot out[HISTORY_SLOTS];

static int exists(const char *rel)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/state/history/%s", home, rel);
	return stat(p, &st) == 0;
}

int main(void)
{
	struct sendconf *c = calloc(1, sizeof *c);   /* megabytes: the pools */
	struct record r;
	const long long m = 29000000;
	char t[64];
	size_t i;

	snprintf(home, sizeof home, "/tmp/t_histrec.%ld", (long)getpid());
	CHECK(mkdir(home, 0700) == 0);
	CHECK(c != NULL);
	c->npools = 2;
	c->pools[0].cfg.n = 2;
	snprintf(c->pools[0].cfg.m[0].host, sizeof c->pools[0].cfg.m[0].host, "Relay1.Example");
	c->pools[0].cfg.m[0].port = 25;
	c->pools[0].cfg.m[1].mx = 1;
	c->pools[1].cfg.n = 1;
	snprintf(c->pools[1].cfg.m[0].host, sizeof c->pools[1].cfg.m[0].host, "relay2.example");
	c->pools[1].cfg.m[0].port = 587;
	memset(&r, 0, sizeof r);
	r.home = home;
	snprintf(t, sizeof t, "%lld", m * 60 + 5);
	setenv("RELAY_HISTORY_TIME", t, 1);
	record_history_config(&r, c);
	CHECK(r.hist != NULL);

	record_history_count(&r, "relay1.example:25", COUNTER_DELIVERED);
	record_history_count(&r, "RELAY1.example:25", COUNTER_DEFERRED);
	record_history_count(&r, "mx:one.example", COUNTER_DELIVERED);
	record_history_count(&r, "mx:two.example", COUNTER_BOUNCED);
	record_history_count(&r, "relay2.example:587", COUNTER_DELIVERED);
	for (i = 0; i < 1000; i++)   /* not configured: never a file */
		record_history_count(&r, i % 2 ? "other.example:25" : "relay2.example:25", COUNTER_DELIVERED);
	record_history_flush(&r, 0);   /* the minute is not over: nothing yet */
	CHECK(!exists("relay"));
	record_history_queue(&r, 5, 1, 2);
	record_history_queue(&r, 9, 9, 9);   /* once a minute: the second is not written */
	CHECK(history_read(home, HISTORY_QUEUE, NULL, m, out) == 1);
	CHECK(out[HISTORY_SLOTS - 1].ok && out[HISTORY_SLOTS - 1].v[0] == 5 && out[HISTORY_SLOTS - 1].v[2] == 2);

	/* a reload: the minute's counts are written first */
	c->npools = 1;
	c->pools[0].cfg.n = 1;
	record_history_config(&r, c);
	CHECK(exists("relay/relay1.example:25") && exists("relay/mx") && exists("relay/relay2.example:587"));
	CHECK(!exists("relay/other.example:25") && !exists("relay/relay2.example:25") && !exists("relay/mx:one.example"));
	CHECK(history_read(home, HISTORY_RELAY, "relay1.example:25", m, out) == 1);
	CHECK(out[HISTORY_SLOTS - 1].ok && out[HISTORY_SLOTS - 1].v[0] == 1 && out[HISTORY_SLOTS - 1].v[1] == 1);
	CHECK(history_read(home, HISTORY_RELAY, "mx", m, out) == 1);
	CHECK(out[HISTORY_SLOTS - 1].v[0] == 1 && out[HISTORY_SLOTS - 1].v[2] == 1);
	/* relay2 is gone from the tables: its counts are dropped, no write */
	record_history_count(&r, "relay2.example:587", COUNTER_DELIVERED);
	record_history_count(&r, "relay1.example:25", COUNTER_DELIVERED);
	record_history_flush(&r, 1);
	CHECK(history_read(home, HISTORY_RELAY, "relay2.example:587", m, out) == 1 && out[HISTORY_SLOTS - 1].v[0] == 1);
	CHECK(history_read(home, HISTORY_RELAY, "relay1.example:25", m, out) == 1 && out[HISTORY_SLOTS - 1].v[0] == 2);
	/* a daemon's minutes: the next count in a new minute writes the one
	 * that is over; the current one waits; the queue gets its next slot */
	r.hist->fixed = (m + 1) * 60 + 1;
	record_history_count(&r, "relay1.example:25", COUNTER_DELIVERED);
	record_history_count(&r, "relay1.example:25", COUNTER_BOUNCED);
	record_history_flush(&r, 0);
	CHECK(history_read(home, HISTORY_RELAY, "relay1.example:25", m + 1, out) == 1);
	CHECK(out[HISTORY_SLOTS - 2].ok && out[HISTORY_SLOTS - 2].v[0] == 2 && !out[HISTORY_SLOTS - 1].ok);
	r.hist->fixed = (m + 2) * 60;
	record_history_flush(&r, 0);   /* minute m + 1 is over: written without a count */
	CHECK(history_read(home, HISTORY_RELAY, "relay1.example:25", m + 2, out) == 1);
	CHECK(out[HISTORY_SLOTS - 2].ok && out[HISTORY_SLOTS - 2].v[0] == 1 && out[HISTORY_SLOTS - 2].v[2] == 1);
	record_history_queue(&r, 4, 0, 0);
	CHECK(history_read(home, HISTORY_QUEUE, NULL, m + 2, out) == 1);
	CHECK(out[HISTORY_SLOTS - 1].ok && out[HISTORY_SLOTS - 1].v[0] == 4 && !out[HISTORY_SLOTS - 2].ok &&
	      out[HISTORY_SLOTS - 3].ok && out[HISTORY_SLOTS - 3].v[0] == 5);
	record_history_free(&r);
	free(c);
	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", home);
		if (system(cmd) != 0)
			return 2;
	}
	CHECK_DONE();
}
