/* Unit tests of lib/conf/: the value parsers (parse.c, tables.c,
 * settings.c), the CDB reader (reader.c) and relay-config's compiler.
 * With arguments it is a test tool for tests/config.bats:
 *   t_conf dump HOME TABLE        every record as "key<TAB>value"
 *   t_conf get HOME TABLE KEY     every value of KEY, one a line
 *   t_conf route HOME SENDER CLASS DOMAIN   the pool conf_route picks */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conf/conf.h"
#include "base/diag.h"

static char err[512];

static int tool(int argc, char **argv)
{
	struct conf c;
	struct buf k = BUF_INIT, v = BUF_INIT;
	int r;
	if (argc >= 4 && strcmp(argv[1], "dump") == 0) {
		if (conf_open(&c, argv[2], argv[3]) < 0)
			die_sys(111, "open %s", argv[3]);
		conf_rewind(&c);
		while ((r = conf_each(&c, &k, &v)) == 1)
			printf("%s\t%s\n", k.p, v.p);
		goto done;
	}
	if (argc >= 5 && strcmp(argv[1], "get") == 0) {
		if (conf_open(&c, argv[2], argv[3]) < 0)
			die_sys(111, "open %s", argv[3]);
		if (conf_find(&c, argv[4]) < 0)
			return 111;
		while ((r = conf_next(&c, &v)) == 1)
			printf("%s\n", v.p);
		goto done;
	}
	if (argc >= 6 && strcmp(argv[1], "route") == 0) {
		if (conf_open(&c, argv[2], "routes") < 0)
			die_sys(111, "open routes");
		r = conf_route(&c, argv[3], argv[4], argv[5], &v);
		if (r >= 0)
			printf("%s\n", r ? v.p : "(mx)");
		goto done;
	}
	fprintf(stderr, "usage: t_conf [dump HOME TABLE | get HOME TABLE KEY | route HOME SENDER CLASS DOMAIN]\n");
	return 100;
done:
	conf_close(&c);
	buf_free(&k);
	buf_free(&v);
	return r < 0 ? 111 : 0;
}

/* Parse a pool value and give back its canonical form (or "ERR: reason"). */
static const char *pool(const char *v)
{
	static struct buf b;
	struct conf_pool p;
	if (conf_parse_pool(v, &p, err, sizeof err) < 0) {
		b.len = 0;
		buf_printf(&b, "ERR: %s", err);
		return b.p;
	}
	conf_format_pool(&p, &b);
	return b.p;
}

static const char *tls(const char *v)
{
	static struct buf b;
	struct conf_tls t;
	if (conf_parse_tls(v, &t, err, sizeof err) < 0) {
		b.len = 0;
		buf_printf(&b, "ERR: %s", err);
		return b.p;
	}
	conf_format_tls(&t, &b);
	return b.p;
}

static const char *limits(const char *v)
{
	static struct buf b;
	struct conf_limits l;
	if (conf_parse_limits(v, &l, err, sizeof err) < 0) {
		b.len = 0;
		buf_printf(&b, "ERR: %s", err);
		return b.p;
	}
	conf_format_limits(&l, &b);
	return b.p;
}

static const char *retry(const char *class, const char *v)
{
	static struct buf b;
	struct conf_retry r;
	if (conf_parse_retry(class, v, &r, err, sizeof err) < 0) {
		b.len = 0;
		buf_printf(&b, "ERR: %s", err);
		return b.p;
	}
	conf_format_retry(&r, &b);
	return b.p;
}

static const char *setting(const char *k, const char *v)
{
	static struct buf b;
	if (conf_parse_setting(k, v, &b, err, sizeof err) < 0) {
		b.len = 0;
		buf_printf(&b, "ERR: %s", err);
	}
	return b.p;
}

static const char *rkey(const char *k)
{
	static char out[1024];
	if (conf_parse_route_key(k, out, sizeof out, err, sizeof err) < 0)
		snprintf(out, sizeof out, "ERR: %s", err);
	return out;
}

static const char *target(const char *k)
{
	static char out[1024];
	if (conf_parse_target(k, out, sizeof out, err, sizeof err) < 0)
		snprintf(out, sizeof out, "ERR: %s", err);
	return out;
}

static int starts(const char *s, const char *p) { return s && strncmp(s, p, strlen(p)) == 0; }

static void t_duration(void)
{
	unsigned long s;
	char out[32];
	CHECK(conf_parse_duration("30s", &s, err, sizeof err) == 0 && s == 30);
	CHECK(conf_parse_duration("5m", &s, err, sizeof err) == 0 && s == 300);
	CHECK(conf_parse_duration("2h", &s, err, sizeof err) == 0 && s == 7200);
	CHECK(conf_parse_duration("5d", &s, err, sizeof err) == 0 && s == 432000);
	CHECK(conf_parse_duration("1w", &s, err, sizeof err) == 0 && s == 604800);
	CHECK(conf_parse_duration("0s", &s, err, sizeof err) == 0 && s == 0);
	CHECK(conf_parse_duration("3650d", &s, err, sizeof err) == 0);
	CHECK(conf_parse_duration("3651d", &s, err, sizeof err) < 0);
	CHECK(conf_parse_duration("99999999999999999999s", &s, err, sizeof err) < 0);
	CHECK(conf_parse_duration("30", &s, err, sizeof err) < 0);
	CHECK(conf_parse_duration("s", &s, err, sizeof err) < 0);
	CHECK(conf_parse_duration("", &s, err, sizeof err) < 0);
	CHECK(conf_parse_duration("5x", &s, err, sizeof err) < 0);
	CHECK(conf_parse_duration("-5m", &s, err, sizeof err) < 0);
	CHECK(conf_parse_duration("5mm", &s, err, sizeof err) < 0);
	CHECK(conf_parse_duration("05m", &s, err, sizeof err) < 0);
	CHECK(conf_parse_duration("1.5h", &s, err, sizeof err) < 0);
	CHECK(starts(err, "bad duration"));
	conf_format_duration(90, out, sizeof out);
	CHECK_STR(out, "90s");
	conf_format_duration(120, out, sizeof out);
	CHECK_STR(out, "2m");
	conf_format_duration(86400, out, sizeof out);
	CHECK_STR(out, "1d");
	conf_format_duration(0, out, sizeof out);
	CHECK_STR(out, "0s");
}

static void t_host(void)
{
	char h[CONF_HOST_MAX + 1], big[400];
	unsigned port;
	CHECK(conf_parse_host("Relay.Example.COM", h, sizeof h, err, sizeof err) == 0);
	CHECK_STR(h, "relay.example.com");
	CHECK(conf_parse_host("192.0.2.1", h, sizeof h, err, sizeof err) == 0);
	CHECK(conf_parse_host("192.0.2.256", h, sizeof h, err, sizeof err) < 0);
	CHECK(conf_parse_host("[2001:DB8::1]", h, sizeof h, err, sizeof err) == 0);
	CHECK_STR(h, "[2001:db8::1]");
	CHECK(conf_parse_host("[nonsense]", h, sizeof h, err, sizeof err) < 0);
	CHECK(conf_parse_host("a..b", h, sizeof h, err, sizeof err) < 0);
	CHECK(conf_parse_host("-a.b", h, sizeof h, err, sizeof err) < 0);
	CHECK(conf_parse_host("a-.b", h, sizeof h, err, sizeof err) < 0);
	CHECK(conf_parse_host("a_b.c", h, sizeof h, err, sizeof err) < 0);
	CHECK(conf_parse_host("a.b.", h, sizeof h, err, sizeof err) < 0);
	CHECK(conf_parse_host("", h, sizeof h, err, sizeof err) < 0);
	memset(big, 'a', 64);
	strcpy(big + 64, ".com");
	CHECK(conf_parse_host(big, h, sizeof h, err, sizeof err) < 0);
	big[63] = 0;
	CHECK(conf_parse_host(big, h, sizeof h, err, sizeof err) == 0);
	memset(big, 'a', 300);
	big[300] = 0;
	CHECK(conf_parse_host(big, h, sizeof h, err, sizeof err) < 0);

	CHECK(conf_parse_hostport("h.example:587", 1, h, sizeof h, &port, err, sizeof err) == 0 && port == 587);
	CHECK(conf_parse_hostport("h.example", 0, h, sizeof h, &port, err, sizeof err) == 0 && port == 25);
	CHECK(conf_parse_hostport("h.example", 1, h, sizeof h, &port, err, sizeof err) < 0);
	CHECK(conf_parse_hostport("[::1]:2525", 1, h, sizeof h, &port, err, sizeof err) == 0 && port == 2525);
	CHECK_STR(h, "[::1]");
	CHECK(conf_parse_hostport("[::1]x", 0, h, sizeof h, &port, err, sizeof err) < 0);
	CHECK(conf_parse_hostport("h:0", 1, h, sizeof h, &port, err, sizeof err) < 0);
	CHECK(conf_parse_hostport("h:65535", 1, h, sizeof h, &port, err, sizeof err) == 0 && port == 65535);
	CHECK(conf_parse_hostport("h:65536", 1, h, sizeof h, &port, err, sizeof err) < 0);
	CHECK(starts(err, "bad port \"65536\""));
	CHECK(conf_parse_hostport("h:", 1, h, sizeof h, &port, err, sizeof err) < 0);
	CHECK(conf_parse_hostport("h:25x", 1, h, sizeof h, &port, err, sizeof err) < 0);
	CHECK(conf_parse_hostport("h:+25", 1, h, sizeof h, &port, err, sizeof err) < 0);
	CHECK(conf_parse_hostport("h:1:2", 1, h, sizeof h, &port, err, sizeof err) < 0);
}

static void t_pool(void)
{
	CHECK_STR(pool("failover a.example:587 B.example"), "failover a.example:587 b.example:25");
	CHECK_STR(pool("FailOver\ta.example:587   mx"), "failover a.example:587 mx");
	CHECK_STR(pool("roundrobin 192.0.2.1:2525 [::1]:2526"), "roundrobin 192.0.2.1:2525 [::1]:2526");
	CHECK_STR(pool("weighted a:1*3 b:2 mx*2"), "weighted a:1*3 b:2*1 mx*2");
	CHECK_STR(pool("fastest a:1"), "ERR: unknown strategy \"fastest\" (want failover, roundrobin or weighted)");
	CHECK(starts(pool("failover"), "ERR: no members"));
	CHECK(starts(pool(""), "ERR: missing or bad strategy"));
	CHECK(starts(pool("failover a:1*2"), "ERR: member \"a:1\": a *weight needs strategy weighted"));
	CHECK(starts(pool("weighted a:1*0"), "ERR: member \"a:1\": bad weight"));
	CHECK(starts(pool("weighted a:1*-1"), "ERR: member \"a:1\": bad weight"));
	CHECK(starts(pool("weighted a:1*x"), "ERR: member \"a:1\": bad weight"));
	CHECK(starts(pool("weighted a:1*1000001"), "ERR: member \"a:1\": bad weight"));
	CHECK(starts(pool("failover a:1 A:1"), "ERR: duplicate member"));
	CHECK(starts(pool("failover a b:25 b"), "ERR: duplicate member"));
	CHECK(starts(pool("failover mx MX"), "ERR: duplicate member"));
	CHECK(starts(pool("failover a:99999"), "ERR: bad port"));
	CHECK(starts(pool("failover mx:25"), "failover mx:25")); /* a host named mx */
	{
		struct buf b = BUF_INIT;
		int i;
		buf_adds(&b, "failover");
		for (i = 0; i < CONF_POOL_MAX; i++)
			buf_printf(&b, " h%d", i);
		CHECK(starts(pool(b.p), "failover h0:25"));
		buf_adds(&b, " one-more");
		CHECK(starts(pool(b.p), "ERR: too many members"));
		buf_free(&b);
	}
	{
		struct conf_pool p;
		CHECK(conf_parse_pool("weighted a.example:587*3 mx", &p, err, sizeof err) == 0);
		CHECK(p.strategy == CONF_WEIGHTED && p.n == 2);
		CHECK_STR(p.m[0].host, "a.example");
		CHECK(p.m[0].port == 587 && p.m[0].weight == 3 && !p.m[0].mx);
		CHECK(p.m[1].mx && p.m[1].weight == 1);
	}
}

static void t_routes(void)
{
	char pn[CONF_NAME_MAX + 1];
	CHECK_STR(rkey("default"), "default");
	CHECK_STR(rkey("DEFAULT"), "default");
	CHECK_STR(rkey("from:Alice@Example.COM"), "from:alice@example.com");
	CHECK_STR(rkey("from:@Example.com"), "from:@example.com");
	CHECK_STR(rkey("class:Bulk"), "class:bulk");
	CHECK_STR(rkey("to:Example.org"), "to:example.org");
	CHECK(starts(rkey("from:alice"), "ERR: bad sender"));
	CHECK(starts(rkey("from:a b@x"), "ERR:"));
	CHECK(starts(rkey("from:a@-x"), "ERR: bad host name"));
	CHECK(starts(rkey("class:a/b"), "ERR: bad name"));
	CHECK(starts(rkey("to:"), "ERR: empty host name"));
	CHECK(starts(rkey("sender:x"), "ERR: unknown route key"));
	CHECK(conf_parse_route("Smarthosts", pn, sizeof pn, err, sizeof err) == 0);
	CHECK_STR(pn, "smarthosts");
	CHECK(conf_parse_route("a b", pn, sizeof pn, err, sizeof err) < 0);
	CHECK(conf_parse_route("", pn, sizeof pn, err, sizeof err) < 0);
}

static void t_auth(void)
{
	struct conf_auth a;
	CHECK(conf_parse_auth("user  pass word  ", &a, err, sizeof err) == 0);
	CHECK_STR(a.user, "user");
	CHECK_STR(a.pass, "pass word");
	conf_auth_wipe(&a);
	CHECK(a.pass[0] == 0);
	CHECK(conf_parse_auth("user", &a, err, sizeof err) < 0);
	CHECK_STR(err, "missing password");
	CHECK(conf_parse_auth("", &a, err, sizeof err) < 0);
	/* the reason never shows the password */
	CHECK(conf_parse_auth("user sec\x01ret", &a, err, sizeof err) < 0);
	CHECK(strstr(err, "sec") == NULL);
}

static void t_tls(void)
{
	struct conf_tls t;
	CHECK_STR(tls("verify"), "verify");
	CHECK_STR(tls("VERIFY  smtps ca=ca.pem"), "verify smtps ca=ca.pem");
	CHECK_STR(tls("encrypt smtps"), "encrypt smtps");
	CHECK_STR(tls("none"), "none");
	CHECK(starts(tls("required"), "ERR: unknown tls mode \"required\""));
	CHECK(starts(tls("may smtps"), "ERR: smtps needs mode encrypt, verify, dane or dane-only"));
	CHECK(starts(tls("encrypt ca=x"), "ERR: ca= needs mode verify"));
	CHECK(starts(tls("verify ca="), "ERR: empty ca= file"));
	CHECK(starts(tls("verify smtps smtps"), "ERR: smtps given twice"));
	CHECK(starts(tls("verify dane"), "ERR: unknown tls option"));
	CHECK(starts(tls(""), "ERR: missing or bad mode"));
	CHECK_STR(target("Smtp.Example:587"), "smtp.example:587");
	CHECK_STR(target("Example.org"), "example.org");
	CHECK(starts(target("smtp.example:0"), "ERR: bad port"));
	conf_tls_default(465, &t);
	CHECK(t.mode == CONF_TLS_VERIFY && t.smtps);
	conf_tls_default(587, &t);
	CHECK(t.mode == CONF_TLS_MAY && !t.smtps);
}

static void t_dkim(void)
{
	struct conf_dkim d;
	struct buf b = BUF_INIT;
	CHECK(conf_parse_dkim("Sel2026 keys/a.pem", &d, err, sizeof err) == 0);
	CHECK_STR(d.selector, "sel2026");
	CHECK_STR(d.keyfile, "keys/a.pem");
	CHECK(d.alg == CONF_DKIM_RSA_SHA256);
	conf_format_dkim(&d, &b);
	CHECK_STR(b.p, "sel2026 keys/a.pem rsa-sha256");
	CHECK(conf_parse_dkim("ed._dk /k/ed ED25519-SHA256", &d, err, sizeof err) == 0);
	CHECK(d.alg == CONF_DKIM_ED25519_SHA256);
	CHECK(conf_parse_dkim("s k rsa-sha1", &d, err, sizeof err) < 0);
	CHECK(starts(err, "unknown algorithm \"rsa-sha1\""));
	CHECK(conf_parse_dkim("s k rsa-sha256 extra", &d, err, sizeof err) < 0);
	CHECK(conf_parse_dkim("s", &d, err, sizeof err) < 0);
	CHECK_STR(err, "missing key file");
	CHECK(conf_parse_dkim("bad/sel k", &d, err, sizeof err) < 0);
	buf_free(&b);
}

static void t_limits(void)
{
	struct conf_limits l;
	CHECK_STR(limits("rate=100/m concurrency=5"), "concurrency=5 rate=100/m");
	CHECK_STR(limits("rate=3/s"), "rate=3/s");
	CHECK_STR(limits("concurrency=1"), "concurrency=1");
	CHECK(starts(limits(""), "ERR: no limit given"));
	CHECK(starts(limits("concurrency=0"), "ERR: bad concurrency"));
	CHECK(starts(limits("rate=10/w"), "ERR: bad rate"));   /* shaping: N/d is a rate now */
	CHECK(starts(limits("rate=10"), "ERR: bad rate"));
	CHECK(starts(limits("rate=0/s"), "ERR: bad rate"));
	CHECK(starts(limits("rate=/s"), "ERR: bad rate"));
	CHECK(starts(limits("rate=1/ss"), "ERR: bad rate"));
	CHECK(starts(limits("speed=1"), "ERR: unknown limit"));
	CHECK(starts(limits("rate=1/s rate=2/s"), "ERR: rate= given twice"));
	CHECK(conf_parse_limits("rate=10/h", &l, err, sizeof err) == 0 && l.rate == 10 && l.rate_per == 3600 && l.concurrency == 0);
}

static void t_retry(void)
{
	struct conf_retry r;
	CHECK_STR(retry("x", "schedule=30s,60s,5m lifetime=2d"), "schedule=30s,1m,5m lifetime=2d");
	CHECK_STR(retry("transactional", ""), "schedule=1m,2m,5m,10m,30m,1h lifetime=1d");
	CHECK_STR(retry("bulk", "lifetime=1w"), "schedule=30m,1h,2h,4h,8h lifetime=1w");
	CHECK_STR(retry("other", "schedule=1h"), "schedule=1h lifetime=5d");
	CHECK(starts(retry("x", "schedule=1m,,2m"), "ERR: empty interval"));
	CHECK(starts(retry("x", "schedule=1m,0s"), "ERR: retry interval \"0s\" must be positive"));
	CHECK(starts(retry("x", "schedule=1q"), "ERR: bad duration \"1q\""));
	CHECK(starts(retry("x", "lifetime=0s"), "ERR: lifetime must be positive"));
	CHECK(starts(retry("x", "lifetime=1m schedule=1h"), "ERR: lifetime is shorter"));
	CHECK(starts(retry("x", "expire=1d"), "ERR: unknown retry field"));
	CHECK(starts(retry("x", "schedule=1m schedule=2m"), "ERR: schedule= given twice"));
	CHECK(starts(retry("x", "schedule=1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,"
	                        "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s"), "ERR: schedule has more than"));
	conf_retry_builtin("default", &r);
	CHECK(r.lifetime == 5 * 86400 && r.n > 0);
	conf_retry_builtin("transactional", &r);
	CHECK(r.lifetime == 86400);
}

static void t_settings(void)
{
	CHECK_STR(setting("hostname", "Relay.Test"), "relay.test");
	CHECK_STR(setting("HELO", "mx.example"), "mx.example");
	CHECK_STR(setting("postmaster", "Post@Example.COM"), "Post@example.com");
	CHECK_STR(setting("maxsize", "1048576"), "1048576");
	CHECK_STR(setting("concurrency", "10"), "10");
	CHECK_STR(setting("dns_config", "unbound.conf"), "unbound.conf");
	CHECK_STR(setting("bounce_delay_warning", "0s"), "0s");
	CHECK_STR(setting("suppression_expiry", "720h"), "30d");
	CHECK(starts(setting("suppression_expiry", "0s"), "ERR: suppression_expiry: duration must be positive"));
	CHECK(starts(setting("colour", "blue"), "ERR: unknown setting \"colour\""));
	CHECK(starts(setting("hostname", ""), "ERR: hostname: missing value"));
	CHECK(starts(setting("hostname", "a b"), "ERR: hostname: more than one value"));
	CHECK(starts(setting("maxsize", "10M"), "ERR: maxsize: bad size"));
	CHECK(starts(setting("maxsize", "0"), "ERR: maxsize: bad size"));
	CHECK(starts(setting("concurrency", "0"), "ERR: concurrency: bad number"));
	CHECK(starts(setting("postmaster", "nobody"), "ERR: postmaster: bad address"));
	CHECK(conf_setting_default("maxsize") && strcmp(conf_setting_default("maxsize"), "33554432") == 0);
	CHECK(conf_setting_default("hostname") == NULL);
	CHECK(conf_setting_default("nonesuch") == NULL);
}

static void t_path(void)
{
	struct buf b = BUF_INIT;
	CHECK(conf_path("/var/relay", "dkim/k.pem", &b) == 0);
	CHECK_STR(b.p, "/var/relay/etc/dkim/k.pem");
	CHECK(conf_path("/var/relay", "/etc/k.pem", &b) == 0);
	CHECK_STR(b.p, "/etc/k.pem");
	buf_free(&b);
}

static void t_reader(void)
{
	char dir[] = "/tmp/t_conf.XXXXXX", path[256];
	struct conf c;
	struct buf k = BUF_INIT, v = BUF_INIT;
	FILE *f;
	int n;
	CHECK(mkdtemp(dir) != NULL);
	/* absent table: opens as empty */
	CHECK(conf_open(&c, dir, "pools") == 1);
	CHECK(conf_get(&c, "x", &v) == 0);
	conf_close(&c);
	CHECK(conf_setting(dir, "hostname", &v) == 0);
	/* a home made by relay-config's library code */
	snprintf(path, sizeof path, "%s/h", dir);
	CHECK(conf_init_home(path, 0) == 0);
	snprintf(path, sizeof path, "%s/h/etc/dkim", dir);
	f = fopen(path, "a");
	CHECK(f != NULL);
	if (f) {
		fputs("Example.com a k1\nexample.com b k2 ed25519-sha256\nexample.org c k3\n", f);
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/h/etc/settings", dir);
	f = fopen(path, "a");
	if (f) {
		fputs("hostname Relay.Test\n", f);
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/h", dir);
	CHECK(conf_compile(path, 0) == 0);
	CHECK(conf_open(&c, path, "dkim") == 0);
	CHECK(conf_find(&c, "example.com") == 0);
	CHECK(conf_next(&c, &v) == 1);
	CHECK_STR(v.p, "a k1 rsa-sha256");
	CHECK(conf_next(&c, &v) == 1);
	CHECK_STR(v.p, "b k2 ed25519-sha256");
	CHECK(conf_next(&c, &v) == 0);
	conf_rewind(&c);
	n = 0;
	while (conf_each(&c, &k, &v) == 1)
		n++;
	CHECK(n == 3);
	CHECK(conf_get(&c, "example.net", &v) == 0);
	conf_close(&c);
	CHECK(conf_setting(path, "hostname", &v) == 1);
	CHECK_STR(v.p, "relay.test");
	{
		unsigned long num;
		CHECK(conf_setting_value(path, "helo", &v) == 1);
		CHECK_STR(v.p, "relay.test");
		CHECK(conf_setting_value(path, "postmaster", &v) == 1);
		CHECK_STR(v.p, "postmaster@relay.test");
		CHECK(conf_setting_value(path, "dns_config", &v) == 0);
		CHECK(conf_setting_number(path, "maxsize", &num) == 1 && num == 33554432);
		CHECK(conf_setting_number(path, "bounce_delay_warning", &num) == 1 && num == 4 * 3600);
		CHECK(conf_setting_number(path, "hostname", &num) == -1);
		CHECK(conf_setting_value(dir, "hostname", &v) == 1); /* no settings.cdb: gethostname */
		CHECK(v.len > 0);
		CHECK(conf_setting_value(dir, "postmaster", &v) == 1);
		CHECK(strncmp(v.p, "postmaster@", 11) == 0);
	}
	/* a file that is not a CDB of ours is an error, not "absent" */
	snprintf(path, sizeof path, "%s/h/etc/tls.cdb", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("junk", f);
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/h", dir);
	errno = 0;
	CHECK(conf_open(&c, path, "tls") == -1);
	buf_free(&k);
	buf_free(&v);
	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		CHECK(system(cmd) == 0);
	}
}

int main(int argc, char **argv)
{
	diag_init(argv[0]);
	if (argc > 1)
		return tool(argc, argv);
	t_duration();
	t_host();
	t_pool();
	t_routes();
	t_auth();
	t_tls();
	t_dkim();
	t_limits();
	t_retry();
	t_settings();
	t_path();
	t_reader();
	CHECK_DONE();
}
