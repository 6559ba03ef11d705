/* etc/aliases: the line parser, the expansion walk (loops, depth, self)
 * and the intake's use of a compiled table (intake/aliases.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "base/diag.h"
#include "conf/cdbw.h"
#include "conf/conf.h"
#include "intake/aliases.h"
#include "intake/envelope.h"

static int parse(const char *key, const char *rest, char *ck, struct buf *cv, char *err)
{
	return conf_parse_alias(key, rest, ck, CONF_ALIAS_NAME_MAX + 1, cv, err, 512);
}

/* An in-memory table "name value\n..." for the walk. */
static const char *table;
static char emitted[4096];
static int lookup(void *ctx, const char *name, struct buf *val)
{
	const char *p = table;
	size_t n = strlen(name);
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			val->len = 0;
			return buf_add(val, p + n + 1, (size_t)(nl - p) - n - 1) < 0 ? -1 : 1;
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}
static int emit(void *ctx, const char *a)
{
	strcat(emitted, emitted[0] ? " " : "");
	strcat(emitted, a);
	return 0;
}
static int expand(const char *t, const char *name, char *why)
{
	struct conf_alias_walk w = { lookup, emit, NULL, "relay.test", "" };
	int r;
	table = t;
	emitted[0] = 0;
	r = conf_alias_expand(&w, name);
	strcpy(why, w.why);
	return r;
}

static void write_cdb(const char *home, const char *const *kv)
{
	char path[512];
	struct cdbw w;
	snprintf(path, sizeof path, "%s/etc/aliases.cdb", home);
	CHECK(cdbw_start(&w, path, 0644) == 0);
	CHECK(cdbw_add(&w, "", 0, CONF_VERSION, strlen(CONF_VERSION)) == 0);
	for (; *kv; kv += 2)
		CHECK(cdbw_add(&w, kv[0], strlen(kv[0]), kv[1], strlen(kv[1])) == 0);
	CHECK(cdbw_commit(&w) == 0);
}

static char *joined(const struct envelope *e)
{
	static char s[4096];
	size_t i;
	s[0] = 0;
	for (i = 0; i < e->nrcpt; i++) {
		strcat(s, i ? " " : "");
		strcat(s, e->rcpt[i]);
	}
	return s;
}

int main(void)
{
	char ck[CONF_ALIAS_NAME_MAX + 1], err[512], why[512], home[] = "/tmp/t_aliases.XXXXXX", p[600];
	struct buf cv = BUF_INIT;
	struct envelope e;
	char deep[2048] = "";
	int i;

	/* ---- parsing: sendmail's form, qmail's, and no space after ':' */
	CHECK(parse("Root:", " ops@Example.COM,  Second@x.org ,third", ck, &cv, err) == 0);
	CHECK_STR(ck, "root");
	CHECK_STR(cv.p, "ops@example.com Second@x.org third");
	CHECK(parse("root:ops@example.com,", "", ck, &cv, err) == 0);
	CHECK_STR(cv.p, "ops@example.com");
	CHECK(parse("MAILER-DAEMON", " postmaster", ck, &cv, err) == 0);
	CHECK_STR(ck, "mailer-daemon");
	CHECK_STR(cv.p, "postmaster");
	CHECK(parse("root", " :  ops@example.com", ck, &cv, err) == 0);
	CHECK_STR(cv.p, "ops@example.com");
	CHECK(parse("root", " : : ops@example.com", ck, &cv, err) == -1);
	CHECK(parse("www-data:", "Root", ck, &cv, err) == 0);
	CHECK_STR(cv.p, "root");
	/* refused: what relay cannot deliver, and what is not an address */
	CHECK(parse("a:", "|/usr/bin/procmail", ck, &cv, err) == -1);
	CHECK(strstr(err, "programs, files") != NULL);
	CHECK(parse("a:", "/var/mail/a", ck, &cv, err) == -1);
	CHECK(parse("a:", ":include:/etc/list", ck, &cv, err) == -1);
	CHECK(parse("a:", "\"x y\"@example.com", ck, &cv, err) == -1);
	CHECK(parse("a:", "", ck, &cv, err) == -1);
	CHECK(strstr(err, "names no address") != NULL);
	CHECK(parse("a:", "x@bad..domain", ck, &cv, err) == -1);
	CHECK(parse("a:", "x@", ck, &cv, err) == -1);
	CHECK(parse("a:", "@example.com", ck, &cv, err) == -1);
	CHECK(parse("a@b:", "x@example.com", ck, &cv, err) == -1);
	CHECK(parse(":", "x@example.com", ck, &cv, err) == -1);
	memset(p, 'a', 65);
	p[65] = 0;
	CHECK(parse(p, "x@example.com", ck, &cv, err) == -1);   /* name of 65 */
	strcpy(p + 65, "@example.com");
	CHECK(parse("a", p, ck, &cv, err) == -1);               /* local part of 65 */
	p[64] = 0;
	CHECK(parse(p, "x@example.com", ck, &cv, err) == 0);    /* 64 is fine */

	/* ---- the walk */
	CHECK(expand("root ops@example.com\n", "nobody", why) == 0);
	CHECK(expand("postmaster root\nroot ops@example.com x@example.org\n", "postmaster", why) == 1);
	CHECK_STR(emitted, "ops@example.com x@example.org");
	/* a name without an alias, and @host, are local names */
	CHECK(expand("a b c@relay.test d@example.com\n", "a", why) == 1);
	CHECK_STR(emitted, "b@relay.test c@relay.test d@example.com");
	CHECK(expand("a b c@RELAY.TEST\nc x@example.com\n", "a", why) == 1);
	CHECK_STR(emitted, "b@relay.test x@example.com");
	/* a name in its own list is delivered as it is */
	CHECK(expand("root root ops@example.com\n", "root", why) == 1);
	CHECK_STR(emitted, "root@relay.test ops@example.com");
	/* loops stop the walk, named */
	CHECK(expand("a b\nb c\nc a\n", "a", why) == -2);
	CHECK_STR(why, "alias loop: a -> b -> c -> a");
	CHECK(expand("a b\nb a@relay.test\n", "a", why) == -2);
	/* the same name twice on different branches is not a loop */
	CHECK(expand("a b c\nb d\nc d\nd x@example.com\n", "a", why) == 1);
	CHECK_STR(emitted, "x@example.com x@example.com");
	/* a chain of CONF_ALIAS_DEPTH names expands; one more does not */
	for (i = 1; i < CONF_ALIAS_DEPTH; i++)
		sprintf(deep + strlen(deep), "n%d n%d\n", i, i + 1);
	sprintf(deep + strlen(deep), "n%d end@example.com\n", CONF_ALIAS_DEPTH);
	CHECK(expand(deep, "n1", why) == 1);
	CHECK_STR(emitted, "end@example.com");
	CHECK(expand(deep, "n0", why) == 0);
	sprintf(deep + strlen(deep), "n0 n1\n");
	CHECK(expand(deep, "n0", why) == -2);
	CHECK(strstr(why, "deeper than 10") != NULL);

	/* ---- at intake, over a compiled table */
	CHECK(mkdtemp(home) != NULL);
	snprintf(p, sizeof p, "%s/etc", home);
	CHECK(mkdir(p, 0755) == 0);
	envelope_init(&e, "relay.test");
	CHECK(envelope_rcpt_arg(&e, "root, Bob@Example.net, postmaster@RELAY.TEST, root@other.test", err, sizeof err) == 0);
	/* no table: nothing changes */
	CHECK(aliases_expand(home, &e, err, sizeof err) == 0);
	CHECK_STR(joined(&e), "root@relay.test Bob@Example.net postmaster@RELAY.TEST root@other.test");
	{
		static const char *const kv[] = { "root", "ops@example.com second@example.org",
			"postmaster", "root", NULL };
		write_cdb(home, kv);
	}
	CHECK(aliases_expand(home, &e, err, sizeof err) == 0);
	/* postmaster's ops@ and second@ are root's again: kept once */
	CHECK_STR(joined(&e), "ops@example.com second@example.org Bob@Example.net root@other.test");
	envelope_free(&e);
	/* a loop in a table relay-config did not write: temporary, e as it was */
	{
		static const char *const kv[] = { "a", "b", "b", "a", "c", "x@@y", NULL };
		write_cdb(home, kv);
	}
	envelope_init(&e, "relay.test");
	CHECK(envelope_rcpt_arg(&e, "ok@example.com, a", err, sizeof err) == 0);
	CHECK(aliases_expand(home, &e, err, sizeof err) == EXIT_TEMP);
	CHECK(strstr(err, "alias loop: a -> b -> a") != NULL);
	CHECK_STR(joined(&e), "ok@example.com a@relay.test");
	envelope_free(&e);
	/* a target that is no address: temporary */
	envelope_init(&e, "relay.test");
	CHECK(envelope_rcpt_arg(&e, "c", err, sizeof err) == 0);
	CHECK(aliases_expand(home, &e, err, sizeof err) == EXIT_TEMP);
	CHECK(strstr(err, "not a valid address") != NULL);
	/* a damaged table is an error, never "no alias" */
	snprintf(p, sizeof p, "%s/etc/aliases.cdb", home);
	{
		FILE *f = fopen(p, "w");
		CHECK(f && fputs("xx", f) >= 0 && fclose(f) == 0);
	}
	CHECK(aliases_expand(home, &e, err, sizeof err) == EXIT_TEMP);
	CHECK(strstr(err, "etc/aliases.cdb") != NULL);
	CHECK_STR(joined(&e), "c@relay.test");
	envelope_free(&e);
	buf_free(&cv);
	snprintf(p, sizeof p, "rm -rf %s", home);
	CHECK(system(p) == 0);
	CHECK_DONE();
}
