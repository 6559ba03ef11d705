/* Unit tests for lib/dkim/ (canonicalization, keys, signing, verifying)
 * and lib/base/base64.c: the RFC 6376 and RFC 8463 vectors byte for
 * byte. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "base/base64.h"
#include "base/buf.h"
#include "dkim/dkim.h"
#include "dkim/dkim_canon.h"
#include "base/fileio.h"

static char datadir[PATH_MAX];

static struct buf load(const char *name)
{
	struct buf b = BUF_INIT;
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", datadir, name);
	if (read_file(path, &b, 1 << 20) < 0) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	if (!b.p)
		buf_add(&b, "", 0);
	return b;
}

static void sink_buf(void *ctx, const void *p, size_t n) { buf_add(ctx, p, n); }

static struct buf body(const char *in, size_t n, int relaxed)
{
	struct buf out = BUF_INIT;
	struct dkim_body b;
	dkim_body_init(&b, relaxed, sink_buf, &out);
	dkim_body_update(&b, in, n);
	dkim_body_final(&b);
	if (!out.p)
		buf_add(&out, "", 0);
	return out;
}

/* the same body fed one byte at a time */
static struct buf body_bytewise(const char *in, size_t n, int relaxed)
{
	struct buf out = BUF_INIT;
	struct dkim_body b;
	size_t i;
	dkim_body_init(&b, relaxed, sink_buf, &out);
	for (i = 0; i < n; i++)
		dkim_body_update(&b, in + i, 1);
	dkim_body_final(&b);
	if (!out.p)
		buf_add(&out, "", 0);
	return out;
}

static void check_body_n(const char *in, size_t n, int relaxed, const char *want, size_t wn)
{
	struct buf a = body(in, n, relaxed), b = body_bytewise(in, n, relaxed);
	CHECK_MEM(a.p, a.len, want, wn);
	CHECK_MEM(b.p, b.len, want, wn);
	buf_free(&a);
	buf_free(&b);
}

/* literal strings, NULs included */
#define check_body(in, n, r, want) check_body_n(in, sizeof(in) - 1, r, want, sizeof(want) - 1)

static void check_bh(const char *in, size_t n, int relaxed, const char *want)
{
	unsigned char h[32], h2[32];
	struct buf b = BUF_INIT, c = body(in, n, relaxed);
	dkim_body_hash(in, n, relaxed, h);
	/* the whole-buffer path agrees with the streaming canonicalizer */
	crypto_hash_sha256(h2, (unsigned char *)c.p, c.len);
	CHECK(memcmp(h, h2, 32) == 0);
	buf_free(&c);
	base64_encode(&b, h, 32);
	if (*want) /* "": only compare the two paths */
		CHECK_STR(b.p, want);
	buf_free(&b);
}

static void check_hdr(const char *in, int relaxed, const char *want)
{
	struct buf b = BUF_INIT;
	dkim_canon_header(&b, relaxed, in, strlen(in));
	CHECK_STR(b.p, want);
	buf_free(&b);
}

static int from_dom(const char *msg, char *dom)
{
	char why[256];
	return dkim_from_domain(msg, strlen(msg), dom, 256, why, sizeof why);
}

/* the b= value of the nth DKIM-Signature, white space removed */
static void bvalue(const char *msg, size_t len, int nth, char *out, size_t cap)
{
	const char *p = msg;
	size_t o = 0;
	while (nth-- >= 0) {
		p = strstr(p, " b=");
		if (!p) { out[0] = 0; return; }
		p += 3;
	}
	for (; p < msg + len && *p != ';' && o + 1 < cap; p++) {
		if (*p == '\r' && p[1] == '\n' && p[2] != ' ' && p[2] != '\t')
			break;
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			out[o++] = *p;
	}
	out[o] = 0;
}

int main(int argc, char **argv)
{
	const char *ed_b = "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";
	const char *rsa_b = "F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2JzdA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=";
	const char *appc_b = "AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHutKVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV4bmp/YzhwvcubU4=";
	struct buf b = BUF_INIT, want, msg, in, pem;
	struct dkim_key ked, krsa, kc;
	char why[256], dom[256], got[512];
	unsigned char h[32];

	if (sodium_init() < 0)
		return 2;
	if (getenv("DKIM_TESTDATA"))
		snprintf(datadir, sizeof datadir, "%s", getenv("DKIM_TESTDATA"));
	else if (access("tests/data/dkim/rfc8463-signed.eml", R_OK) == 0)
		snprintf(datadir, sizeof datadir, "tests/data/dkim");
	else {
		const char *s = strrchr(argv[0], '/');
		snprintf(datadir, sizeof datadir, "%.*s/../../tests/data/dkim",
		         s ? (int)(s - argv[0]) : 1, s ? argv[0] : ".");
	}
	(void)argc;

	/* c3: RFC 6376 3.4.5 */
	check_hdr("A: X\r\n", DKIM_RELAXED, "a:X\r\n");
	check_hdr("B : Y\t\r\n\tZ  \r\n", DKIM_RELAXED, "b:Y Z\r\n");
	check_hdr("B : Y\t\r\n\tZ  \r\n", DKIM_SIMPLE, "B : Y\t\r\n\tZ  \r\n");
	check_hdr("Subject:   \r\n", DKIM_RELAXED, "subject:\r\n");      /* empty value */
	check_hdr("X-8bit: caf\xc3\xa9 \r\n", DKIM_RELAXED, "x-8bit:caf\xc3\xa9\r\n");
	check_hdr("To: a\r\n", DKIM_SIMPLE, "To: a\r\n");
	check_hdr("To: a", DKIM_SIMPLE, "To: a\r\n");             /* last line, no CRLF */
	check_body(" C \r\nD \t E\r\n\r\n\r\n", 22, DKIM_RELAXED, " C\r\nD E\r\n");
	check_body(" C \r\nD \t E\r\n\r\n\r\n", 22, DKIM_SIMPLE, " C \r\nD \t E\r\n");

	/* c4: empty bodies and last lines */
	check_body("", 0, DKIM_SIMPLE, "\r\n");
	check_body("\r\n", 2, DKIM_SIMPLE, "\r\n");
	check_body("\r\n\r\n", 4, DKIM_SIMPLE, "\r\n");
	check_body("", 0, DKIM_RELAXED, "");
	check_body("\r\n", 2, DKIM_RELAXED, "");
	check_body("\r\n\r\n", 4, DKIM_RELAXED, "");
	check_bh("", 0, DKIM_SIMPLE, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	check_bh("\r\n", 2, DKIM_SIMPLE, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	check_bh("\r\n\r\n", 4, DKIM_SIMPLE, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	check_bh("", 0, DKIM_RELAXED, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	check_bh("\r\n", 2, DKIM_RELAXED, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	check_bh("\r\n\r\n", 4, DKIM_RELAXED, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	check_body("x", 1, DKIM_SIMPLE, "x\r\n");
	check_bh("x\r", 2, DKIM_SIMPLE, "");
	check_bh("x\n", 2, DKIM_SIMPLE, "");
	check_bh("\r\r\n", 3, DKIM_SIMPLE, "");
	check_body("x", 1, DKIM_RELAXED, "x\r\n");
	check_body("x\r\n \r\n", 6, DKIM_SIMPLE, "x\r\n \r\n");
	check_body("x\r\n \r\n", 6, DKIM_RELAXED, "x\r\n");
	/* bare CR and LF are content; CR before CRLF too */
	check_body("a\rb\nc\r\n", 7, DKIM_RELAXED, "a\rb\nc\r\n");
	check_body("a \r\r\n", 5, DKIM_RELAXED, "a \r\r\n");
	check_body("\r\n\r\nx\r\n\r\n", 9, DKIM_RELAXED, "\r\n\r\nx\r\n");
	check_body("a\0b \r\n", 6, DKIM_RELAXED, "a\0b\r\n");

	/* c1: RFC 8463 body and signing inputs */
	msg = load("rfc8463-signed.eml");
	want = load("rfc8463-body-relaxed.bin");
	{
		const char *bd = strstr(msg.p, "\r\n\r\n") + 4;
		struct buf c = body(bd, msg.len - (size_t)(bd - msg.p), DKIM_RELAXED);
		CHECK_MEM(c.p, c.len, want.p, want.len);
		check_bh(bd, msg.len - (size_t)(bd - msg.p), DKIM_RELAXED,
		         "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
		buf_free(&c);
	}
	buf_free(&want);
	want = load("rfc8463-ed-signing-input.bin");
	b.len = 0;
	CHECK(dkim_signing_input(msg.p, msg.len, 0, &b) == 0);
	CHECK_MEM(b.p, b.len, want.p, want.len);
	buf_free(&want);
	want = load("rfc8463-ed-signing-input.sha256");
	crypto_hash_sha256(h, (unsigned char *)b.p, b.len);
	CHECK_MEM(h, 32, want.p, want.len);
	buf_free(&want);
	in = load("rfc8463-rsa-signing-input.bin");
	b.len = 0;
	CHECK(dkim_signing_input(msg.p, msg.len, 1, &b) == 0);
	CHECK_MEM(b.p, b.len, in.p, in.len);

	/* the published b= values from the keys */
	pem = load("rfc8463-ed25519.pem");
	CHECK(dkim_key_from_pem(&ked, pem.p, pem.len, DKIM_ED25519_SHA256, why, sizeof why) == DKIM_OK);
	buf_free(&pem);
	b.len = 0;
	CHECK(dkim_key_record(&ked, &b) == 0);
	CHECK_STR(b.p, "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	want = load("rfc8463-ed-signing-input.bin");
	b.len = 0;
	CHECK(dkim_sign_data(&ked, want.p, want.len, &b) == 0);
	CHECK_STR(b.p, ed_b);
	buf_free(&want);
	pem = load("rfc8463-rsa.key");
	CHECK(dkim_key_from_pem(&krsa, pem.p, pem.len, 0, why, sizeof why) == DKIM_OK);
	CHECK(krsa.alg == DKIM_RSA_SHA256 && krsa.bits == 1024);
	buf_free(&pem);
	b.len = 0;
	CHECK(dkim_sign_data(&krsa, in.p, in.len, &b) == 0);
	CHECK_STR(b.p, rsa_b);
	buf_free(&in);

	/* the whole signer: the RFC 8463 A.3 fields, byte for byte in b= */
	{
		const char *m = strstr(msg.p, "\r\nFrom: Joe") + 2;
		struct dkim_sign_opts o;
		memset(&o, 0, sizeof o);
		o.domain = "football.example.com";
		o.identity = "@football.example.com";
		o.hcanon = o.bcanon = DKIM_RELAXED;
		o.t = 1528637909;
		o.hlist = "from:to:subject:date:message-id:from:subject:date";
		o.selector = "brisbane";
		o.key = &ked;
		b.len = 0;
		CHECK(dkim_sign_message(m, msg.len - (size_t)(m - msg.p), &o, &b, why, sizeof why) == DKIM_OK);
		o.selector = "test";
		o.key = &krsa;
		CHECK(dkim_sign_message(m, msg.len - (size_t)(m - msg.p), &o, &b, why, sizeof why) == DKIM_OK);
		bvalue(b.p, b.len, 0, got, sizeof got);
		CHECK_STR(got, ed_b);
		bvalue(b.p, b.len, 1, got, sizeof got);
		CHECK_STR(got, rsa_b);
		CHECK(strstr(b.p, "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;") != NULL);
		CHECK(strstr(b.p, " l=") == NULL && strstr(b.p, ";l=") == NULL);
		/* an h= without From, or with X-Relay-Class, is refused */
		o.hlist = "to:subject";
		CHECK(dkim_sign_message(m, strlen(m), &o, &b, why, sizeof why) == DKIM_PERM);
		o.hlist = "from:x-relay-class";
		CHECK(dkim_sign_message(m, strlen(m), &o, &b, why, sizeof why) == DKIM_PERM);
		/* no CR/LF/; through d= or s= */
		o.hlist = NULL;
		o.selector = "a;b=c";
		CHECK(dkim_sign_message(m, strlen(m), &o, &b, why, sizeof why) == DKIM_PERM);
	}
	buf_free(&msg);

	/* c2: RFC 6376 Appendix C, simple/simple */
	msg = load("rfc6376-appC-signed.eml");
	want = load("rfc6376-appC-signing-input.bin");
	b.len = 0;
	CHECK(dkim_signing_input(msg.p, msg.len, 0, &b) == 0);
	CHECK_MEM(b.p, b.len, want.p, want.len);
	pem = load("rfc6376-appC.key");
	CHECK(dkim_key_from_pem(&kc, pem.p, pem.len, DKIM_RSA_SHA256, why, sizeof why) == DKIM_OK);
	buf_free(&pem);
	b.len = 0;
	CHECK(dkim_sign_data(&kc, want.p, want.len, &b) == 0);
	CHECK_STR(b.p, appc_b);
	{
		const char *bd = strstr(msg.p, "\r\n\r\n") + 4;
		check_bh(bd, msg.len - (size_t)(bd - msg.p), DKIM_SIMPLE,
		         "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
	}
	buf_free(&want);
	buf_free(&msg);
	/* refusing the other algorithm for a key */
	dkim_key_free(&kc);
	pem = load("rfc6376-appC.key");
	CHECK(dkim_key_from_pem(&kc, pem.p, pem.len, DKIM_ED25519_SHA256, why, sizeof why) == DKIM_PERM);
	buf_free(&pem);

	/* From: exactly one, its domain lowercased */
	CHECK(from_dom("From: Joe <joe@Example.ORG>\r\n\r\n", dom) == DKIM_OK);
	CHECK_STR(dom, "example.org");
	CHECK(from_dom("From: \"a@evil.test\" <joe@example.org> (x@y.test)\r\n\r\n", dom) == DKIM_OK);
	CHECK_STR(dom, "example.org");
	CHECK(from_dom("From: joe@example.org\r\n\r\n", dom) == DKIM_OK);
	CHECK_STR(dom, "example.org");
	CHECK(from_dom("From: a@x.test, b@X.test\r\n\r\n", dom) == DKIM_OK);
	CHECK_STR(dom, "x.test");
	CHECK(from_dom("From: a@x.test, b@y.test\r\n\r\n", dom) == DKIM_PERM);
	CHECK(from_dom("From: a@x.test\r\nfrom: b@x.test\r\n\r\n", dom) == DKIM_PERM);
	CHECK(from_dom("To: a@x.test\r\n\r\n", dom) == DKIM_PERM);
	CHECK(from_dom("From: nobody\r\n\r\n", dom) == DKIM_PERM);
	CHECK(from_dom(" From: a@x.test\r\n\r\n", dom) == DKIM_PERM);
	CHECK(from_dom("From a@x.test\r\n\r\n", dom) == DKIM_PERM);
	CHECK(from_dom("From : a@x.test\r\n\r\n", dom) == DKIM_OK);
	CHECK(from_dom("From: a@x.test", dom) == DKIM_OK); /* no body, no CRLF */

	/* the header section: intake/'s splitter under DKIM's rules; a
	 * malformed one is permanent, with its reason, for signer and
	 * verifier alike */
	{
		struct msg_headers hs;
		char hw[128];
		struct buf rep = BUF_INIT;
		const char *m = "From : a@x.test\r\nX-A: 1\n2\r\n\r\nb\r\n";
		CHECK(dkim_headers_parse(&hs, m, strlen(m), hw, sizeof hw) == DKIM_OK);
		CHECK(hs.n == 2 && hs.f[0].name_len == 4 && hs.f[1].len == 10 && hs.body == strlen(m) - 3);
		msg_headers_free(&hs);
		CHECK(dkim_headers_parse(&hs, "no field\r\n\r\n", 12, hw, sizeof hw) == DKIM_PERM);
		CHECK_STR(hw, "header line without a colon");
		CHECK(hs.f == NULL && hs.n == 0);
		CHECK(dkim_headers_parse(&hs, "A b: 1\r\n", 8, NULL, 0) == DKIM_PERM);
		CHECK(from_dom("From: a@x.test\r\nA b: 1\r\n\r\n", dom) == DKIM_PERM);
		CHECK(dkim_verify_message("A b: 1\r\n\r\n", 10, NULL, NULL, 0, &rep) == DKIM_PERM);
		CHECK_STR(rep.p, "fail: header field name with a byte outside 33..126\n");
		buf_free(&rep);
	}

	/* base64: strict, white space allowed, nothing after the padding */
	b.len = 0;
	CHECK(base64_decode(&b, "YWJj ZA==", 9) == 0 && b.len == 4 && !memcmp(b.p, "abcd", 4));
	b.len = 0;
	CHECK(base64_decode(&b, "YWJjZA==5jq4=", 13) < 0);
	b.len = 0;
	CHECK(base64_decode(&b, "YWJjZB==", 8) < 0);
	b.len = 0;
	CHECK(base64_decode(&b, "YWJ", 3) < 0);
	b.len = 0;
	CHECK(base64_decode(&b, "Y=Jj", 4) < 0);
	b.len = 0;
	CHECK(base64_decode(&b, "YW\0Jj", 5) < 0 && errno == EINVAL); /* NUL is not white space */
	b.len = 0;
	CHECK(base64_decode(&b, "YWJjZA==\r\n \t", 12) == 0 && b.len == 4);
	b.len = 0;
	CHECK(base64_decode(&b, " \r\n", 3) == 0 && b.len == 0);
	b.len = 0;
	CHECK(base64_decode(&b, "====", 4) < 0);
	b.len = 0;
	CHECK(base64_decode(&b, "YWJjZA", 6) < 0); /* padding is required */
	{
		/* RFC 4648 section 10, both ways */
		static const char *const v[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
			{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
			{ "foobar", "Zm9vYmFy" } };
		size_t i;
		for (i = 0; i < sizeof v / sizeof v[0]; i++) {
			b.len = 0;
			CHECK(base64_encode(&b, v[i][0], strlen(v[i][0])) == 0);
			CHECK(b.p && b.len == strlen(v[i][1]) && strcmp(b.p, v[i][1]) == 0);
			b.len = 0;
			CHECK(base64_decode(&b, v[i][1], strlen(v[i][1])) == 0);
			CHECK(b.len == strlen(v[i][0]) && memcmp(b.p, v[i][0], b.len) == 0);
		}
	}

	dkim_key_free(&ked);
	dkim_key_free(&krsa);
	dkim_key_free(&kc);
	buf_free(&b);
	CHECK_DONE();
}
