/* conf_member_policy: the one TLS and AUTH lookup of relay-send and
 * relay-health, on a home compiled by relay-config's library code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "conf/cdbw.h"
#include "conf/conf.h"
#include "conf/member.h"

int main(void)
{
	char dir[] = "/tmp/t_member.XXXXXX", home[256], err[256], path[512];
	struct conf tls, auth;
	struct conf_member_policy p;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(home, sizeof home, "%s/h", dir);
	CHECK(conf_init_home(home, 0) == 0);
	check_put_etc(home, "tls", "relay1.test:587 verify ca=certs/ca.pem\nplain.test:25 none\nmail.example verify\n");
	check_put_etc(home, "auth", "Relay1.Test:587 alice s3cret\nplain.test:25 bob pw\nmail.example:25 carol pw\n");
	CHECK(conf_compile(home, 0) == 0);
	CHECK(conf_open(&tls, home, "tls") >= 0);
	CHECK(conf_open(&auth, home, "auth") >= 0);

	/* explicit verify with a ca= relative to etc/, AUTH found by a key in any case */
	CHECK(conf_member_policy(home, &tls, &auth, "RELAY1.test:587", 587, 0, &p, err, sizeof err) == 0);
	CHECK(p.tls_explicit && p.tls.mode == CONF_TLS_VERIFY);
	snprintf(path, sizeof path, "%s/etc/certs/ca.pem", home);
	CHECK_STR(p.ca, path);
	CHECK(p.have_auth);
	CHECK_STR(p.auth.user, "alice");
	CHECK(!p.auth_plaintext_ok);
	conf_member_policy_wipe(&p);
	CHECK(p.auth.pass[0] == 0);

	/* "none" said explicitly: AUTH may go in clear */
	CHECK(conf_member_policy(home, &tls, &auth, "plain.test:25", 25, 0, &p, err, sizeof err) == 0);
	CHECK(p.tls.mode == CONF_TLS_NONE && p.have_auth && p.auth_plaintext_ok);
	conf_member_policy_wipe(&p);

	/* no entry: the default by port; 465 is smtps verify */
	CHECK(conf_member_policy(home, &tls, &auth, "other.test:465", 465, 0, &p, err, sizeof err) == 0);
	CHECK(!p.tls_explicit && p.tls.mode == CONF_TLS_VERIFY && p.tls.smtps && !p.have_auth);
	CHECK(p.ca[0] == 0);
	CHECK(conf_member_policy(home, &tls, &auth, "other.test:25", 25, 0, &p, err, sizeof err) == 0);
	CHECK(p.tls.mode == CONF_TLS_MAY && !p.auth_plaintext_ok);

	/* MX delivery: the policy by domain, never AUTH */
	CHECK(conf_member_policy(home, &tls, &auth, "Mail.Example", 25, 1, &p, err, sizeof err) == 0);
	CHECK(p.tls.mode == CONF_TLS_VERIFY && !p.have_auth);

	conf_close(&tls);
	conf_close(&auth);

	/* issue 12: etc/auth by sender, sender domain, scoped to one relay */
	{
		char k[700];
		CHECK(conf_parse_auth_key("From:Alice@Example.COM", k, sizeof k, err, sizeof err) == 0);
		CHECK_STR(k, "from:alice@example.com");
		CHECK(conf_parse_auth_key("from:@example.com/Relay1.test:587", k, sizeof k, err, sizeof err) == 0);
		CHECK_STR(k, "from:@example.com/relay1.test:587");
		CHECK(conf_parse_auth_key("from:a/b@example.com/[::1]:25", k, sizeof k, err, sizeof err) == 0);
		CHECK_STR(k, "from:a/b@example.com/[::1]:25");
		CHECK(conf_parse_auth_key("RELAY1.test:587", k, sizeof k, err, sizeof err) == 0);
		CHECK_STR(k, "relay1.test:587");
		CHECK(conf_parse_auth_key("from:alice", k, sizeof k, err, sizeof err) < 0);
		CHECK(conf_parse_auth_key("from:@example.com/relay1.test", k, sizeof k, err, sizeof err) < 0);
		CHECK(conf_parse_auth_key("from:@exa mple.com", k, sizeof k, err, sizeof err) < 0);
		CHECK(conf_parse_auth_key("relay1.test", k, sizeof k, err, sizeof err) < 0);
		CHECK(conf_parse_auth_key("to:example.com", k, sizeof k, err, sizeof err) < 0);
		CHECK(conf_parse_auth_key("from:@example.com/", k, sizeof k, err, sizeof err) < 0);
	}
	check_put_etc(home, "auth", "from:alice@example.com alice-acct pa\n"
	                            "from:@example.com example-acct pd\n"
	                            "from:carol@example.com/relay1.test:587 carol-r1 pc\n"
	                            "from:@other.test/plain.test:25 other-plain po\n");
	CHECK(conf_compile(home, 0) == 0);
	CHECK(conf_open(&tls, home, "tls") >= 0);
	CHECK(conf_open(&auth, home, "auth") >= 0);
	{
		static const struct { const char *relay, *sender, *user, *key; } cases[] = {
			/* the most specific wins: sender, sender domain, relay */
			{ "relay1.test:587", "Alice@Example.com", "alice-acct", "from:alice@example.com" },
			{ "relay1.test:587", "dave@example.com", "example-acct", "from:@example.com" },
			{ "relay1.test:587", "dave@elsewhere.test", "alice", "relay1.test:587" },
			{ "relay1.test:587", "", "alice", "relay1.test:587" },
			{ "relay1.test:587", NULL, "alice", "relay1.test:587" },
			/* a scoped key only on its relay; on another the next key */
			{ "relay1.test:587", "carol@example.com", "carol-r1", "from:carol@example.com/relay1.test:587" },
			{ "plain.test:25", "carol@example.com", "example-acct", "from:@example.com" },
			{ "plain.test:25", "eve@other.test", "other-plain", "from:@other.test/plain.test:25" },
			{ "relay1.test:587", "eve@other.test", "alice", "relay1.test:587" },
			{ "other.test:25", "eve@other.test", NULL, "" },
			/* a sender's account on a relay with no account of its own */
			{ "other.test:25", "alice@example.com", "alice-acct", "from:alice@example.com" },
		};
		size_t i;
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			unsigned port = strstr(cases[i].relay, ":25") ? 25 : 587;
			CHECK(conf_member_policy_from(home, &tls, &auth, cases[i].relay, port, 0, cases[i].sender,
			                              &p, err, sizeof err) == 0);
			if (cases[i].user) {
				CHECK(p.have_auth);
				CHECK_STR(p.auth.user, cases[i].user);
			} else
				CHECK(!p.have_auth);
			CHECK_STR(p.auth_key, cases[i].key);
			conf_member_policy_wipe(&p);
		}
		/* never AUTH for MX, whoever sends */
		CHECK(conf_member_policy_from(home, &tls, &auth, "mail.example", 25, 1, "alice@example.com",
		                              &p, err, sizeof err) == 0);
		CHECK(!p.have_auth);
		/* relay-health's probe: the relay's own account */
		CHECK(conf_member_policy(home, &tls, &auth, "relay1.test:587", 587, 0, &p, err, sizeof err) == 0);
		CHECK_STR(p.auth.user, "alice");
		conf_member_policy_wipe(&p);
	}
	conf_close(&auth);

	/* a sender's entry that no longer parses: an error, never the
	 * relay's account or no AUTH */
	{
		struct cdbw w;
		snprintf(path, sizeof path, "%s/etc/auth.cdb", home);
		CHECK(cdbw_start(&w, path, 0600) == 0);
		CHECK(cdbw_add(&w, "", 0, CONF_VERSION, strlen(CONF_VERSION)) == 0);
		CHECK(cdbw_add(&w, "relay1.test:587", 15, "alice s3cret", 12) == 0);
		CHECK(cdbw_add(&w, "from:@example.com", 17, "nopassword", 10) == 0);
		CHECK(cdbw_commit(&w) == 0);
		CHECK(conf_open(&auth, home, "auth") >= 0);
		CHECK(conf_member_policy_from(home, &tls, &auth, "relay1.test:587", 587, 0, "dave@example.com",
		                              &p, err, sizeof err) < 0);
		CHECK(!p.have_auth && p.auth.pass[0] == 0);
		CHECK(conf_member_policy_from(home, &tls, &auth, "relay1.test:587", 587, 0, "dave@else.test",
		                              &p, err, sizeof err) == 0);
		CHECK_STR(p.auth.user, "alice");
		conf_member_policy_wipe(&p);
		conf_close(&auth);
	}
	conf_close(&tls);
	CHECK_DONE();
}
