/* relay-send's configuration: a table that reads but whose lookups fail
 * (a corrupt hash table) is never "not configured": the retry schedule
 * says so (and never expires mail on it), the TLS policy is an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "conf/conf.h"
#include "conf/member.h"
#include "send/sendconf.h"

/* Make every lookup of t fail: the hash-table pointers point past the end. */
static void corrupt(struct conf *t)
{
	memset((void *)t->cdb.cdb_mem, 0xff, 2048);
}

int main(void)
{
	char dir[] = "/tmp/t_sendconf.XXXXXX", home[256], err[256];
	struct sendconf *c = calloc(1, sizeof *c);
	struct conf_retry r;
	struct conf_member_policy p;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(home, sizeof home, "%s/h", dir);
	CHECK(conf_init_home(home, 0) == 0);
	check_put_etc(home, "retry", "bulk schedule=1m lifetime=2h\n");
	check_put_etc(home, "tls", "relay1.test:587 verify\n");
	CHECK(conf_compile(home, 0) == 0);
	c->home = home;
	CHECK(sendconf_reload(c, err, sizeof err) == 0);

	CHECK(sendconf_retry(c, "bulk", &r) == 0);
	CHECK(r.n == 1 && r.schedule[0] == 60 && r.lifetime == 7200);
	CHECK(conf_member_policy(home, &c->tls, &c->auth, "relay1.test:587", 587, 0, &p, err, sizeof err) == 0);
	CHECK(p.tls.mode == CONF_TLS_VERIFY);
	conf_member_policy_wipe(&p);

	corrupt(&c->retry);
	corrupt(&c->tls);
	/* an unreadable schedule: an error, and no lifetime ends on it */
	CHECK(sendconf_retry(c, "bulk", &r) < 0);
	CHECK(r.n >= 1 && r.lifetime == CONF_DURATION_MAX);
	/* an unreadable TLS table: never the default (may) */
	CHECK(conf_member_policy(home, &c->tls, &c->auth, "relay1.test:587", 587, 0, &p, err, sizeof err) < 0);
	CHECK(strstr(err, "etc/tls.cdb") != NULL);

	/* a reload that fails leaves c as it was */
	{
		char path[512];
		FILE *f;
		snprintf(path, sizeof path, "%s/etc/routes.cdb", home);
		f = fopen(path, "w");
		fputs("not a cdb", f);
		fclose(f);
		snprintf(c->helo, sizeof c->helo, "kept");
		CHECK(sendconf_reload(c, err, sizeof err) < 0);
		CHECK(strstr(err, "etc/routes.cdb") != NULL);
		CHECK_STR(c->helo, "kept");
	}
	sendconf_free(c);
	free(c);
	CHECK_DONE();
}
