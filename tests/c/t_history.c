/* lib/health/history.c (issue 13): slots written and read back, a
 * restart's counts added to its minute, a stale slot (24 h old) and one
 * in the wrong place left out, a truncated, torn, garbled or foreign
 * file read as missing slots, a damaged file made again by the writer,
 * the count cap and the bounded names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "health/history.h"

static char home[256];
static struct history_slot out[HISTORY_SLOTS];

static struct history_slot slot(long long minute, unsigned long long a, unsigned long long b, unsigned long long c)
{
	struct history_slot s;
	memset(&s, 0, sizeof s);
	s.minute = minute;
	s.v[0] = a;
	s.v[1] = b;
	s.v[2] = c;
	return s;
}

/* out[] index of minute m when now is now_m */
#define AT(m, now_m) ((size_t)((m) - ((now_m) - (HISTORY_SLOTS - 1))))

static long long size_of(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", home, rel);
	return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static void chop(const char *rel, off_t len)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", home, rel);
	if (truncate(p, len) < 0) {
		perror(p);
		exit(2);
	}
}

static void scribble(const char *rel, off_t off, const char *text)
{
	char p[512];
	int fd;
	snprintf(p, sizeof p, "%s/%s", home, rel);
	fd = open(p, O_WRONLY);
	if (fd < 0 || pwrite(fd, text, strlen(text), off) != (ssize_t)strlen(text)) {
		perror(p);
		exit(2);
	}
	close(fd);
}

int main(void)
{
	const long long now = 30000000;   /* a minute: epoch / 60 */
	struct history_slot s;
	char big[70000];
	size_t i, n;

	snprintf(home, sizeof home, "/tmp/t_history.%ld", (long)getpid());
	CHECK(mkdir(home, 0700) == 0);

	/* nothing yet: every slot missing, not an error */
	CHECK(history_read(home, HISTORY_RELAY, "a.example:25", now, out) == 0);
	CHECK(!out[HISTORY_SLOTS - 1].ok && out[HISTORY_SLOTS - 1].minute == now && out[0].minute == now - 1439);

	/* three minutes of one relay, read back oldest first */
	s = slot(now - 2, 4, 1, 0);
	CHECK(history_put(home, HISTORY_RELAY, "a.example:25", &s, 1) == 0);
	s = slot(now - 1, 9, 3, 1);
	CHECK(history_put(home, HISTORY_RELAY, "a.example:25", &s, 1) == 0);
	s = slot(now, 2, 0, 0);
	CHECK(history_put(home, HISTORY_RELAY, "a.example:25", &s, 1) == 0);
	CHECK(size_of("state/history/relay/a.example:25") == HISTORY_FILE_LEN);
	CHECK(history_read(home, HISTORY_RELAY, "a.example:25", now, out) == 1);
	for (i = n = 0; i < HISTORY_SLOTS; i++)
		n += out[i].ok;
	CHECK(n == 3);
	CHECK(out[AT(now - 2, now)].ok && out[AT(now - 2, now)].v[0] == 4 && out[AT(now - 2, now)].v[1] == 1);
	CHECK(out[AT(now - 1, now)].ok && out[AT(now - 1, now)].v[0] == 9 && out[AT(now - 1, now)].v[2] == 1);
	CHECK(out[AT(now, now)].ok && out[AT(now, now)].minute == now);

	/* a restart within the minute: added; without add: replaced */
	s = slot(now, 5, 1, 0);
	CHECK(history_put(home, HISTORY_RELAY, "a.example:25", &s, 1) == 0);
	history_read(home, HISTORY_RELAY, "a.example:25", now, out);
	CHECK(out[AT(now, now)].v[0] == 7 && out[AT(now, now)].v[1] == 1);
	s = slot(now, 1, 0, 0);
	CHECK(history_put(home, HISTORY_QUEUE, NULL, &s, 0) == 0);
	s = slot(now, 6, 2, 3);
	CHECK(history_put(home, HISTORY_QUEUE, NULL, &s, 0) == 0);
	history_read(home, HISTORY_QUEUE, NULL, now, out);
	CHECK(out[AT(now, now)].ok && out[AT(now, now)].v[0] == 6 && out[AT(now, now)].v[1] == 2 &&
	      out[AT(now, now)].v[2] == 3);

	/* a day later the slot of minute now - 2 holds a stale minute: left
	 * out; the same slot written for the new minute does not add the old */
	history_read(home, HISTORY_RELAY, "a.example:25", now + HISTORY_SLOTS - 2, out);
	CHECK(!out[AT(now - 2 + HISTORY_SLOTS, now + HISTORY_SLOTS - 2)].ok);
	CHECK(out[AT(now, now + HISTORY_SLOTS - 2)].ok);   /* still within 24 h */
	s = slot(now - 2 + HISTORY_SLOTS, 1, 0, 0);
	CHECK(history_put(home, HISTORY_RELAY, "a.example:25", &s, 1) == 0);
	history_read(home, HISTORY_RELAY, "a.example:25", now - 2 + HISTORY_SLOTS, out);
	CHECK(out[HISTORY_SLOTS - 1].ok && out[HISTORY_SLOTS - 1].v[0] == 1);
	/* a clock that went back: a slot "in the future" is left out */
	CHECK(history_read(home, HISTORY_RELAY, "a.example:25", now - 1, out) == 1);
	for (i = n = 0; i < HISTORY_SLOTS; i++)
		n += out[i].ok;
	CHECK(n == 1 && out[AT(now - 1, now - 1)].ok && out[AT(now - 1, now - 1)].v[0] == 9);

	/* a slot in the wrong place (its minute is of another slot): missing */
	{
		char line[HISTORY_SLOT_LEN + 1];
		snprintf(line, sizeof line, "%12lld %15u %15u %15u   \n", now - 1, 50u, 0u, 0u);
		scribble("state/history/relay/a.example:25", (off_t)HISTORY_SLOT_LEN * (off_t)((now - 1) % HISTORY_SLOTS + 2),
		         line);
		history_read(home, HISTORY_RELAY, "a.example:25", now, out);
		CHECK(out[AT(now - 1, now)].v[0] == 9 && !out[AT(now, now)].ok);
	}
	/* a torn slot (garbage in the middle of the line): missing, the
	 * others kept */
	scribble("state/history/relay/a.example:25", (off_t)HISTORY_SLOT_LEN * (off_t)((now - 1) % HISTORY_SLOTS + 1) + 20,
	         "x\377");
	history_read(home, HISTORY_RELAY, "a.example:25", now, out);
	CHECK(!out[AT(now - 1, now)].ok);
	/* truncated in the middle of the slots: the ones before are read */
	s = slot(now - 3, 8, 0, 0);
	CHECK(history_put(home, HISTORY_QUEUE, NULL, &s, 0) == 0);
	chop("state/history/queue", (off_t)HISTORY_SLOT_LEN * (off_t)((now - 3) % HISTORY_SLOTS + 2) + 10);
	CHECK(history_read(home, HISTORY_QUEUE, NULL, now, out) == 1);
	CHECK(out[AT(now - 3, now)].ok && out[AT(now - 3, now)].v[0] == 8);
	CHECK(!out[AT(now, now)].ok);
	/* the writer makes a short file again, whole and blank */
	s = slot(now, 3, 0, 0);
	CHECK(history_put(home, HISTORY_QUEUE, NULL, &s, 0) == 0);
	CHECK(size_of("state/history/queue") == HISTORY_FILE_LEN);
	history_read(home, HISTORY_QUEUE, NULL, now, out);
	CHECK(out[AT(now, now)].ok && out[AT(now, now)].v[0] == 3 && !out[AT(now - 3, now)].ok);
	/* empty, a foreign header, a header of another geometry: all missing */
	chop("state/history/queue", 0);
	CHECK(history_read(home, HISTORY_QUEUE, NULL, now, out) == 1 && !out[AT(now, now)].ok);
	memset(big, ' ', sizeof big);
	memcpy(big, "relay-history 1 queue 1440 32", 29);
	big[63] = '\n';
	CHECK(history_parse(big, sizeof big, now, out) == 0);
	memcpy(big, "RC1\n", 4);
	CHECK(history_parse(big, sizeof big, now, out) == 0);

	/* the count cap: 15 digits */
	s = slot(now, ~0ULL, 0, 0);
	CHECK(history_put(home, HISTORY_QUEUE, NULL, &s, 0) == 0);
	history_read(home, HISTORY_QUEUE, NULL, now, out);
	CHECK(out[AT(now, now)].ok && out[AT(now, now)].v[0] == HISTORY_COUNT_MAX);

	/* names: a relay name must be a counters name; no path out */
	s = slot(now, 1, 0, 0);
	errno = 0;
	CHECK(history_put(home, HISTORY_RELAY, "../queue", &s, 1) < 0 && errno == EINVAL);
	CHECK(history_put(home, HISTORY_RELAY, "", &s, 1) < 0);
	CHECK(history_read(home, HISTORY_RELAY, "a/b", now, out) < 0);

	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", home);
		if (system(cmd) != 0)
			return 2;
	}
	CHECK_DONE();
}
