/* conf_member_policy: the one TLS and AUTH lookup of relay-send and
 * relay-health, on a home compiled by relay-config's library code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
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
	CHECK_DONE();
}
