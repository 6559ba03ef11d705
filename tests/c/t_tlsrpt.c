/* TLS-RPT (RFC 8460, issue 15): the _smtp._tls TXT record
 * (net/tlsrpt_txt.h), a session's result type, and the day's file read
 * back into the report (send/tlsrpt.h). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "net/tlsrpt_txt.h"
#include "send/tlsrpt.h"

#define TXT(lit, t) tlsrpt_txt_parse(lit, sizeof lit - 1, t)

static void txt(void)
{
	struct tlsrpt_txt t;
	CHECK(TXT("v=TLSRPTv1; rua=mailto:a@b.example,https://r.example/x", &t) == 0 && t.n == 2);
	CHECK_STR(t.rua[0], "mailto:a@b.example");
	CHECK_STR(t.rua[1], "https://r.example/x");
	CHECK(TXT("v=TLSRPTv1;rua=mailto:a@b; ext=1;", &t) == 0 && t.n == 1);
	CHECK(TXT(" v = TLSRPTv1 ; rua = ftp://x , mailto:c@d ", &t) == 0 && t.n == 1);  /* ftp: skipped */
	CHECK_STR(t.rua[0], "mailto:c@d");
	CHECK(TXT("rua=mailto:a@b; v=TLSRPTv1", &t) < 0);        /* v= first */
	CHECK(TXT("v=TLSRPTv2; rua=mailto:a@b", &t) < 0);
	CHECK(TXT("v=TLSRPTv1", &t) < 0);                        /* no rua */
	CHECK(TXT("v=TLSRPTv1; rua=ftp://x", &t) < 0);            /* no usable rua */
	CHECK(TXT("v=TLSRPTv1; rua=mailto:a@b; rua=mailto:c@d", &t) < 0);
	CHECK(TXT("v=TLSRPTv1; rua=mailto:a@b\0", &t) < 0);       /* a NUL */
	CHECK(TXT("v=TLSRPTv1; junk", &t) < 0);
}

static void result(void)
{
	struct smtp_result r;
	memset(&r, 0, sizeof r);
	snprintf(r.stage, sizeof r.stage, "tls");
	snprintf(r.text, sizeof r.text, "certificate verify failed: hostname mismatch");
	CHECK_STR(tlsrpt_result_type("mta-sts", &r), "certificate-host-mismatch");
	CHECK_STR(tlsrpt_result_type("dane", &r), "validation-failure");
	snprintf(r.text, sizeof r.text, "certificate verify failed: certificate has expired");
	CHECK_STR(tlsrpt_result_type("mta-sts", &r), "certificate-expired");
	snprintf(r.text, sizeof r.text, "certificate verify failed: self-signed certificate");
	CHECK_STR(tlsrpt_result_type("verify", &r), "certificate-not-trusted");
	snprintf(r.text, sizeof r.text, "TLS policy encrypt but STARTTLS not offered");
	CHECK_STR(tlsrpt_result_type("mta-sts", &r), "starttls-not-supported");
	snprintf(r.stage, sizeof r.stage, "connect");
	snprintf(r.text, sizeof r.text, "connection refused");
	CHECK(tlsrpt_result_type("mta-sts", &r) == NULL);        /* not a TLS session */
	CHECK_STR(tlsrpt_policy_type("dane"), "tlsa");
	CHECK_STR(tlsrpt_policy_type("mta-sts-testing"), "sts");
	CHECK_STR(tlsrpt_policy_type("may"), "no-policy-found");
}

static void day(void)
{
	char dir[] = "/tmp/t_tlsrpt.XXXXXX", name[11], path[100];
	struct tlsrpt_day d;
	struct smtp_result r;
	struct buf o = BUF_INIT;
	time_t now = 1796169600;   /* 2026-12-02T00:00:00Z */
	FILE *f;
	CHECK(mkdtemp(dir) != NULL);
	tlsrpt_day_name(now + 3600, name);
	CHECK_STR(name, "2026-12-02");
	memset(&r, 0, sizeof r);
	snprintf(r.stage, sizeof r.stage, "tls");
	snprintf(r.text, sizeof r.text, "certificate verify failed: x");
	tlsrpt_note(dir, "a.example", "dane", "mx.a.example", "192.0.2.1:25", NULL, now);
	tlsrpt_note(dir, "a.example", "dane", "mx.a.example", "[2001:db8::1]:25", &r, now + 1);
	tlsrpt_note(dir, "a.example", "dane", "mx.a.example", "[2001:db8::1]:25", &r, now + 2);
	tlsrpt_note(dir, "b example", "may", "mx b", NULL, NULL, now);   /* spaces made safe */
	snprintf(path, sizeof path, "%s/.tls-rpt-2026-12-02", dir);
	CHECK((f = fopen(path, "a")) != NULL);
	fputs("garbage line\n1 c.example bogus ok - -\n", f);            /* skipped */
	fclose(f);
	CHECK(tlsrpt_day_read(dir, "2026-12-02", &d) == 0);
	CHECK(d.n == 2);
	CHECK_STR(d.p[0].domain, "a.example");
	CHECK_STR(d.p[0].ptype, "tlsa");
	CHECK(d.p[0].ok == 1 && d.p[0].failed == 2 && d.p[0].nf == 1 && d.p[0].f[0].n == 2);
	CHECK_STR(d.p[0].f[0].result, "validation-failure");
	CHECK_STR(d.p[0].f[0].ip, "2001:db8::1");
	CHECK_STR(d.p[1].domain, "b_example");
	CHECK(tlsrpt_report_json(&d, "a.example", "org", "pm@org", "id1", dir, &o) == 0);
	CHECK(buf_addc(&o, 0) == 0);
	CHECK(strstr(o.p, "\"policy-type\":\"tlsa\"") != NULL);
	CHECK(strstr(o.p, "\"total-failure-session-count\":2") != NULL);
	CHECK(strstr(o.p, "\"receiving-ip\":\"2001:db8::1\"") != NULL);
	CHECK(strstr(o.p, "\"start-datetime\":\"2026-12-02T00:00:00Z\"") != NULL);
	o.len = 0;
	CHECK(tlsrpt_report_json(&d, "nobody.example", "org", "pm@org", "id1", dir, &o) < 0);
	tlsrpt_day_free(&d);
	CHECK(tlsrpt_day_read(dir, "2026-12-01", &d) == 0 && d.n == 0);   /* no file: no sessions */
	buf_free(&o);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	txt();
	result();
	day();
	CHECK_DONE();
}
