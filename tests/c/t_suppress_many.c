/* suppress_add_many: 10,000+ addresses are one rewrite of the list (not
 * one per address, which made suppressing a big bounce quadratic), with
 * the same rules as suppress_add. Counted, not timed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "bounce/suppress.h"

#define N 12000

int main(void)
{
	char home[] = "/tmp/t_suppress_many.XXXXXX", cmd[300];
	static char addrs[N][40];
	static struct suppress_item it[N + 3];
	struct suppress_entry e;
	time_t now = time(NULL);
	unsigned long before;
	size_t i, skipped;

	CHECK(mkdtemp(home) != NULL);
	/* one address listed before, one expired */
	CHECK(suppress_add(home, "old@example.net", "550 5.1.1 old", now - 100, 0) == 0);
	CHECK(suppress_add(home, "gone@example.net", "550 5.1.1 gone", now - 100, 10) == 0);
	for (i = 0; i < N; i++) {
		snprintf(addrs[i], sizeof addrs[i], "user%zu@Example.NET", i);
		it[i].addr = addrs[i];
		it[i].reason = "bad-mailbox 5.1.1 no such user";
	}
	it[N].addr = "old@example.net";          /* refreshed, first seen kept */
	it[N].reason = NULL;
	it[N + 1].addr = "user7@example.net";    /* a repeat within the batch */
	it[N + 1].reason = "bad-mailbox 5.1.1 again";
	it[N + 2].addr = "not an address";       /* skipped, counted */
	it[N + 2].reason = "x";

	before = suppress_rewrites();
	CHECK(suppress_add_many(home, it, N + 3, now, 86400, &skipped) == 0);
	CHECK(suppress_rewrites() - before == 1);   /* one rewrite for 12,003 */
	CHECK(skipped == 1);

	CHECK(suppress_lookup_at(home, "user0@example.net", now, &e) == 1);
	CHECK(e.first == now && e.expires == now + 86400);
	CHECK_STR(e.reason, "bad-mailbox 5.1.1 no such user");
	CHECK(suppress_lookup_at(home, "user11999@example.net", now, &e) == 1);
	CHECK(suppress_lookup_at(home, "user7@example.net", now, &e) == 1);
	CHECK_STR(e.reason, "bad-mailbox 5.1.1 again");
	CHECK(suppress_lookup_at(home, "old@example.net", now, &e) == 1);
	CHECK(e.first == now - 100 && e.last == now && e.expires == now + 86400);
	CHECK_STR(e.reason, "550 5.1.1 old");
	CHECK(suppress_lookup_at(home, "gone@example.net", now - 95, &e) == 0);

	/* every address once in the text list: N + old */
	{
		size_t lines = 0;
		int c;
		char p[300];
		FILE *f;
		snprintf(p, sizeof p, "%s/state/suppress", home);
		CHECK((f = fopen(p, "r")) != NULL);
		while ((c = fgetc(f)) != EOF)
			lines += c == '\n';
		fclose(f);
		CHECK(lines == 1 + N + 1);   /* the comment line, N, old */
	}

	/* the one-by-one way is one rewrite per address: what the batch avoids */
	before = suppress_rewrites();
	for (i = 0; i < 50; i++)
		CHECK(suppress_add(home, addrs[i], NULL, now, 86400) == 0);
	CHECK(suppress_rewrites() - before == 50);

	/* an empty batch changes nothing */
	before = suppress_rewrites();
	CHECK(suppress_add_many(home, it, 0, now, 0, NULL) == 0);
	CHECK(suppress_rewrites() == before);

	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
