/* lib/intake/addr.c (envelope addresses: syntax, the RFC 5321 length
 * caps, CR, LF and NUL) and lib/intake/envelope.c (the envelope of a new
 * message: sender, recipients, class). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/bounds.h"
#include "base/diag.h"
#include "intake/addr.h"
#include "intake/envelope.h"
#include "intake/msg.h"

static const char *why;
static char err[512];

static int check(const char *a, int flags)
{
	return addr_check(a, strlen(a), flags, &why);
}
/* n copies of c, then tail */
static char *rep(char *out, int c, size_t n, const char *tail)
{
	memset(out, c, n);
	strcpy(out + n, tail);
	return out;
}

static void good_and_bad(void)
{
	CHECK(check("a@b.c", 0) == ADDR_OK);
	CHECK(check("first.last+tag@sub.example.org", 0) == ADDR_OK);
	CHECK(check("!#$%&'*+-/=?^_`{|}~@example.org", 0) == ADDR_OK);
	/* quoted local parts: what relay-send can put in MAIL FROM:<> and
	 * RCPT TO:<> (no space, no angle bracket: issue 10) */
	CHECK(check("\"a.b\"@example.net", 0) == ADDR_OK);
	CHECK(check("\"a..b\"@example.net", 0) == ADDR_OK);
	CHECK(check("\"a b\"@example.net", 0) == ADDR_BAD);
	CHECK(check("\"john smith\"@b.example", ADDR_ALLOW_EMPTY) == ADDR_BAD);
	CHECK(check("\"a\\ b\"@example.net", 0) == ADDR_BAD);
	CHECK(check("\"a<b\"@example.net", 0) == ADDR_BAD);
	CHECK(check("\"a>b\"@example.net", 0) == ADDR_BAD);
	CHECK(check("\"a\tb\"@example.net", 0) == ADDR_BAD);
	CHECK(check("\"a\\\"b\"@example.net", 0) == ADDR_OK);
	CHECK(check("x@[192.0.2.1]", 0) == ADDR_OK);
	CHECK(check("y@[IPv6:2001:db8::1]", 0) == ADDR_OK);
	CHECK(check("j\xc3\xb6rg@b\xc3\xbc" "cher.example", 0) == ADDR_OK);   /* UTF-8 */
	CHECK(check("a@b-c.d", 0) == ADDR_OK);
	CHECK(check("", ADDR_ALLOW_EMPTY) == ADDR_OK);
	CHECK(check("root", ADDR_ALLOW_NODOMAIN) == ADDR_OK);

	CHECK(check("", 0) == ADDR_BAD);
	CHECK_STR(why, "empty address");
	CHECK(check("root", 0) == ADDR_BAD);
	CHECK_STR(why, "address has no domain");
	CHECK(check("a b@c.d", 0) == ADDR_BAD);
	CHECK(check("a..b@c.d", 0) == ADDR_BAD);
	CHECK_STR(why, "empty atom in local part");
	CHECK(check(".a@c.d", 0) == ADDR_BAD);
	CHECK(check("a.@c.d", 0) == ADDR_BAD);
	CHECK(check("a@b@c.d", 0) == ADDR_BAD);
	CHECK(check("@c.d", 0) == ADDR_BAD);
	CHECK_STR(why, "empty local part");
	CHECK(check("a@", 0) == ADDR_BAD);
	CHECK_STR(why, "empty domain");
	CHECK(check("a@c.d.", 0) == ADDR_BAD);
	CHECK(check("a@.c.d", 0) == ADDR_BAD);
	CHECK(check("a@c..d", 0) == ADDR_BAD);
	CHECK(check("a@-c.d", 0) == ADDR_BAD);
	CHECK(check("a@c-.d", 0) == ADDR_BAD);
	CHECK(check("a@c_d.e", 0) == ADDR_BAD);
	CHECK(check("a@[192.0.2.256]", 0) == ADDR_BAD);
	CHECK(check("a@[192.0.2]", 0) == ADDR_BAD);
	CHECK(check("a@[IPv6:zz::1]", 0) == ADDR_BAD);
	CHECK(check("\"unterminated@c.d", 0) == ADDR_BAD);
	CHECK(check("\"q\"x@c.d", 0) == ADDR_BAD);
	CHECK(check("a>@c.d", 0) == ADDR_BAD);
	CHECK(check("a\xff@c.d", 0) == ADDR_BAD);
	CHECK_STR(why, "malformed UTF-8 in address");
	CHECK(check("a\xc3@c.d", 0) == ADDR_BAD);                 /* cut sequence */
	CHECK(check("a\xc0\xaf@c.d", 0) == ADDR_BAD);             /* overlong */
	CHECK(check("a\xed\xa0\x80@c.d", 0) == ADDR_BAD);         /* surrogate */
	CHECK(addr_is_utf8("a\xc3\xb6", 3) && !addr_is_utf8("ab", 2));
}

static void control_bytes(void)
{
	CHECK(check("a@b\r\nRCPT TO:<evil@x>", 0) == ADDR_BAD);
	CHECK_STR(why, "control character in address");
	CHECK(check("a\n@c.d", 0) == ADDR_BAD);
	CHECK(check("a\r@c.d", 0) == ADDR_BAD);
	CHECK(addr_check("a\0b@c.d", 7, 0, &why) == ADDR_BAD);
	CHECK_STR(why, "control character in address");
	CHECK(check("\"a\x01\"@c.d", 0) == ADDR_BAD);             /* even quoted */
	CHECK(check("a\t@c.d", 0) == ADDR_BAD);
}

static void lengths(void)
{
	char a[600], d[300], lab[70];
	/* local part: 64 octets, not 65 */
	CHECK(check(rep(a, 'a', 64, "@example.net"), 0) == ADDR_OK);
	CHECK(check(rep(a, 'a', 65, "@example.net"), 0) == ADDR_TOOLONG);
	CHECK_STR(why, "local part longer than 64 octets");
	/* a label: 63 octets, not 64 */
	snprintf(a, sizeof a, "x@%s.com", rep(lab, 'b', 63, ""));
	CHECK(check(a, 0) == ADDR_OK);
	snprintf(a, sizeof a, "x@%s.com", rep(lab, 'b', 64, ""));
	CHECK(check(a, 0) == ADDR_BAD);
	CHECK_STR(why, "domain label longer than 63 octets");
	/* the path, with its <>, is at most 256: the address 254 */
	snprintf(d, sizeof d, "%s.%s.%s.%s", rep(lab, 'b', 63, ""), lab, lab, lab);   /* 255 */
	d[248] = 0;                                        /* 248 octets */
	snprintf(a, sizeof a, "xy@%s.co", d);              /* 2+1+248+3 = 254 */
	CHECK(strlen(a) == 254);
	CHECK(check(a, 0) == ADDR_OK);
	snprintf(a, sizeof a, "xyz@%s.co", d);             /* 255 */
	CHECK(check(a, 0) == ADDR_TOOLONG);
	CHECK_STR(why, "address longer than 254 octets");
	/* a domain of 255 octets fits the domain cap but not the path */
	snprintf(d, sizeof d, "%s.%s.%s.%s", lab, lab, lab, lab);
	d[251] = 0;
	strcat(d, ".com");
	CHECK(strlen(d) == 255);
	snprintf(a, sizeof a, "x@%s", d);
	CHECK(check(a, 0) == ADDR_TOOLONG);
}

static int strip(const char *in, char *out, size_t cap)
{
	return addr_strip(in, strlen(in), out, cap);
}

static void stripping(void)
{
	char o[300];
	CHECK(strip("<a@b.c>", o, sizeof o) == 5);
	CHECK_STR(o, "a@b.c");
	CHECK(strip("  a@b.c\t", o, sizeof o) == 5);
	CHECK_STR(o, "a@b.c");
	CHECK(strip("<@r1.example,@r2.example:u@d.example>", o, sizeof o) > 0);
	CHECK_STR(o, "u@d.example");
	CHECK(strip("<>", o, sizeof o) == 0);
	CHECK_STR(o, "");
	CHECK(strip("<a@b.c", o, sizeof o) == -1);
	CHECK(strip("a@b.c>", o, sizeof o) == -1);
	CHECK(strip("<@r1.example:>", o, sizeof o) == 0);
	CHECK(strip("@no.colon", o, sizeof o) == -1);
	CHECK(strip("a@b.c", o, 5) == -1);                 /* no room for the NUL */
	CHECK(strip("a@b.c", o, 6) == 5);
	CHECK_STR(addr_domain("a@b.c"), "b.c");
	CHECK_STR(addr_domain("\"x@y\"@b.c"), "b.c");
	CHECK(addr_domain("\"x@y\"") == NULL);
	CHECK(addr_domain("root") == NULL);
}

static void envelopes(void)
{
	struct envelope e;
	struct buf env = BUF_INIT, m = BUF_INIT;
	struct msg_headers h;
	char arg[700];
	const char *msg;
	size_t i;

	envelope_init(&e, "relay.test");
	/* the sender: given, the null sender, or user@host */
	CHECK(envelope_sender(&e, "<a@example.org>", "joe", err, sizeof err) == 0);
	CHECK_STR(e.sender, "a@example.org");
	CHECK(envelope_sender(&e, "<>", "joe", err, sizeof err) == 0);
	CHECK_STR(e.sender, "");
	CHECK(envelope_sender(&e, "", "joe", err, sizeof err) == 0);
	CHECK_STR(e.sender, "");
	CHECK(envelope_sender(&e, NULL, "joe", err, sizeof err) == 0);
	CHECK_STR(e.sender, "joe@relay.test");
	CHECK(envelope_sender(&e, "a@b\r\nc", "joe", err, sizeof err) == EXIT_PERM);
	CHECK_STR(err, "bad sender address \"a@b/c\": control character in address");
	CHECK(envelope_sender(&e, "<a@b.c", "joe", err, sizeof err) == EXIT_PERM);
	CHECK_STR(err, "bad sender address \"<a@b.c\": too long or unbalanced <>");
	CHECK(envelope_sender(&e, NULL, "a b", err, sizeof err) == EXIT_PERM);
	CHECK(strstr(err, "cannot make a sender address from \"a b@relay.test\"") == err);
	CHECK(envelope_sender(&e, "\"john smith\"@b.example", "joe", err, sizeof err) == EXIT_PERM);
	CHECK(strstr(err, "cannot be sent") != NULL);
	CHECK(envelope_sender(&e, "a@b.c\tx", "joe", err, sizeof err) == EXIT_PERM);

	/* recipients from arguments: lists, source routes, "root" qualified */
	CHECK(envelope_rcpt_arg(&e, "a@example.net, \"N, M\" <b@example.net>", err, sizeof err) == 0);
	CHECK(envelope_rcpt_arg(&e, "<@r.example:c@example.net>", err, sizeof err) == 0);
	CHECK(envelope_rcpt_arg(&e, "root", err, sizeof err) == 0);
	CHECK(e.nrcpt == 4);
	CHECK_STR(e.rcpt[0], "a@example.net");
	CHECK_STR(e.rcpt[1], "b@example.net");
	CHECK_STR(e.rcpt[2], "c@example.net");
	CHECK_STR(e.rcpt[3], "root@relay.test");
	CHECK(envelope_rcpt_arg(&e, "a@b>\r\nRCPT TO:<evil@x", err, sizeof err) == EXIT_PERM);
	CHECK_STR(err, "bad recipient address \"a@b>/RCPT TO:<evil@x\": control character in address");
	/* an LF (or any control byte) in an argument: refused, not read as
	 * folding white space between two addresses */
	CHECK(envelope_rcpt_arg(&e, "u@x\nRCPT TO:<evil@x>", err, sizeof err) == EXIT_PERM);
	CHECK_STR(err, "bad recipient address \"u@x/RCPT TO:<evil@x>\": control character in address");
	CHECK(envelope_rcpt_arg(&e, "u@x.example,\tv@x.example", err, sizeof err) == EXIT_PERM);
	CHECK(envelope_rcpt_arg(&e, "u@x.example\x7f", err, sizeof err) == EXIT_PERM);
	CHECK(e.nrcpt == 4);
	CHECK(envelope_rcpt_arg(&e, "a..b@c.d", err, sizeof err) == EXIT_PERM);
	CHECK_STR(err, "bad recipient address \"a..b@c.d\": empty atom in local part");
	rep(arg, 'a', 65, "@example.net");
	CHECK(envelope_rcpt_arg(&e, arg, err, sizeof err) == EXIT_PERM);
	CHECK(strstr(err, "local part longer than 64 octets") != NULL);
	rep(arg, 'a', 600, "@example.net");
	CHECK(envelope_rcpt_arg(&e, arg, err, sizeof err) == EXIT_PERM);
	CHECK(strstr(err, "too long or unbalanced <>") != NULL);
	CHECK(e.nrcpt == 4);                               /* nothing half-added */

	/* -t: To, Cc and Bcc in field order; X-Relay-Class */
	msg = "To: \"Doe, J\" <j@example.net>\r\nSubject: s\r\ncc: team: l@example.net;\r\n"
	      "BCC: hidden@example.net\r\nX-Relay-Class: transactional\r\nX-Relay-Class: second\r\n\r\nb\r\n";
	CHECK(msg_headers(msg, strlen(msg), &h, err, sizeof err) == 0);
	CHECK(envelope_header(&e, msg, &h, 0, err, sizeof err) == 0);
	CHECK(e.nrcpt == 4);                               /* without -t: no recipients */
	CHECK_STR(e.class, "transactional");               /* the first one */
	e.class = "bulk";                                  /* -C wins */
	CHECK(envelope_header(&e, msg, &h, 1, err, sizeof err) == 0);
	CHECK_STR(e.class, "bulk");
	CHECK(e.nrcpt == 7);
	CHECK_STR(e.rcpt[4], "j@example.net");
	CHECK_STR(e.rcpt[5], "l@example.net");
	CHECK_STR(e.rcpt[6], "hidden@example.net");
	msg_headers_free(&h);
	msg = "To: <unbalanced@example.net\r\n\r\n";
	CHECK(msg_headers(msg, strlen(msg), &h, err, sizeof err) == 0);
	CHECK(envelope_header(&e, msg, &h, 1, err, sizeof err) == EXIT_PERM);
	CHECK_STR(err, "refused: cannot parse the To: field");
	msg_headers_free(&h);
	msg = "Cc: ok@example.net, bad..x@example.net\r\n\r\n";
	CHECK(msg_headers(msg, strlen(msg), &h, err, sizeof err) == 0);
	CHECK(envelope_header(&e, msg, &h, 1, err, sizeof err) == EXIT_PERM);
	CHECK_STR(err, "bad recipient address \"bad..x@example.net\": empty atom in local part");
	msg_headers_free(&h);
	/* an X-Relay-Class over 63 octets is refused, not cut */
	{
		char m2[800];
		snprintf(m2, sizeof m2, "X-Relay-Class: %s\r\n\r\n", rep(arg, 'c', 64, ""));
		e.class = NULL;
		CHECK(msg_headers(m2, strlen(m2), &h, err, sizeof err) == 0);
		CHECK(envelope_header(&e, m2, &h, 0, err, sizeof err) == EXIT_PERM);
		CHECK(strstr(err, "longer than 63") != NULL);
		msg_headers_free(&h);
		snprintf(m2, sizeof m2, "X-Relay-Class: %s\r\n\r\n", rep(arg, 'c', 63, ""));
		CHECK(msg_headers(m2, strlen(m2), &h, err, sizeof err) == 0);
		CHECK(envelope_header(&e, m2, &h, 0, err, sizeof err) == 0);
		CHECK(e.class && strlen(e.class) == 63);
		msg_headers_free(&h);
		e.class = NULL;
	}

	/* the class */
	CHECK(envelope_class_check(&e, err, sizeof err) == 0);
	e.class = "a.b-c_D9";
	CHECK(envelope_class_check(&e, err, sizeof err) == 0);
	e.class = "bad class";
	CHECK(envelope_class_check(&e, err, sizeof err) == EXIT_PERM);
	CHECK_STR(err, "bad message class \"bad class\" (letters, digits, - _ . only)");
	e.class = "";
	CHECK(envelope_class_check(&e, err, sizeof err) == EXIT_PERM);
	e.class = rep(arg, 'c', 64, "");
	CHECK(envelope_class_check(&e, err, sizeof err) == EXIT_PERM);
	arg[63] = 0;
	CHECK(envelope_class_check(&e, err, sizeof err) == 0);
	e.class = NULL;
	CHECK(envelope_class_check(&e, err, sizeof err) == 0);

	/* the records for relay-queue */
	envelope_free(&e);
	envelope_init(&e, "relay.test");
	CHECK(envelope_sender(&e, "s@example.org", "joe", err, sizeof err) == 0);
	CHECK(envelope_rcpt_arg(&e, "a@b.c, d@e.f", err, sizeof err) == 0);
	CHECK(envelope_records(&e, &env) == 0);
	CHECK_MEM(env.p, env.len, "Fs@example.org\0Ta@b.c\0Td@e.f\0", 30);
	e.class = "bulk";
	CHECK(envelope_records(&e, &env) == 0);
	CHECK_MEM(env.p, env.len, "Cbulk\0Fs@example.org\0Ta@b.c\0Td@e.f\0", 36);

	/* at most RCPT_MAX recipients */
	envelope_free(&e);
	envelope_init(&e, "relay.test");
	for (i = 0; i < RCPT_MAX; i++) {
		snprintf(arg, sizeof arg, "r%zu@example.net", i);
		if (envelope_rcpt_arg(&e, arg, err, sizeof err) != 0)
			break;
	}
	CHECK(i == RCPT_MAX && e.nrcpt == RCPT_MAX);
	CHECK(envelope_rcpt_arg(&e, "one@more.example", err, sizeof err) == EXIT_PERM);
	snprintf(arg, sizeof arg, "more than %d recipients", RCPT_MAX);
	CHECK_STR(err, arg);
	envelope_free(&e);
	CHECK(e.rcpt == NULL && e.nrcpt == 0);
	buf_free(&env);
	buf_free(&m);
}

int main(void)
{
	good_and_bad();
	control_bytes();
	lengths();
	stripping();
	envelopes();
	CHECK_DONE();
}
