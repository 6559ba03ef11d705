/* The SMTP server's parsers (net/smtpd_cmd.h): command lines, MAIL and
 * RCPT with their parameters, DATA's end and its refusals, fed whole and
 * a byte at a time; and the etc/clients longest-prefix keys. */
#include "base/buf.h"
#include "check.h"
#include "conf/clients.h"
#include "net/smtpd_cmd.h"

#include <stdlib.h>

/* Feed DATA bytes in steps of step; returns the feed result, *used the
 * bytes consumed in all. */
static int data(const char *s, size_t n, size_t step, unsigned long long max,
                struct buf *out, int *err, size_t *used)
{
	struct smtpd_data d;
	size_t off = 0;
	int r = 0;
	smtpd_data_init(&d, out, max);
	while (off < n) {
		size_t k = n - off < step ? n - off : step, u = 0;
		r = smtpd_data_feed(&d, s + off, k, &u);
		off += u;
		if (r != 0)
			break;
	}
	*err = d.err;
	*used = off;
	return r;
}

static void check_data(void)
{
	static const char *const smuggle[] = {
		"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r.\n", "\n.\r", "\r.\r\n", "\r\n.\r",
	};
	struct buf b = BUF_INIT;
	size_t used, i, step;
	int err;
	char m[1100];
	for (step = 1; step <= 64; step *= 4) {
		const char *ok = "Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n";
		CHECK(data(ok, strlen(ok), step, 1000, &b, &err, &used) == 1);
		CHECK(err == 0);
		CHECK_MEM(b.p, b.len, "Subject: x\r\n\r\n.dot\r\nbody\r\n", 26);
		CHECK_MEM(ok + used, strlen(ok + used), "QUIT\r\n", 6);
		/* ".\r\n" at once: the empty message */
		CHECK(data(".\r\n", 3, step, 1000, &b, &err, &used) == 1 && b.len == 0 && used == 3);
		for (i = 0; i < sizeof smuggle / sizeof *smuggle; i++) {
			int n = snprintf(m, sizeof m, "S: x\r\n\r\nbody%sMAIL FROM:<x@y>\r\n.\r\nNOOP\r\n", smuggle[i]);
			CHECK(data(m, (size_t)n, step, 1000, &b, &err, &used) == 1);
			CHECK(err == SMTPD_DATA_BARE);
			CHECK_STR(m + used, "NOOP\r\n"); /* ends only at the real CRLF.CRLF */
		}
		CHECK(data("a\0b\r\n.\r\n", 8, step, 1000, &b, &err, &used) == 1 && err == SMTPD_DATA_NUL);
	}
	memset(m, 'x', 999);
	memcpy(m + 999, "\r\n.\r\n", 5);
	CHECK(data(m, 1004, 7, 100000, &b, &err, &used) == 1 && err == SMTPD_DATA_LONG);
	CHECK(data(m + 1, 1003, 7, 100000, &b, &err, &used) == 1 && err == 0 && b.len == 1000);
	CHECK(data(m + 1, 1003, 7, 500, &b, &err, &used) == 1 && err == SMTPD_DATA_SIZE);
	CHECK(strncmp(smtpd_data_reply(SMTPD_DATA_BARE), "550 5.6.0", 9) == 0);
	/* the fuzzer's finds: the first problem and what is kept do not
	 * depend on how the bytes arrive (a NUL past column 998; a NUL
	 * after a kept byte) */
	{
		int e1, e2;
		memset(m, 'x', 1050);
		m[1000] = 0;
		memcpy(m + 1040, "\r\n.\r\n", 5);
		CHECK(data(m, 1045, 8, 100000, &b, &e1, &used) == 1);
		CHECK(data(m, 1045, 1045, 100000, &b, &e2, &used) == 1);
		CHECK(e1 == e2 && e1 == SMTPD_DATA_LONG);
		CHECK(data("\xfe\0\x0f\r\n.\r\n", 8, 1, 1000, &b, &e1, &used) == 1 && b.len == 0);
		CHECK(data("\xfe\0\x0f\r\n.\r\n", 8, 8, 1000, &b, &e2, &used) == 1 && b.len == 0);
		CHECK(e1 == SMTPD_DATA_NUL && e2 == SMTPD_DATA_NUL);
		/* one run past both limits: the one crossed first is reported,
		 * whether the run arrives in pieces or at once */
		memset(m, 'x', 1050);
		memcpy(m + 1040, "\r\n.\r\n", 5);
		CHECK(data(m, 1045, 8, 500, &b, &e1, &used) == 1);
		CHECK(data(m, 1045, 1045, 500, &b, &e2, &used) == 1);
		CHECK(e1 == SMTPD_DATA_SIZE && e2 == SMTPD_DATA_SIZE);
		CHECK(data(m, 1045, 8, 1020, &b, &e1, &used) == 1);
		CHECK(data(m, 1045, 1045, 1020, &b, &e2, &used) == 1);
		CHECK(e1 == SMTPD_DATA_LONG && e2 == SMTPD_DATA_LONG);
	}
	buf_free(&b);
}

static int parse(const char *line, struct smtpd_cmd *c, const char **why)
{
	static char tmp[SMTPD_CMD_MAX + 1];
	snprintf(tmp, sizeof tmp, "%s", line);
	return smtpd_cmd_parse(tmp, strlen(tmp), c, why);
}

static void check_cmds(void)
{
	struct smtpd_cmd c;
	struct smtpd_line l;
	const char *why;
	size_t used;
	CHECK(parse("ehlo client.example", &c, &why) == 0 && c.verb == SMTPD_EHLO);
	CHECK_STR(c.arg, "client.example");
	CHECK(parse("EHLO", &c, &why) < 0 && c.verb == SMTPD_EHLO);
	CHECK(parse("GET / HTTP/1.1", &c, &why) == 0 && c.verb == SMTPD_HTTP);
	CHECK(parse("FOO bar", &c, &why) < 0 && c.verb == SMTPD_UNKNOWN);
	CHECK(parse("DATA x", &c, &why) < 0);
	CHECK(parse("MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME SMTPUTF8 RET=hdrs ENVID=a+2Bb", &c, &why) == 0);
	CHECK_STR(c.path, "a@b.example");
	CHECK(c.prm.has_size && c.prm.size == 100 && c.prm.body == 8 && c.prm.smtputf8);
	CHECK_STR(c.prm.ret, "HDRS");
	CHECK_STR(c.prm.envid, "a+2Bb");
	CHECK(parse("MAIL FROM: <>", &c, &why) == 0 && c.path[0] == 0);
	CHECK(parse("MAIL FROM:<\"a>b\"@c.example>", &c, &why) == 0);
	CHECK_STR(c.path, "\"a>b\"@c.example");
	CHECK(parse("MAIL FROM:a@b", &c, &why) < 0);
	CHECK(parse("MAIL TO:<a@b>", &c, &why) < 0);
	CHECK(parse("MAIL FROM:<a@b> SIZE=99999999999999999999", &c, &why) < 0);
	CHECK(parse("MAIL FROM:<a@b> SIZE=", &c, &why) < 0);
	CHECK(parse("MAIL FROM:<a@b> ENVID=a+zz", &c, &why) < 0);
	CHECK(parse("MAIL FROM:<a@b> NOTIFY=NEVER", &c, &why) < 0);  /* RCPT's */
	CHECK(parse("RCPT TO:<a@b> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a+40b", &c, &why) == 0);
	CHECK_STR(c.prm.notify, "SUCCESS,DELAY");
	CHECK(parse("RCPT TO:<a@b> NOTIFY=SUCCESS,", &c, &why) < 0);
	CHECK(parse("RCPT TO:<a@b> ORCPT=nosemicolon", &c, &why) < 0);
	/* lines: CRLF or LF ends one; a bare CR, NUL or overlong line is bad */
	smtpd_line_init(&l);
	CHECK(smtpd_line_feed(&l, "NOOP\r\nQUIT\r\n", 12, &used) == 1 && used == 6 && !l.bad);
	CHECK_STR(l.p, "NOOP");
	smtpd_line_init(&l);
	CHECK(smtpd_line_feed(&l, "NO\rOP\r\n", 7, &used) == 1 && l.bad == SMTPD_LINE_CR);
	smtpd_line_init(&l);
	{
		char big[5000];
		memset(big, 'x', sizeof big);
		CHECK(smtpd_line_feed(&l, big, sizeof big, &used) == 0 && used == sizeof big);
		CHECK(l.len == SMTPD_CMD_MAX);
		CHECK(smtpd_line_feed(&l, "\n", 1, &used) == 1 && l.bad == SMTPD_LINE_LONG);
	}
}

static void check_proxy(void)
{
	char ip[64];
#define PX(s) smtpd_proxy_v1(s, strlen(s), ip, sizeof ip)
	CHECK(PX("PROXY TCP4 192.0.2.1 198.51.100.2 51000 587") == 1);
	CHECK_STR(ip, "192.0.2.1");
	CHECK(PX("PROXY TCP6 2001:db8::1 2001:db8::2 51000 587") == 1);
	CHECK_STR(ip, "2001:db8::1");
	CHECK(PX("PROXY UNKNOWN") == 0);
	CHECK(PX("PROXY TCP4 2001:db8::1 192.0.2.2 1 2") == -1);
	CHECK(PX("PROXY TCP4 192.0.2.1 192.0.2.2 1 65536") == -1);
	CHECK(PX("PROXY TCP4 192.0.2.1 192.0.2.2 01 2") == -1);
	CHECK(PX("PROXY TCP4 192.0.2.1 192.0.2.2 1") == -1);
	CHECK(PX("EHLO x") == -1);
#undef PX
}

static void check_clients(void)
{
	char k[64], err[256];
	enum conf_client_action a;
	CHECK(conf_parse_client_key("10.0.0.0/8", k, sizeof k, err, sizeof err) == 0);
	CHECK_STR(k, "10.0.0.0/8");
	CHECK(conf_parse_client_key("192.0.2.1", k, sizeof k, err, sizeof err) == 0);
	CHECK_STR(k, "192.0.2.1/32");
	CHECK(conf_parse_client_key("2001:DB8:0::/32", k, sizeof k, err, sizeof err) == 0);
	CHECK_STR(k, "2001:db8::/32");
	CHECK(conf_parse_client_key("10.0.0.1/8", k, sizeof k, err, sizeof err) < 0);
	CHECK(conf_parse_client_key("10.0.0.0/33", k, sizeof k, err, sizeof err) < 0);
	CHECK(conf_parse_client_key("::ffff:10.0.0.0/104", k, sizeof k, err, sizeof err) < 0);
	CHECK(conf_parse_client_key("0.0.0.0/0", k, sizeof k, err, sizeof err) == 0);
	CHECK(conf_parse_client_action("Relay", &a, err, sizeof err) == 0 && a == CLIENT_RELAY);
	CHECK(conf_parse_client_action("relay extra", &a, err, sizeof err) < 0);
}

int main(void)
{
	check_data();
	check_cmds();
	check_clients();
	check_proxy();
	CHECK_DONE();
}
