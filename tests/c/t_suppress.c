/* Suppression list and counters, in a temporary RELAY_HOME. */
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "health/counters.h"
#include "bounce/suppress.h"

int main(void)
{
	char home[] = "/tmp/t_suppress.XXXXXX", n[300], cmd[400];
	struct suppress_entry e;
	struct counts c, add;
	time_t now = time(NULL);

	CHECK(mkdtemp(home) != NULL);
	CHECK(suppress_normalize("Bob@Example.COM", n, sizeof n) == 0);
	CHECK_STR(n, "Bob@example.com");
	CHECK(suppress_normalize("a b@c", n, sizeof n) == -1);
	CHECK(suppress_normalize("", n, sizeof n) == -1);

	/* No list yet: not suppressed, not an error. */
	CHECK(suppress_lookup(home, "a@b.example", &e) == 0);
	CHECK(suppress_add(home, "Bob@Example.COM", "550 5.1.1 no such user", now, 86400) == 0);
	CHECK(suppress_lookup(home, "Bob@example.com", &e) == 1);
	CHECK_STR(e.addr, "Bob@example.com");
	CHECK(e.first == now && e.last == now && e.expires == now + 86400);
	CHECK_STR(e.reason, "550 5.1.1 no such user");
	CHECK(suppress_lookup(home, "bob@example.com", &e) == 0);  /* local part kept */
	/* Expiry is checked at lookup. */
	CHECK(suppress_lookup_at(home, "Bob@example.com", now + 86399, &e) == 1);
	CHECK(suppress_lookup_at(home, "Bob@example.com", now + 86400, &e) == 0);
	/* Refresh keeps first seen, moves last seen and expiry. */
	CHECK(suppress_add(home, "Bob@example.com", NULL, now + 100, 0) == 0);
	CHECK(suppress_lookup_at(home, "Bob@example.com", now + 1000000000L, &e) == 1);
	CHECK(e.first == now && e.last == now + 100 && e.expires == 0);
	CHECK_STR(e.reason, "550 5.1.1 no such user");
	/* Reasons are made safe for the one-line format. */
	CHECK(suppress_add(home, "x@y.example", "a\tb\nc\x01", now, 10) == 0);
	CHECK(suppress_lookup(home, "x@y.example", &e) == 1);
	CHECK_STR(e.reason, "a b_c_");
	/* An expired entry is dropped by the next change. */
	CHECK(suppress_add(home, "z@y.example", NULL, now + 20, 10) == 0);
	CHECK(suppress_lookup_at(home, "x@y.example", now + 20, &e) == 0);
	CHECK(suppress_remove(home, "x@y.example") == 0);  /* already gone */
	CHECK(suppress_remove(home, "z@y.example") == 1);
	CHECK(suppress_lookup(home, "z@y.example", &e) == 0);
	/* A damaged CDB is an error, never "not suppressed". */
	snprintf(cmd, sizeof cmd, "printf xx > %s/state/suppress.cdb", home);
	CHECK(system(cmd) == 0);
	CHECK(suppress_lookup(home, "Bob@example.com", &e) == -1);
	CHECK(suppress_rebuild(home) == 0);
	CHECK(suppress_lookup(home, "Bob@example.com", &e) == 1);

	/* The listing: a text line, or a JSON object through json_str
	 * (quotes and backslashes escaped, UTF-8 passed through). */
	{
		struct buf b = BUF_INIT;
		struct suppress_entry f;
		memset(&f, 0, sizeof f);
		strcpy(f.addr, "J\xc3\xbcrgen@example.com");
		strcpy(f.reason, "say \"no\" \\ now");
		f.first = 1700000000;
		f.last = 1700000100;
		f.expires = 1700000200;
		CHECK(suppress_format(&b, &f, 0, 1700000199) == 0);
		CHECK_STR(b.p, "J\xc3\xbcrgen@example.com first=2023-11-14T22:13:20Z "
		          "last=2023-11-14T22:15:00Z expires=2023-11-14T22:16:40Z reason=say \"no\" \\ now\n");
		b.len = 0;
		CHECK(suppress_format(&b, &f, 0, 1700000200) == 0);
		CHECK(strstr(b.p, " expires=2023-11-14T22:16:40Z (expired) reason=") != NULL);
		b.len = 0;
		f.expires = 0;
		CHECK(suppress_format(&b, &f, 0, 1700000200) == 0);
		CHECK(strstr(b.p, " expires=never reason=") != NULL);
		b.len = 0;
		CHECK(suppress_format(&b, &f, 1, 1700000200) == 0);
		CHECK_STR(b.p, "{\"address\":\"J\xc3\xbcrgen@example.com\",\"first_seen\":1700000000,"
		          "\"last_seen\":1700000100,\"expires\":0,\"expired\":false,"
		          "\"reason\":\"say \\\"no\\\" \\\\ now\"}");
		buf_free(&b);
	}

	/* Counters. */
	CHECK(counters_name_ok("relay", "mx.example:25"));
	CHECK(!counters_name_ok("relay", "../x"));
	CHECK(!counters_name_ok("relay", ".hidden"));
	CHECK(!counters_name_ok("pool", "x"));
	CHECK(counters_window(home, "relay", "mx.example:25", 600, &c) == 0);
	CHECK(c.delivered == 0 && c.deferred == 0 && c.bounced == 0);
	now = 1700000000 - 1700000000 % 60;
	add.delivered = 5; add.deferred = 2; add.bounced = 1;
	CHECK(counters_add_at(home, "relay", "mx.example:25", &add, now - 30 * 60) == 0);
	CHECK(counters_add_at(home, "relay", "mx.example:25", &add, now - 5 * 60) == 0);
	CHECK(counters_add_at(home, "relay", "mx.example:25", &add, now) == 0);
	CHECK(counters_add_at(home, "relay", "mx.example:25", &add, now + 59) == 0);
	CHECK(counters_window_at(home, "relay", "mx.example:25", 60, now + 59, &c) == 1);
	CHECK(c.delivered == 10 && c.deferred == 4 && c.bounced == 2);
	CHECK(counters_window_at(home, "relay", "mx.example:25", 600, now, &c) == 1);
	CHECK(c.delivered == 15);
	CHECK(counters_window_at(home, "relay", "mx.example:25", 3600, now, &c) == 1);
	CHECK(c.delivered == 20);
	/* An hour later, all has aged out. */
	CHECK(counters_window_at(home, "relay", "mx.example:25", 3600, now + 3600, &c) == 1);
	CHECK(c.delivered == 0);
	/* Writing an hour later drops the old buckets from the file. */
	CHECK(counters_add_at(home, "relay", "mx.example:25", &add, now + 7200) == 0);
	CHECK(counters_window_at(home, "relay", "mx.example:25", 3600, now + 7200, &c) == 1);
	CHECK(c.delivered == 5);
	CHECK(counters_add(home, "domain", "example.com", COUNTER_BOUNCED, 3) == 0);
	CHECK(counters_window(home, "domain", "example.com", 60, &c) == 1);
	CHECK(c.bounced == 3 && c.delivered == 0);

	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
