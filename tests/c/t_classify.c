/* Reply classification: the compiled-in table against real-world replies,
 * the etc/classify line parser, and operator rules winning. */
#include <stdlib.h>
#include "check.h"
#include "bounce/classify.h"

static void want(const struct classify_table *t, const char *reply,
                 int cat, int kind, int action)
{
	struct classify_result r;
	classify(t, 0, NULL, reply, &r);
	if (r.category != cat || r.kind != kind || r.action != action)
		fprintf(stderr, "reply \"%s\": got %s/%s/%s\n", reply,
		        classify_category_name(r.category), classify_kind_name(r.kind),
		        classify_action_name(r.action));
	CHECK(r.category == cat);
	CHECK(r.kind == kind);
	CHECK(r.action == action);
}

int main(void)
{
	struct classify_table t = CLASSIFY_TABLE_INIT;
	struct classify_rule r;
	struct classify_result res;
	char err[200], enh[CLASSIFY_ENH_MAX];
	const char *rest;
	int code;

	/* Gmail */
	want(NULL, "550-5.1.1 The email account that you tried to reach does not exist.", CAT_BAD_MAILBOX, KIND_HARD, ACTION_FAIL);
	want(NULL, "421-4.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited mail", CAT_RATE_LIMIT, KIND_SOFT, ACTION_FAILOVER);
	want(NULL, "550-5.7.1 [192.0.2.1] Our system has detected that this message is likely unsolicited mail.", CAT_POLICY, KIND_HARD, ACTION_FAIL);
	want(NULL, "452-4.2.2 The email account that you tried to reach is over quota.", CAT_QUOTA, KIND_SOFT, ACTION_RETRY);
	/* Outlook / Hotmail */
	want(NULL, "550 5.5.0 Requested action not taken: mailbox unavailable", CAT_BAD_MAILBOX, KIND_HARD, ACTION_FAIL);
	want(NULL, "421 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.", CAT_RATE_LIMIT, KIND_SOFT, ACTION_FAILOVER);
	want(NULL, "450 4.7.1 mailbox unavailable", CAT_POLICY, KIND_SOFT, ACTION_RETRY);
	/* Yahoo */
	want(NULL, "554 5.7.9 Message not accepted for policy reasons.", CAT_POLICY, KIND_HARD, ACTION_FAIL);
	want(NULL, "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints", CAT_RATE_LIMIT, KIND_SOFT, ACTION_FAILOVER);
	want(NULL, "553 5.1.1 <x@yahoo.com>: user doesn't have a yahoo.com account", CAT_BAD_MAILBOX, KIND_HARD, ACTION_FAIL);
	/* full mailbox, domains, relays */
	want(NULL, "552 5.2.2 Mailbox full", CAT_QUOTA, KIND_SOFT, ACTION_RETRY);
	want(NULL, "550 5.1.2 Host unknown", CAT_BAD_DOMAIN, KIND_HARD, ACTION_FAIL);
	want(NULL, "556 5.1.10 Recipient address has null MX", CAT_BAD_DOMAIN, KIND_HARD, ACTION_FAIL);
	want(NULL, "535 5.7.8 Authentication credentials invalid", CAT_AUTH, KIND_SOFT, ACTION_FAILOVER);
	want(NULL, "534 5.7.9 Authentication mechanism is too weak", CAT_AUTH, KIND_SOFT, ACTION_FAILOVER);
	want(NULL, "538 5.7.11 Encryption required for requested authentication mechanism", CAT_TLS, KIND_SOFT, ACTION_FAILOVER);
	want(NULL, "530 5.7.0 Must issue a STARTTLS command first", CAT_TLS, KIND_SOFT, ACTION_FAILOVER);
	want(NULL, "530 5.7.0 Authentication required", CAT_AUTH, KIND_SOFT, ACTION_FAILOVER);
	want(NULL, "454 4.7.0 Temporary authentication failure", CAT_AUTH, KIND_SOFT, ACTION_FAILOVER);
	want(NULL, "451 4.3.0 Temporary local problem", CAT_OTHER, KIND_SOFT, ACTION_RETRY);
	want(NULL, "554 5.3.4 Message too big", CAT_OTHER, KIND_HARD, ACTION_FAIL);
	want(NULL, "", CAT_OTHER, KIND_SOFT, ACTION_RETRY);
	want(NULL, NULL, CAT_OTHER, KIND_SOFT, ACTION_RETRY);
	/* A code passed apart from the text; an enhanced code alone. */
	classify(NULL, 550, "5.1.1", "no such person", &res);
	CHECK(res.category == CAT_BAD_MAILBOX && res.kind == KIND_HARD);
	CHECK(classify_suppressible(&res));
	classify(NULL, 0, "5.1.1", "", &res);
	CHECK(res.category == CAT_BAD_MAILBOX && res.kind == KIND_HARD);
	classify(NULL, 0, "4.4.7", "delivery time expired", &res);
	CHECK(res.kind == KIND_SOFT && !classify_suppressible(&res));

	/* Splitting a reply. */
	classify_split_reply("550-5.1.1 text here", &code, enh, &rest);
	CHECK(code == 550);
	CHECK_STR(enh, "5.1.1");
	CHECK_STR(rest, "text here");
	classify_split_reply("250 ok", &code, enh, &rest);
	CHECK(code == 250);
	CHECK_STR(enh, "");
	CHECK_STR(rest, "ok");
	classify_split_reply("5500 x", &code, enh, &rest);
	CHECK(code == 0);
	classify_split_reply("421 9.9.9 x", &code, enh, &rest);
	CHECK_STR(enh, "");

	/* The etc/classify line parser. */
	CHECK(classify_parse_line("", &r, err, sizeof err) == 0);
	CHECK(classify_parse_line("   # comment", &r, err, sizeof err) == 0);
	CHECK(classify_parse_line("550 5.1.1 * -> bad-mailbox hard", &r, err, sizeof err) == 1);
	CHECK_STR(r.code, "550");
	CHECK_STR(r.enh, "5.1.1");
	CHECK_STR(r.pattern, "*");
	CHECK(r.category == CAT_BAD_MAILBOX && r.kind == KIND_HARD);
	CHECK(classify_parse_line("5XX X.7.* \" a -> b \" -> Policy SOFT", &r, err, sizeof err) == 1);
	CHECK_STR(r.code, "5xx");
	CHECK_STR(r.enh, "x.7.*");
	CHECK_STR(r.pattern, " a -> b ");
	CHECK(r.category == CAT_POLICY && r.kind == KIND_SOFT);
	CHECK(classify_parse_line("* * too many hops -> other hard", &r, err, sizeof err) == 1);
	CHECK_STR(r.pattern, "too many hops");
	CHECK(classify_parse_line("550 5.1.1 x -> bad-mailbox", &r, err, sizeof err) == -1);
	CHECK_STR(err, "missing hard or soft");
	CHECK(classify_parse_line("550 5.1.1 x bad-mailbox hard", &r, err, sizeof err) == -1);
	CHECK(classify_parse_line("650 5.1.1 x -> other hard", &r, err, sizeof err) == -1);
	CHECK_STR(err, "bad reply code (want 550, 5xx, 55x or *)");
	CHECK(classify_parse_line("-> other hard", &r, err, sizeof err) == -1);
	CHECK_STR(err, "missing reply code");
	CHECK(classify_parse_line("55000000000000000000000000000000000 5.1.1 x -> other hard", &r, err, sizeof err) == -1);
	CHECK_STR(err, "missing reply code");
	CHECK(classify_parse_line("550 -> other hard", &r, err, sizeof err) == -1);
	CHECK_STR(err, "missing enhanced code");
	CHECK(classify_parse_line("550 5.1.1.1 x -> other hard", &r, err, sizeof err) == -1);
	CHECK_STR(err, "bad enhanced code (want 5.1.1, 5.1.*, x.7.* or *)");
	CHECK(classify_parse_line("* X.1.* x -> other hard", &r, err, sizeof err) == 1);
	CHECK_STR(r.code, "*");
	CHECK_STR(r.enh, "x.1.*");
	CHECK(classify_parse_line("55 5.1.1 x -> other hard", &r, err, sizeof err) == -1);
	CHECK(classify_parse_line("550 6.1.1 x -> other hard", &r, err, sizeof err) == -1);
	CHECK(classify_parse_line("550 5.1 x -> other hard", &r, err, sizeof err) == -1);
	CHECK(classify_parse_line("550 5.1.1 -> other hard", &r, err, sizeof err) == -1);
	CHECK(classify_parse_line("550 5.1.1 x -> junk hard", &r, err, sizeof err) == -1);
	CHECK(classify_parse_line("550 5.1.1 x -> other hard extra", &r, err, sizeof err) == -1);
	CHECK(classify_parse_line("550 5.1.1 x\x01y -> other hard", &r, err, sizeof err) == -1);
	CHECK(classify_parse_line("550 5.1.1 caf\xc3\xa9 -> other hard", &r, err, sizeof err) == -1);

	/* Operator rules come first. */
	CHECK(classify_parse_line("5xx * *daily sending quota* -> rate-limit soft", &r, err, sizeof err) == 1);
	CHECK(classify_table_add(&t, &r) == 0);
	CHECK(classify_parse_line("550 5.1.1 * -> other soft", &r, err, sizeof err) == 1);
	CHECK(classify_table_add(&t, &r) == 0);
	want(&t, "550 5.4.5 Daily sending quota exceeded", CAT_RATE_LIMIT, KIND_SOFT, ACTION_FAILOVER);
	want(&t, "550 5.1.1 no such user", CAT_OTHER, KIND_SOFT, ACTION_RETRY);
	classify(&t, 0, NULL, "550 5.1.1 no such user", &res);
	CHECK(res.rule == 1);
	want(&t, "552 5.1.1 no such user", CAT_BAD_MAILBOX, KIND_HARD, ACTION_FAIL);
	classify_table_free(&t);

	/* home/etc/classify: absent is the defaults only. */
	CHECK(classify_load_home(&t, "/nonexistent", err, sizeof err) == 0 && t.n == 0);

	CHECK(classify_category_parse("rate-limit") == CAT_RATE_LIMIT);
	CHECK(classify_category_parse("nope") == -1);
	CHECK_DONE();
}
