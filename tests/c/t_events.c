/* The event spool (base/evspool.h) and its reader (events/stream.h):
 * records, segments, rotation, checkpoints, removal after every consumer,
 * a torn last record after a crash; the Message-ID finder; etc/webhooks'
 * line parser; signing and the meaning of a status. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/evlog.h"
#include "base/evspool.h"
#include "conf/webhooks.h"
#include "events/hook.h"
#include "events/msgid.h"
#include "events/stream.h"
#include "check.h"

static char home[PATH_MAX];

static void put(const char *event, int i)
{
	char j[200];
	int n = snprintf(j, sizeof j, "{\"v\":1,\"event\":\"%s\",\"time\":%d.000,\"n\":%d}", event, 1000 + i, i);
	CHECK(evspool_append(j, (size_t)n) == 0);
}

/* every record from the stream's current position; returns the count and
 * the n fields in order into got */
static int drain(struct evstream *s, int *got, int cap)
{
	struct evrec r;
	int k = 0;
	while (evstream_next(s, &r) == 1) {
		const char *p = strstr(r.json, "\"n\":");
		if (k < cap && p)
			got[k] = atoi(p + 4);
		k++;
	}
	return k;
}

static long segs(const char *writer)
{
	unsigned long long *v;
	long n = evspool_segments(home, writer, &v);
	free(v);
	return n;
}

static void seg_path(char *out, size_t cap, const char *writer, unsigned long long seq)
{
	snprintf(out, cap, "%s/state/events/%s/%016llu", home, writer, seq);
}

static void t_records(void)
{
	char line[256];
	const char *j;
	size_t jl, n = evrec_format(line, sizeof line, "{\"a\":1}", 7);
	CHECK(n == 20);
	CHECK(line[n - 1] == '\n');
	CHECK(evrec_check(line, n - 1, &j, &jl) == 0 && jl == 7 && !memcmp(j, "{\"a\":1}", 7));
	line[14] = '2';   /* the JSON changed: the CRC no longer matches */
	CHECK(evrec_check(line, n - 1, &j, &jl) < 0);
	CHECK(evrec_check("E1 0000000 {}", 13, &j, &jl) < 0);
	CHECK(evrec_format(line, sizeof line, "{\"a\":\n1}", 8) == 0);   /* no newline inside */
	CHECK(evrec_time("{\"time\":12.5}", 13) == 12.5);
}

static void t_rotation_and_checkpoint(void)
{
	struct evstream s;
	int got[300], i, k, ok;
	char ck[PATH_MAX + 64];
	setenv("RELAY_EVENTS_SEGMENT_SIZE", "1000", 1);
	/* a consumer registered before anything is written: nothing goes */
	snprintf(ck, sizeof ck, "%s/state/events/consumers/one", home);
	CHECK(evstream_open(&s, home) == 0 && evstream_save(&s, ck) == 0);
	evstream_close(&s);
	CHECK(evspool_open(home, "writer-a") == 0);
	for (i = 0; i < 100; i++)
		put("delivered", i);
	CHECK(segs("writer-a") > 3);        /* ~70 bytes a record, 1000 a segment */
	CHECK(evstream_open(&s, home) == 0);
	k = drain(&s, got, 300);
	CHECK(k == 100);
	for (ok = 1, i = 0; i < k && i < 100; i++)
		ok &= got[i] == i;
	CHECK(ok);                          /* in order, none missing, none twice */
	/* a checkpoint half way: a new reader goes on from there */
	evstream_close(&s);
	CHECK(evstream_open(&s, home) == 0);
	for (i = 0; i < 40; i++) {
		struct evrec r;
		CHECK(evstream_next(&s, &r) == 1);
	}
	CHECK(evstream_save(&s, ck) == 0);
	evstream_close(&s);
	CHECK(evstream_open(&s, home) == 0);
	CHECK(evstream_load(&s, ck) == 0);
	k = drain(&s, got, 300);
	CHECK(k == 60 && got[0] == 40 && got[59] == 99);
	evstream_close(&s);
	/* removal: a rotation removes only what the consumer has passed */
	{
		unsigned long long need, *v;
		long n;
		CHECK(evspool_needed(home, "writer-a", &need) == 0);
		CHECK(need > 1 && need != ULLONG_MAX);
		for (i = 100; i < 120; i++)
			put("delivered", i);
		n = evspool_segments(home, "writer-a", &v);
		CHECK(n > 0 && v[0] == need);     /* older ones gone, the needed one kept */
		free(v);
		CHECK(evstream_open(&s, home) == 0);
		CHECK(evstream_load(&s, ck) == 0);
		k = drain(&s, got, 300);
		CHECK(k == 80 && got[0] == 40);   /* nothing the consumer needs was removed */
		evstream_close(&s);
	}
	evspool_close();
	unsetenv("RELAY_EVENTS_SEGMENT_SIZE");
}

static void t_torn_tail(void)
{
	struct evstream s;
	char p[PATH_MAX + 100];
	int got[20], k, fd;
	CHECK(evspool_open(home, "writer-b") == 0);
	put("deferred", 1);
	put("deferred", 2);
	evspool_close();
	/* a crash in the middle of a record: its line has no newline */
	seg_path(p, sizeof p, "writer-b", 1);
	fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK(write(fd, "E1 12345678 {\"v\":1,\"ev", 22) == 22);
	close(fd);
	CHECK(evstream_open(&s, home) == 0);
	k = drain(&s, got, 20);
	CHECK(k >= 2);                       /* writer-a's records, then writer-b's two */
	evstream_close(&s);
	/* the unfinished line is not a record, and a restarted writer ends it
	 * first: the records after it are read */
	CHECK(evspool_open(home, "writer-b") == 0);
	put("deferred", 3);
	evspool_close();
	{
		struct evrec r;
		int n3 = 0, nb = 0;
		CHECK(evstream_open(&s, home) == 0);
		while (evstream_next(&s, &r) == 1)
			if (!strcmp(r.writer, "writer-b")) {
				nb++;
				n3 += strstr(r.json, "\"n\":3") != NULL;
			}
		CHECK(nb == 3 && n3 == 1);
		CHECK(s.skipped == 1);           /* the torn line, skipped */
		evstream_close(&s);
	}
	/* a damaged line in the middle is skipped, the rest read */
	fd = open(p, O_WRONLY | O_APPEND);
	CHECK(write(fd, "E1 00000000 {\"x\":1}\n", 20) == 20);
	close(fd);
	CHECK(evspool_open(home, "writer-b") == 0);
	put("deferred", 4);
	evspool_close();
	{
		struct evrec r;
		int nb = 0;
		CHECK(evstream_open(&s, home) == 0);
		while (evstream_next(&s, &r) == 1)
			nb += !strcmp(r.writer, "writer-b");
		CHECK(nb == 4 && s.skipped == 2);
		evstream_close(&s);
	}
}

static void t_evlog(void)
{
	struct evstream s;
	struct evrec r;
	struct buf b = BUF_INIT;
	int found = 0;
	CHECK(ev_spool(home, "writer-c", 0) == 0);
	ev_begin("delivered");
	ev_str("id", "q1");
	ev_str("rcpt", "a@b.example");
	ev_str("dsn", "2.0.0");
	ev_str("text", "line\nwith \"quotes\"");
	ev_num("code", 250);
	ev_rec_str("message_id", "<m1@x>");
	ev_end();
	evspool_close();
	CHECK(evstream_open(&s, home) == 0);
	while (evstream_next(&s, &r) == 1)
		if (!strcmp(r.writer, "writer-c")) {
			found++;
			CHECK(strstr(r.json, "\"queue_id\":\"q1\"") != NULL);
			CHECK(strstr(r.json, "\"recipient\":\"a@b.example\"") != NULL);
			CHECK(strstr(r.json, "\"enhanced_code\":\"2.0.0\"") != NULL);
			CHECK(strstr(r.json, "\"text\":\"line/with \\\"quotes\\\"\"") != NULL);
			CHECK(strstr(r.json, "\"message_id\":\"<m1@x>\"") != NULL);
			CHECK(evstream_kv(r.json, r.len, &b) == 0);
			CHECK(strstr(b.p, "event=delivered") && strstr(b.p, "code=250") &&
			      strstr(b.p, "text=\"line/with \\\"quotes\\\"\""));
		}
	CHECK(found == 1);
	evstream_close(&s);
	buf_free(&b);
}

static void t_msgid(void)
{
	char out[256];
	const char *m = "Subject: x\r\nMessage-ID:\r\n <a.b@c>\r\n\r\nMessage-ID: <no@body>\r\n";
	CHECK(events_message_id_mem(m, strlen(m), out, sizeof out) == 1);
	CHECK_STR(out, "<a.b@c>");
	m = "Subject: x\r\n\r\nMessage-ID: <no@body>\r\n";
	CHECK(events_message_id_mem(m, strlen(m), out, sizeof out) == 0);
}

static void t_webhook_line(void)
{
	struct conf_webhook w;
	char err[300];
	CHECK(conf_parse_webhook("app", " https://h.example/hook secret=k events=delivered,bounced batch=5", &w,
	                         err, sizeof err) == 0);
	CHECK(w.batch == 5 && w.tries == 3 && w.timeout == 10);
	CHECK(conf_webhook_wants(&w, "bounced") && !conf_webhook_wants(&w, "deferred"));
	CHECK(conf_parse_webhook("app", "http://h.example/hook", &w, err, sizeof err) < 0);   /* clear text off-host */
	CHECK(conf_parse_webhook("app", "http://127.0.0.1:9/x", &w, err, sizeof err) == 0);
	CHECK(conf_parse_webhook("app", "https://h/ events=deliverd", &w, err, sizeof err) < 0);
	CHECK(conf_parse_webhook("app", "https://h/ batch=0", &w, err, sizeof err) < 0);
	CHECK(conf_parse_webhook("App", "https://h/", &w, err, sizeof err) < 0);
	CHECK(conf_parse_webhook("app", "https://h/ colour=red", &w, err, sizeof err) < 0);
}

static void t_hook(void)
{
	char hex[65];
	/* RFC 4231 test case 2 with "ts." in front: checked against Python's hmac */
	CHECK(hook_sign((const unsigned char *)"Jefe", 4, "what do ya want ", "for nothing?", 12, hex) == 0);
	CHECK(strlen(hex) == 64);
	CHECK(hook_classify(200) == HOOK_OK && hook_classify(204) == HOOK_OK);
	CHECK(hook_classify(500) == HOOK_RETRY && hook_classify(0) == HOOK_RETRY);
	CHECK(hook_classify(408) == HOOK_RETRY && hook_classify(429) == HOOK_RETRY);
	CHECK(hook_classify(400) == HOOK_REFUSED && hook_classify(302) == HOOK_REFUSED);
	CHECK(hook_backoff(1, 300, 0.99) <= 1.0 && hook_backoff(1, 300, 0) >= 0.5);
	CHECK(hook_backoff(4, 300, 0.999) > 7 && hook_backoff(4, 300, 0.999) <= 8);
	CHECK(hook_backoff(40, 300, 0.999) <= 300 && hook_backoff(40, 300, 0) >= 150);
}

int main(void)
{
	char t[] = "/tmp/t_events.XXXXXX", p[PATH_MAX + 64];
	CHECK(mkdtemp(t) != NULL);
	snprintf(home, sizeof home, "%s", t);
	snprintf(p, sizeof p, "%s/state", home);
	mkdir(p, 0755);
	CHECK(evspool_open(home, "x") == 1);   /* no state/events: the spool is off */
	snprintf(p, sizeof p, "%s/state/events", home);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/state/events/consumers", home);
	mkdir(p, 0755);
	t_records();
	t_rotation_and_checkpoint();
	t_torn_tail();
	t_evlog();
	t_msgid();
	t_webhook_line();
	t_hook();
	if (!check_failures) {
		char cmd[PATH_MAX + 20];
		snprintf(cmd, sizeof cmd, "rm -rf %s", home);
		if (system(cmd) != 0)
			fprintf(stderr, "unable to remove %s\n", home);
	}
	CHECK_DONE();
}
