/* issue 16 share: the journal's records (bounce/sjournal.h), a stream
 * entry, an entry of the set and stream ids (issue 16 sset), and a
 * shared health verdict (send/share_parse.h), health_parse,
 * and suppress_apply (merging, removal, nothing journaled). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "bounce/sjournal.h"
#include "bounce/suppress.h"
#include "health/health.h"
#include "send/share_parse.h"

static int parses(const char *s)
{
	struct sjrec r;
	return sjournal_parse(s, strlen(s), &r) == 0;
}

static void records(void)
{
	struct sjrec r, back;
	struct buf b = BUF_INIT;
	const char *line = "add User@example.net 100 200 0 bad-mailbox 5.1.1 550 no such user";
	CHECK(sjournal_parse(line, strlen(line), &r) == 0);
	CHECK(!r.del);
	CHECK_STR(r.e.addr, "User@example.net");
	CHECK(r.e.first == 100 && r.e.last == 200 && r.e.expires == 0);
	CHECK_STR(r.e.reason, "bad-mailbox 5.1.1 550 no such user");
	CHECK(sjournal_format(&b, &r) == 0);
	CHECK(b.len == strlen(line) + 1 && b.p[b.len - 1] == '\n');
	CHECK(sjournal_parse(b.p, b.len - 1, &back) == 0 && !memcmp(&back, &r, sizeof r));
	buf_free(&b);
	CHECK(parses("add a@b 1 2 3"));              /* no reason */
	CHECK(parses("del a@b"));
	CHECK(!parses("del a@b x"));
	CHECK(!parses("del "));
	CHECK(!parses("add a@b 1 2"));
	CHECK(!parses("add a@b 1 -2 3 x"));
	CHECK(!parses("add a@b 1 2 3x"));
	CHECK(!parses("add a@b 1 2 99999999999999999999 x"));
	CHECK(!parses("add a@b 1 2 3 tab\there"));
	CHECK(!parses("put a@b 1 2 3"));
	CHECK(!parses(""));
	{	/* a NUL inside is a control byte */
		struct sjrec x;
		CHECK(sjournal_parse("del a@b\0c", 9, &x) < 0);
	}
}

static void entries(void)
{
	const char *f[6] = { "node", "a", "recs", "add x@y 1 2 0 r\nbogus\ndel z@y\nadd torn@y 1", "v", "2" };
	size_t len[6], i, n = 0, cap = 0, bad = 0, rl = 0;
	struct sjrec *out = NULL;
	const char *recs = NULL;
	char node[SHARE_NODE_MAX + 1];
	for (i = 0; i < 6; i++)
		len[i] = strlen(f[i]);
	CHECK(share_entry_parse(f, len, 6, node, sizeof node, &recs, &rl) == 0);
	CHECK_STR(node, "a");
	CHECK(share_recs_parse(recs, rl, &out, &n, &cap, &bad) == 0);
	CHECK(n == 2 && bad == 2);
	CHECK(n == 2 && !out[0].del && !strcmp(out[0].e.addr, "x@y") && out[1].del && !strcmp(out[1].e.addr, "z@y"));
	free(out);
	CHECK(share_entry_parse(f, len, 2, node, sizeof node, &recs, &rl) < 0);   /* no recs */
	f[1] = "a b";
	len[1] = 3;
	CHECK(share_entry_parse(f, len, 6, node, sizeof node, &recs, &rl) < 0);   /* a space in node */
	len[1] = 0;
	CHECK(share_entry_parse(f, len, 6, node, sizeof node, &recs, &rl) < 0);   /* empty node */
}

/* issue 16 sset: relay:suppress:set's field and value; stream ids */
static int set_ok(const char *f, const char *v)
{
	struct sjrec r;
	return share_set_parse(f, strlen(f), v, strlen(v), &r) == 0;
}

static void set_entries(void)
{
	struct sjrec r;
	struct buf b = BUF_INIT;
	const char *v = "100 200 0 bad-mailbox 5.1.1 550 no such user";
	CHECK(share_set_parse("User@example.net", 16, v, strlen(v), &r) == 0);
	CHECK(!r.del);
	CHECK_STR(r.e.addr, "User@example.net");
	CHECK(r.e.first == 100 && r.e.last == 200 && r.e.expires == 0);
	CHECK_STR(r.e.reason, "bad-mailbox 5.1.1 550 no such user");
	/* the same as the add record that set it (what push_lua stores) */
	CHECK(sjournal_format(&b, &r) == 0 && buf_addc(&b, 0) == 0);
	CHECK_STR(b.p, "add User@example.net 100 200 0 bad-mailbox 5.1.1 550 no such user\n");
	buf_free(&b);
	CHECK(set_ok("a@b", "1 2 3 "));    /* an empty reason, as sjournal_format writes it */
	CHECK(set_ok("a@b", "1 2 3"));
	CHECK(!set_ok("a b", "1 2 3 x"));   /* a space in the field would shift the numbers */
	CHECK(!set_ok("a@b 1", "2 3 4 x"));
	CHECK(!set_ok("", "1 2 3 x"));
	CHECK(!set_ok("a@b", "1 2"));
	CHECK(!set_ok("a@b", "1 2 x y"));
	CHECK(!set_ok("a@b", "1 2 3 tab\there"));
	CHECK(!set_ok("a\nb", "1 2 3 x"));
	CHECK(!set_ok("a@b", ""));
	{	/* a NUL inside a value, and a value too long for a record */
		char big[SJOURNAL_LINE_MAX + 10];
		CHECK(share_set_parse("a@b", 3, "1 2 3\0x", 7, &r) < 0);
		memset(big, 'x', sizeof big);
		memcpy(big, "1 2 3 ", 6);
		CHECK(share_set_parse("a@b", 3, big, sizeof big, &r) < 0);
		CHECK(share_set_parse("a@b", 3, big, 150, &r) == 0 && strlen(r.e.reason) == 144);
	}
	CHECK(share_id_cmp("1700000000000-0", "1700000000000-0") == 0);
	CHECK(share_id_cmp("1700000000000-1", "1700000000000-0") > 0);
	CHECK(share_id_cmp("1700000000000-9", "1700000000000-10") < 0);   /* numbers, not text */
	CHECK(share_id_cmp("999-5", "1000-0") < 0);
	CHECK(share_id_cmp("1000", "1000-0") == 0);
	CHECK(share_id_cmp("0", "1-0") < 0);
	CHECK(share_id_cmp("1-0", "0") > 0);
	CHECK(share_id_cmp("x", "1-0") == 0);
	CHECK(share_id_cmp("1-", "1-0") == 0);
	CHECK(share_id_cmp("1-0-0", "2-0") == 0);
	CHECK(share_id_cmp("", "2-0") == 0);
	CHECK(share_id_cmp("99999999999999999999999-0", "2-0") == 0);   /* overflows: not an id */
}

static void verdicts(void)
{
	struct health_entry e, e2;
	struct buf fb = BUF_INIT, vb = BUF_INIT;
	char node[SHARE_NODE_MAX + 1];
	time_t when;
	long iv;
	CHECK(health_parse("main 10.0.0.1:25 down 1700 connect refused", &e) == 0);
	CHECK(e.state == HS_DOWN && e.since == 1700);
	CHECK_STR(e.reason, "connect-refused");
	CHECK(health_parse("main 10.0.0.1:25 sideways 1700 x", &e2) < 0);
	CHECK(health_parse("main 10.0.0.1:25 down", &e2) < 0);
	CHECK(share_health_format(&fb, &vb, &e, "node-a", 1800, 60) == 0 && buf_addc(&fb, 0) == 0 &&
	      buf_addc(&vb, 0) == 0);
	CHECK_STR(fb.p, "main 10.0.0.1:25");
	CHECK_STR(vb.p, "down 1700 connect-refused node-a 1800 60");
	CHECK(share_health_parse(fb.p, vb.p, &e2, node, sizeof node, &when, &iv) == 0);
	CHECK_STR(node, "node-a");
	CHECK(when == 1800 && iv == 60 && e2.state == HS_DOWN && e2.since == 1700);
	CHECK_STR(e2.pool, "main");
	CHECK_STR(e2.member, "10.0.0.1:25");
	CHECK_STR(e2.reason, "connect-refused");
	CHECK(share_health_parse("main x:25", "down 1700 r a 1800", &e2, node, sizeof node, &when, &iv) < 0);
	CHECK(share_health_parse("main x:25", "down 1700 r a 0 60", &e2, node, sizeof node, &when, &iv) < 0);
	CHECK(share_health_parse("main x:25", "down 1700 r a 1800 -5", &e2, node, sizeof node, &when, &iv) < 0);
	CHECK(share_health_parse("main x:25", "maybe 1700 r a 1800 60", &e2, node, sizeof node, &when, &iv) < 0);
	/* fresh for 3 intervals, as health_fresh */
	CHECK(share_health_fresh(1800, 60, 1800 + 180));
	CHECK(!share_health_fresh(1800, 60, 1800 + 181));
	CHECK(!share_health_fresh(1800, 60, 1800 - 61));
	buf_free(&fb);
	buf_free(&vb);
}

static void apply(void)
{
	char home[] = "/tmp/t_share.XXXXXX", jp[300], cmd[300];
	struct sjrec r[4];
	struct suppress_entry e;
	struct stat st;
	size_t added, removed;
	time_t now = time(NULL);
	CHECK(mkdtemp(home) != NULL);
	CHECK(suppress_add(home, "keep@example.net", "local", now - 50, 0) == 0);
	CHECK(suppress_add(home, "gone@example.net", "local", now - 50, 0) == 0);
	memset(r, 0, sizeof r);
	snprintf(r[0].e.addr, sizeof r[0].e.addr, "keep@Example.NET");   /* merged */
	r[0].e.first = now - 1000;
	r[0].e.last = now - 10;
	r[0].e.expires = now + 100;
	snprintf(r[0].e.reason, sizeof r[0].e.reason, "from a");
	r[1].del = 1;
	snprintf(r[1].e.addr, sizeof r[1].e.addr, "gone@example.net");
	snprintf(r[2].e.addr, sizeof r[2].e.addr, "new@example.net");
	r[2].e.first = r[2].e.last = now;
	snprintf(r[3].e.addr, sizeof r[3].e.addr, "old@example.net");   /* expired: skipped */
	r[3].e.first = r[3].e.last = now - 100;
	r[3].e.expires = now - 1;
	CHECK(suppress_apply(home, r, 4, now, &added, &removed) == 0);
	CHECK(added == 2 && removed == 1);
	CHECK(suppress_lookup(home, "keep@example.net", &e) == 1);
	CHECK(e.first == now - 1000 && e.last == now - 10 && e.expires == now + 100);
	CHECK_STR(e.reason, "from a");
	CHECK(suppress_lookup(home, "gone@example.net", NULL) == 0);
	CHECK(suppress_lookup(home, "new@example.net", NULL) == 1);
	CHECK(suppress_lookup(home, "old@example.net", NULL) == 0);
	/* no setting shared here: nothing journaled, by a local change either */
	snprintf(jp, sizeof jp, "%s/state/%s", home, SJOURNAL_FILE);
	CHECK(stat(jp, &st) < 0);
	/* a removal then an add again of the same address, in one batch */
	r[0].del = 1;
	r[1] = r[2];
	r[1].del = 0;
	snprintf(r[0].e.addr, sizeof r[0].e.addr, "new@example.net");
	CHECK(suppress_apply(home, r, 2, now, &added, &removed) == 0);
	CHECK(added == 1 && removed == 1);
	CHECK(suppress_lookup(home, "new@example.net", NULL) == 1);
	CHECK(sjournal_trim(home, 10, NULL, NULL) == 0);   /* no journal: nothing to do */
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	records();
	entries();
	set_entries();
	verdicts();
	apply();
	CHECK_DONE();
}
