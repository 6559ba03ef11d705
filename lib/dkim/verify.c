/* DKIM verification (RFC 6376 6): the tag lists of a signature and a
 * key record, the checks of each tag, the hashes, the key lookup and the
 * signature check; and the signing input for tests. */
#include "dkim/dkim.h"
#include "dkim/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "base/base64.h"
#include "base/diag.h"

/* ---- verification ---- */

#define TAGS_MAX 32

struct tags {
	struct buf text;         /* the tag list, unfolded */
	size_t n;
	char name[TAGS_MAX][8];
	size_t voff[TAGS_MAX], vlen[TAGS_MAX];
};

static int is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Parse "tag=value; ..." (RFC 6376 3.2). 0, or -1 on bad syntax. */
static int tags_parse(struct tags *t, const char *v, size_t n)
{
	size_t i = 0;
	memset(t, 0, sizeof *t);
	for (i = 0; i < n; i++)
		if (v[i] != '\r' && v[i] != '\n' && buf_addc(&t->text, v[i]) < 0)
			return -1;
	if (buf_addc(&t->text, 0) < 0)
		return -1;
	t->text.len--;
	i = 0;
	while (i < t->text.len) {
		const char *s = t->text.p;
		size_t e = i, ns, ne, k;
		while (e < t->text.len && s[e] != ';')
			e++;
		while (i < e && is_wsp(s[i]))
			i++;
		if (i == e) { /* an empty spec: only at the end */
			if (e < t->text.len) {
				size_t r = e + 1;
				while (r < t->text.len && is_wsp(s[r]))
					r++;
				if (r < t->text.len)
					return -1;
			}
			break;
		}
		ns = i;
		while (i < e && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		                 (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			i++;
		ne = i;
		while (i < e && is_wsp(s[i]))
			i++;
		if (ne == ns || ne - ns >= sizeof t->name[0] || i == e || s[i] != '=' ||
		    t->n == TAGS_MAX)
			return -1;
		i++;
		while (i < e && is_wsp(s[i]))
			i++;
		k = e;
		while (k > i && is_wsp(s[k - 1]))
			k--;
		memcpy(t->name[t->n], s + ns, ne - ns);
		t->name[t->n][ne - ns] = 0;
		for (size_t d = 0; d < t->n; d++)
			if (!strcmp(t->name[d], t->name[t->n]))
				return -1; /* a tag twice */
		t->voff[t->n] = i;
		t->vlen[t->n] = k - i;
		t->n++;
		i = e + 1;
	}
	return 0;
}

static const char *tag(const struct tags *t, const char *name, size_t *len)
{
	size_t i;
	for (i = 0; i < t->n; i++)
		if (!strcmp(t->name[i], name)) {
			*len = t->vlen[i];
			return t->text.p + t->voff[i];
		}
	return NULL;
}

static int tag_is(const struct tags *t, const char *name, const char *want)
{
	size_t n;
	const char *v = tag(t, name, &n);
	return v && n == strlen(want) && !strncasecmp(v, want, n);
}

/* A copy of the field with the value of its b= tag removed (3.7). */
static int strip_b(const char *f, size_t n, struct buf *out)
{
	const char *colon = memchr(f, ':', n);
	size_t i = colon ? (size_t)(colon - f) + 1 : n;
	while (i < n) {
		size_t j = i, ns, ne, end;
		const char *semi;
		while (j < n && is_wsp(f[j]))
			j++;
		ns = j;
		while (j < n && f[j] != '=' && f[j] != ';' && !is_wsp(f[j]))
			j++;
		ne = j;
		while (j < n && is_wsp(f[j]))
			j++;
		semi = memchr(f + j, ';', n - j);
		if (ne - ns == 1 && f[ns] == 'b' && j < n && f[j] == '=') {
			end = semi ? (size_t)(semi - f) : n;
			if (!semi && end >= 2 && f[end - 2] == '\r' && f[end - 1] == '\n')
				end -= 2;
			if (buf_add(out, f, j + 1) < 0 || buf_add(out, f + end, n - end) < 0)
				return -1;
			return 0;
		}
		if (!semi)
			break;
		i = (size_t)(semi - f) + 1;
	}
	return -1;
}

static int parse_canon(const char *v, size_t n, int *hc, int *bc)
{
	const char *slash;
	size_t hn;
	if (!v) {
		*hc = *bc = DKIM_SIMPLE;
		return 0;
	}
	slash = memchr(v, '/', n);
	hn = slash ? (size_t)(slash - v) : n;
#define CANON(p, l, out) \
	((l) == 6 && !strncasecmp(p, "simple", 6) ? (*(out) = DKIM_SIMPLE, 0) : \
	 (l) == 7 && !strncasecmp(p, "relaxed", 7) ? (*(out) = DKIM_RELAXED, 0) : -1)
	if (CANON(v, hn, hc) < 0)
		return -1;
	if (!slash) {
		*bc = DKIM_SIMPLE;
		return 0;
	}
	return CANON(slash + 1, n - hn - 1, bc);
#undef CANON
}

static int parse_num(const char *v, size_t n, unsigned long long *out)
{
	unsigned long long x = 0;
	size_t i;
	if (!v || n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* A d= or s= value: a DNS name (underscore allowed). */
static int name_ok(const char *v, size_t n)
{
	size_t i;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '.' || v[i] == '_'))
			return 0;
	return 1;
}

/* Check one signature; on failure *reason says why. */
static int verify_one(const char *msg, size_t len, const struct msg_headers *h,
                      const struct msg_field *sf, dkim_keyfn keyfn, void *kctx,
                      time_t now, struct tags *st, const char **reason)
{
	struct dkim_names hl = {0};
	struct buf hcopy = BUF_INIT, bhv = BUF_INIT, bv = BUF_INIT, data = BUF_INIT,
	           pkey = BUF_INIT, sigstrip = BUF_INIT;
	struct tags kt;
	const char *v, *colon;
	size_t n = 0, i;
	int alg, hc, bc, r = DKIM_PERM;
	unsigned long long l = 0, tx, tt;
	int have_l = 0;
	unsigned char bh[32], dg[32];
	uint64_t total;
	char dom[256], sel[256];
	struct buf recs = BUF_INIT;
	size_t roff;

	memset(&kt, 0, sizeof kt);
	colon = memchr(msg + sf->off, ':', sf->len);
	if (tags_parse(st, colon + 1, sf->len - (size_t)(colon + 1 - (msg + sf->off))) < 0) {
		*reason = "bad tag list";
		goto out;
	}
	if (!tag_is(st, "v", "1")) {
		*reason = "v= is not 1";
		goto out;
	}
	v = tag(st, "a", &n);
	if (!v) {
		*reason = "no a=";
		goto out;
	}
	if (n == 8 && !strncasecmp(v, "rsa-sha1", 8)) {
		*reason = "rsa-sha1 is not accepted (RFC 8301)";
		goto out;
	}
	alg = n == 10 && !strncasecmp(v, "rsa-sha256", 10) ? DKIM_RSA_SHA256
	    : n == 14 && !strncasecmp(v, "ed25519-sha256", 14) ? DKIM_ED25519_SHA256 : 0;
	if (!alg) {
		*reason = "unknown a=";
		goto out;
	}
	(void)i;
	v = tag(st, "c", &n);
	if (parse_canon(v, n, &hc, &bc) < 0) {
		*reason = "bad c=";
		goto out;
	}
	v = tag(st, "d", &n);
	if (!v || !name_ok(v, n)) {
		*reason = "bad or missing d=";
		goto out;
	}
	snprintf(dom, sizeof dom, "%.*s", (int)n, v);
	v = tag(st, "s", &n);
	if (!v || !name_ok(v, n)) {
		*reason = "bad or missing s=";
		goto out;
	}
	snprintf(sel, sizeof sel, "%.*s", (int)n, v);
	v = tag(st, "h", &n);
	if (!v || buf_add(&hcopy, v, n) < 0 || buf_addc(&hcopy, 0) < 0 ||
	    dkim_names_split(&hl, hcopy.p) < 0) {
		*reason = "bad or missing h=";
		goto out;
	}
	if (!dkim_names_has(&hl, "from", 4)) {
		*reason = "h= does not include From";
		goto out;
	}
	v = tag(st, "l", &n);
	if (v) {
		if (parse_num(v, n, &l) < 0) {
			*reason = "bad l=";
			goto out;
		}
		have_l = 1;
	}
	v = tag(st, "x", &n);
	if (v) {
		if (parse_num(v, n, &tx) < 0) {
			*reason = "bad x=";
			goto out;
		}
		if (tx < (unsigned long long)now) {
			*reason = "signature expired (x=)";
			goto out;
		}
		v = tag(st, "t", &n);
		if (v && (parse_num(v, n, &tt) < 0 || tt > tx)) {
			*reason = "bad t= or x= before t=";
			goto out;
		}
	}
	v = tag(st, "bh", &n);
	if (!v || base64_decode(&bhv, v, n) < 0 || bhv.len != 32) {
		*reason = "bad or missing bh=";
		goto out;
	}
	v = tag(st, "b", &n);
	if (!v || base64_decode(&bv, v, n) < 0 || bv.len == 0) {
		*reason = "bad or missing b=";
		goto out;
	}

	/* body: l= counts canonical bytes; more than there are is an error,
	 * and the canonicalizer never reads past the body either way */
	total = dkim_hash_body(msg + h->body, len - h->body, bc == DKIM_RELAXED,
	                       have_l ? l : UINT64_MAX, bh);
	if (total == UINT64_MAX) {
		r = DKIM_TEMP;
		*reason = "out of memory";
		goto out;
	}
	if (have_l && l > total) {
		*reason = "l= is larger than the body";
		goto out;
	}
	if (memcmp(bh, bhv.p, 32) != 0) {
		*reason = "body hash mismatch";
		goto out;
	}

	if (dkim_hash_headers(&data, msg, h, hl.p, hl.len, hl.n, hc == DKIM_RELAXED) < 0 ||
	    strip_b(msg + sf->off, sf->len, &sigstrip) < 0 ||
	    dkim_canon_header(&data, hc == DKIM_RELAXED, sigstrip.p, sigstrip.len) < 0) {
		*reason = "cannot build the header data";
		goto out;
	}
	data.len -= 2;
	dkim_sha256(data.p, data.len, dg);

	switch (keyfn(kctx, sel, dom, &recs)) {
	case DKIM_OK:
		break;
	case DKIM_TEMP:
		r = DKIM_TEMP;
		*reason = "key lookup failed for now";
		goto out;
	default:
		*reason = "no key record";
		goto out;
	}
	*reason = "no key record for this algorithm";
	for (roff = 0; roff < recs.len; roff += strlen(recs.p + roff) + 1) {
		const char *kv;
		size_t kn = 0;
		buf_free(&kt.text);
		if (tags_parse(&kt, recs.p + roff, strlen(recs.p + roff)) < 0) {
			*reason = "bad key record";
			continue;
		}
		kv = tag(&kt, "k", &kn);
		if (alg == DKIM_RSA_SHA256 ? (kv && !(kn == 3 && !strncasecmp(kv, "rsa", 3)))
		                           : !(kv && kn == 7 && !strncasecmp(kv, "ed25519", 7)))
			continue;
		if ((kv = tag(&kt, "v", &kn)) && !(kn == 5 && !strncmp(kv, "DKIM1", 5))) {
			*reason = "key record v= is not DKIM1";
			continue;
		}
		kv = tag(&kt, "p", &kn);
		pkey.len = 0;
		if (!kv || kn == 0) {
			*reason = "key revoked (empty p=)";
			continue;
		}
		if (base64_decode(&pkey, kv, kn) < 0) {
			*reason = "bad p= in key record";
			continue;
		}
		if (alg == DKIM_ED25519_SHA256) {
			if (pkey.len != 32) {
				*reason = "Ed25519 p= is not 32 bytes";
				continue;
			}
			if (bv.len == 64 && crypto_sign_verify_detached((unsigned char *)bv.p, dg, 32,
			                                                (unsigned char *)pkey.p) == 0) {
				r = DKIM_OK;
				break;
			}
			*reason = "signature does not verify";
		} else {
			const unsigned char *q = (const unsigned char *)pkey.p;
			EVP_PKEY *pk = d2i_PUBKEY(NULL, &q, (long)pkey.len);
			EVP_PKEY_CTX *ctx;
			int ok;
			if (!pk) {
				q = (const unsigned char *)pkey.p;
				pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)pkey.len);
			}
			if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
				EVP_PKEY_free(pk);
				*reason = "bad RSA public key";
				continue;
			}
			if (EVP_PKEY_get_bits(pk) < DKIM_RSA_MIN_BITS) {
				EVP_PKEY_free(pk);
				*reason = "RSA key shorter than 1024 bits";
				continue;
			}
			ctx = EVP_PKEY_CTX_new(pk, NULL);
			ok = ctx && EVP_PKEY_verify_init(ctx) > 0 &&
			     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
			     EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
			     EVP_PKEY_verify(ctx, (unsigned char *)bv.p, bv.len, dg, 32) == 1;
			EVP_PKEY_CTX_free(ctx);
			EVP_PKEY_free(pk);
			if (ok) {
				r = DKIM_OK;
				break;
			}
			*reason = "signature does not verify";
		}
	}
out:
	free(hl.p);
	free(hl.len);
	buf_free(&kt.text);
	buf_free(&hcopy);
	buf_free(&bhv);
	buf_free(&bv);
	buf_free(&data);
	buf_free(&pkey);
	buf_free(&sigstrip);
	buf_free(&recs);
	return r;
}

int dkim_verify_message(const char *msg, size_t len, dkim_keyfn keyfn, void *kctx,
                        time_t now, struct buf *report)
{
	struct msg_headers h;
	char bad[128];
	size_t i;
	int nsig = 0, r;
	if ((r = dkim_headers_parse(&h, msg, len, bad, sizeof bad)) != DKIM_OK) {
		buf_printf(report, "fail: %s\n", bad);
		return r;
	}
	for (i = 0; i < h.n; i++) {
		struct tags st;
		const char *reason = NULL, *v;
		char d[128] = "?", s[128] = "?", a[32] = "?";
		size_t n;
		int one;
		if (!msg_field_is(msg, &h.f[i], "dkim-signature", 14))
			continue;
		nsig++;
		one = verify_one(msg, len, &h, &h.f[i], keyfn, kctx, now, &st, &reason);
		if ((v = tag(&st, "d", &n)))
			safe_text(d, sizeof d, v, n);
		if ((v = tag(&st, "s", &n)))
			safe_text(s, sizeof s, v, n);
		if ((v = tag(&st, "a", &n)))
			safe_text(a, sizeof a, v, n);
		buf_free(&st.text);
		if (one == DKIM_OK)
			buf_printf(report, "pass a=%s d=%s s=%s\n", a, d, s);
		else
			buf_printf(report, "fail a=%s d=%s s=%s: %s\n", a, d, s, reason);
		if (one != DKIM_OK && r != DKIM_TEMP)
			r = one;
	}
	msg_headers_free(&h);
	if (nsig == 0) {
		buf_printf(report, "fail: no DKIM-Signature field\n");
		return DKIM_PERM;
	}
	return r;
}

int dkim_signing_input(const char *msg, size_t len, size_t nth, struct buf *out)
{
	struct msg_headers h;
	struct tags st;
	struct dkim_names hl = {0};
	struct buf hcopy = BUF_INIT, strip = BUF_INIT;
	const char *v, *colon;
	size_t i, n = 0, seen = 0;
	int hc, bc, r = -1;
	memset(&st, 0, sizeof st);
	if (dkim_headers_parse(&h, msg, len, NULL, 0) != DKIM_OK)
		return -1;
	for (i = 0; i < h.n; i++) {
		const struct msg_field *f = &h.f[i];
		if (!msg_field_is(msg, f, "dkim-signature", 14) || seen++ != nth)
			continue;
		colon = memchr(msg + f->off, ':', f->len);
		if (tags_parse(&st, colon + 1, f->len - (size_t)(colon + 1 - (msg + f->off))) < 0)
			break;
		v = tag(&st, "c", &n);
		if (parse_canon(v, n, &hc, &bc) < 0 || !(v = tag(&st, "h", &n)) ||
		    buf_add(&hcopy, v, n) < 0 || buf_addc(&hcopy, 0) < 0 ||
		    dkim_names_split(&hl, hcopy.p) < 0 ||
		    dkim_hash_headers(out, msg, &h, hl.p, hl.len, hl.n, hc == DKIM_RELAXED) < 0 ||
		    strip_b(msg + f->off, f->len, &strip) < 0 ||
		    dkim_canon_header(out, hc == DKIM_RELAXED, strip.p, strip.len) < 0)
			break;
		out->len -= 2;
		r = 0;
		break;
	}
	free(hl.p);
	free(hl.len);
	buf_free(&st.text);
	buf_free(&hcopy);
	buf_free(&strip);
	msg_headers_free(&h);
	return r;
}
