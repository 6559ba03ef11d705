/* MTA-STS records, policies and matching (net/mtasts.h), and the TLSA
 * RDATA check (net/dns.h). */
#include "check.h"

#include "net/dns.h"
#include "net/mtasts.h"

static int parses(const char *text, struct mtasts_policy *p)
{
	char err[200];
	return mtasts_parse(text, strlen(text), p, err, sizeof err);
}

int main(void)
{
	struct mtasts_policy p, q;
	struct dns_tlsa_set set;
	struct buf b = BUF_INIT;
	char id[33];
	unsigned char ee[35] = { 3, 1, 1 }, pkix[35] = { 1, 1, 1 }, shortd[20] = { 3, 1, 1 };

	/* RFC 8461 3.2's example, LF or CRLF */
	CHECK(parses("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
	             "mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n", &p) == 0);
	CHECK(p.mode == MTASTS_ENFORCE && p.nmx == 3 && p.max_age == 604800);
	CHECK(parses("version: STSv1\nmode: testing\nmx: MX.Example.COM\nmax_age: 86400\n", &p) == 0);
	CHECK(p.mode == MTASTS_TESTING);
	CHECK_STR(p.mx[0], "mx.example.com");
	/* unknown keys are ignored; none needs no mx */
	CHECK(parses("version: STSv1\nmode: none\nmax_age: 1\nfuture: x\n", &p) == 0);
	/* refused: version not first, missing fields, bad values, twice */
	CHECK(parses("mode: enforce\nversion: STSv1\nmx: a.b\nmax_age: 1\n", &p) < 0);
	CHECK(parses("version: STSv1\nmode: enforce\nmax_age: 1\n", &p) < 0);
	CHECK(parses("version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n", &p) < 0);
	CHECK(parses("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n", &p) < 0);
	CHECK(parses("version: STSv1\nmode: enforce\nmode: none\nmx: a.b\nmax_age: 1\n", &p) < 0);
	CHECK(parses("version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n", &p) < 0);
	CHECK(parses("version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1\n", &p) < 0);
	CHECK(parses("version: STSv1\nmode: enforce\nmx: *b.c\nmax_age: 1\n", &p) < 0);
	/* max_age is capped at a year */
	CHECK(parses("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 9999999999\n", &p) == 0);
	CHECK(p.max_age == MTASTS_MAX_AGE);

	/* matching: exact, or one leftmost label for "*." */
	CHECK(parses("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 1\n", &p) == 0);
	CHECK(mtasts_mx_match(&p, "mail.example.com"));
	CHECK(mtasts_mx_match(&p, "MAIL.example.com"));
	CHECK(mtasts_mx_match(&p, "mx1.example.net"));
	CHECK(!mtasts_mx_match(&p, "a.b.example.net"));
	CHECK(!mtasts_mx_match(&p, "example.net"));
	CHECK(!mtasts_mx_match(&p, "mail.example.com.evil"));

	/* the TXT record */
	CHECK(mtasts_txt_id("v=STSv1; id=20160831085700Z;", id, sizeof id) == 0);
	CHECK_STR(id, "20160831085700Z");
	CHECK(mtasts_txt_id("v=STSv1;id=abc", id, sizeof id) == 0);
	CHECK(mtasts_txt_id("v=STSv1; ext=1; id=abc;", id, sizeof id) == 0);
	CHECK(mtasts_txt_id("v=STSv1;", id, sizeof id) < 0);
	CHECK(mtasts_txt_id("id=abc; v=STSv1;", id, sizeof id) < 0);
	CHECK(mtasts_txt_id("v=STSv1; id=a-b;", id, sizeof id) < 0);
	CHECK(mtasts_txt_id("v=STSv1; id=123456789012345678901234567890123;", id, sizeof id) < 0);

	/* the cache line reads back */
	strcpy(p.id, "20160831085700Z");
	p.fetched = 1700000000;
	CHECK(mtasts_format(&p, &b) == 0);
	b.p[b.len - 1] = 0;
	CHECK_STR(b.p, "20160831085700Z 1700000000 1 enforce mail.example.com,*.example.net");
	CHECK(mtasts_unformat(b.p, &q) == 0);
	CHECK(q.mode == MTASTS_ENFORCE && q.nmx == 2 && q.fetched == 1700000000 && !strcmp(q.id, p.id));
	CHECK(mtasts_unformat("x 1 1 enforce -", &q) < 0);
	CHECK(mtasts_unformat("x 1 1 sideways a.b", &q) < 0);
	buf_free(&b);

	/* TLSA: DANE-EE/TA kept, PKIX and bad digests unusable */
	memset(&set, 0, sizeof set);
	dns_tlsa_rdata(ee, sizeof ee, &set);
	dns_tlsa_rdata(pkix, sizeof pkix, &set);
	dns_tlsa_rdata(shortd, sizeof shortd, &set);
	dns_tlsa_rdata(ee, 3, &set);
	CHECK(set.n == 1 && set.unusable == 3);
	CHECK(set.r[0].usage == 3 && set.r[0].len == 32);
	CHECK_DONE();
}
