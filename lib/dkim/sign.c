/* DKIM signing (RFC 6376 5): the From domain, the h= list with
 * over-signing, the folded DKIM-Signature field. */
#include "dkim/dkim.h"
#include "dkim/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "base/base64.h"

static int sign_digest(const struct dkim_key *k, const unsigned char dg[32],
                       unsigned char *sig, size_t *siglen)
{
	if (k->alg == DKIM_ED25519_SHA256) {
		unsigned long long n;
		crypto_sign_detached(sig, &n, dg, 32, k->sk);
		*siglen = (size_t)n;
		return 0;
	} else {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->rsa, NULL);
		int ok = ctx && EVP_PKEY_sign_init(ctx) > 0 &&
		         EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
		         EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
		         EVP_PKEY_sign(ctx, sig, siglen, dg, 32) > 0;
		EVP_PKEY_CTX_free(ctx);
		return ok ? 0 : -1;
	}
}

/* ---- From ---- */

/* How many fields are named p[0..n). */
static int count_name(const char *msg, const struct msg_headers *h, const char *p, size_t n)
{
	size_t i;
	int c = 0;
	for (i = 0; i < h->n; i++)
		c += msg_field_is(msg, &h->f[i], p, n);
	return c;
}

/* The domain of each mailbox in an address list; all must agree. */
static int parse_from(const char *v, size_t n, char *dom, size_t cap, char *why, size_t wn)
{
	size_t i;
	int quote = 0, depth = 0, mailboxes = 0;
	char cur[256];
	size_t curlen = 0;
	int have = 0, angle_done = 0;
	dom[0] = 0;
	for (i = 0; i <= n; i++) {
		char c = i < n ? v[i] : ',';
		if (quote) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quote = 0;
			continue;
		}
		if (depth) {
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (c == '"') {
			quote = 1;
		} else if (c == '(') {
			depth = 1;
		} else if (c == '<') {
			have = 0;
		} else if (c == '>') {
			angle_done = have;
		} else if (c == '@' && !angle_done) {
			size_t j = i + 1;
			while (j < n && (v[j] == ' ' || v[j] == '\t' || v[j] == '\r' || v[j] == '\n'))
				j++;
			curlen = 0;
			while (j < n && curlen < sizeof cur - 1) {
				char d = v[j];
				if (!((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
				      (d >= '0' && d <= '9') || d == '-' || d == '.'))
					break;
				cur[curlen++] = (char)(d >= 'A' && d <= 'Z' ? d - 'A' + 'a' : d);
				j++;
			}
			while (curlen && cur[curlen - 1] == '.')
				curlen--;
			cur[curlen] = 0;
			have = curlen > 0;
			i = j - 1;
		} else if (c == ',' || c == ';') {
			if (have) {
				mailboxes++;
				if (!dom[0]) {
					if (curlen >= cap)
						return dkim_say(DKIM_PERM, why, wn, "From domain too long");
					memcpy(dom, cur, curlen + 1);
				} else if (strcmp(dom, cur) != 0) {
					return dkim_say(DKIM_PERM, why, wn, "From has mailboxes in more than one domain");
				}
			}
			have = angle_done = 0;
		}
	}
	if (!mailboxes)
		return dkim_say(DKIM_PERM, why, wn, "no address with a domain in the From field");
	return DKIM_OK;
}

static int from_domain(const char *msg, const struct msg_headers *h, char *dom, size_t cap,
                       char *why, size_t wn)
{
	size_t i, colon;
	const struct msg_field *f = NULL;
	int n = count_name(msg, h, "from", 4);
	if (n == 0)
		return dkim_say(DKIM_PERM, why, wn, "message has no From field");
	if (n > 1)
		return dkim_say(DKIM_PERM, why, wn, "message has %d From fields", n);
	for (i = 0; i < h->n; i++)
		if (msg_field_is(msg, &h->f[i], "from", 4))
			f = &h->f[i];
	colon = (size_t)((const char *)memchr(msg + f->off, ':', f->len) - (msg + f->off)) + 1;
	return parse_from(msg + f->off + colon, f->len - colon, dom, cap, why, wn);
}

int dkim_from_domain(const char *msg, size_t len, char *dom, size_t cap, char *why, size_t wn)
{
	struct msg_headers h;
	int r;
	if ((r = dkim_headers_parse(&h, msg, len, why, wn)) != DKIM_OK)
		return r;
	r = from_domain(msg, &h, dom, cap, why, wn);
	msg_headers_free(&h);
	return r;
}

/* ---- signing ---- */

/* What we sign when they are there; From, Subject and Date are also
 * over-signed, so that an added instance breaks the signature. */
static const char *const default_names[] = {
	"from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id",
	"in-reply-to", "references", "mime-version", "content-type",
	"content-transfer-encoding", "content-id", "content-description",
	"resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc",
	"resent-message-id", "list-id", "list-help", "list-unsubscribe",
	"list-subscribe", "list-post", "list-owner", "list-archive",
	"list-unsubscribe-post", "feedback-id", NULL
};
static const char *const oversign_names[] = { "from", "subject", "date", NULL };

/* A d=, s= or i= value: printable, no ';' or white space, so nothing
 * from a config file or a header can add a tag or a line. */
static int tag_value_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 255)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 32 || (unsigned char)*s >= 127 || *s == ';')
			return 0;
	return 1;
}

struct folder {
	struct buf *b;
	size_t col;
};

/* Append a piece, after a space or, if it would pass the fold column,
 * after CRLF SP. */
static int fold_add(struct folder *f, const char *p, size_t n, int sep)
{
	if (sep && f->col + 1 + n > DKIM_FOLD_COLS && f->col > 1) {
		if (buf_add(f->b, "\r\n ", 3) < 0)
			return -1;
		f->col = 1;
	} else if (sep) {
		if (buf_addc(f->b, ' ') < 0)
			return -1;
		f->col++;
	}
	f->col += n;
	return buf_add(f->b, p, n);
}

int dkim_sign_message(const char *msg, size_t len, const struct dkim_sign_opts *o,
                      struct buf *out, char *why, size_t wn)
{
	struct msg_headers h;
	struct dkim_names hl = {0}, extra = {0};
	struct buf field = BUF_INIT, data = BUF_INIT, tmp = BUF_INIT;
	struct folder f = { &field, 0 };
	char dom[256];
	unsigned char bh[32], dg[32], sig[1024];
	size_t siglen = sizeof sig, i, prefix;
	long long t;
	int r = DKIM_TEMP;

	if (!o->key || !o->key->alg)
		return dkim_say(DKIM_TEMP, why, wn, "no key");
	if (o->key->alg == DKIM_RSA_SHA256 && o->key->bits < DKIM_RSA_MIN_BITS)
		return dkim_say(DKIM_PERM, why, wn, "RSA key too small");
	if (!tag_value_ok(o->domain) || !tag_value_ok(o->selector) ||
	    (o->identity && !tag_value_ok(o->identity)))
		return dkim_say(DKIM_PERM, why, wn, "bad d=, s= or i= value");
	if ((r = dkim_headers_parse(&h, msg, len, why, wn)) != DKIM_OK)
		return r;
	/* exactly one From (RFC 5322 3.6) with a usable address */
	r = from_domain(msg, &h, dom, sizeof dom, why, wn);
	if (r != DKIM_OK)
		goto done;
	r = DKIM_PERM;

	if (o->hlist) {
		if (dkim_names_split(&hl, o->hlist) < 0) {
			dkim_say(DKIM_PERM, why, wn, "bad header name list");
			goto done;
		}
	} else {
		const char *const *d;
		if (o->oversign && dkim_names_split(&extra, o->oversign) < 0) {
			dkim_say(DKIM_PERM, why, wn, "bad over-sign list");
			goto done;
		}
		for (d = default_names; *d; d++) {
			int c = count_name(msg, &h, *d, strlen(*d));
			while (c-- > 0)
				if (dkim_names_add(&hl, *d, strlen(*d)) < 0)
					goto nomem;
		}
		for (i = 0; i < extra.n; i++) {
			int c;
			if (dkim_names_has(&hl, extra.p[i], extra.len[i]))
				continue;
			c = count_name(msg, &h, extra.p[i], extra.len[i]);
			while (c-- > 0)
				if (dkim_names_add(&hl, extra.p[i], extra.len[i]) < 0)
					goto nomem;
		}
		for (d = oversign_names; *d; d++)
			if (dkim_names_add(&hl, *d, strlen(*d)) < 0)
				goto nomem;
		for (i = 0; i < extra.n; i++) {
			const char *const *q;
			int dup = 0;
			for (q = oversign_names; *q; q++)
				dup |= strlen(*q) == extra.len[i] && !strncasecmp(*q, extra.p[i], extra.len[i]);
			if (!dup && dkim_names_add(&hl, extra.p[i], extra.len[i]) < 0)
				goto nomem;
		}
	}
	if (!dkim_names_has(&hl, "from", 4)) {
		dkim_say(DKIM_PERM, why, wn, "h= must include From (RFC 6376 5.4)");
		goto done;
	}
	if (dkim_names_has(&hl, "x-relay-class", 13)) {
		dkim_say(DKIM_PERM, why, wn, "X-Relay-Class is removed before delivery and is never signed");
		goto done;
	}
	for (i = 0; i < hl.n; i++)
		if (hl.len[i] == 14 && !strncasecmp(hl.p[i], "dkim-signature", 14)) {
			dkim_say(DKIM_PERM, why, wn, "DKIM-Signature is never signed");
			goto done;
		}

	r = DKIM_TEMP;
	if (dkim_hash_body(msg + h.body, len - h.body, o->bcanon == DKIM_RELAXED, UINT64_MAX, bh) == UINT64_MAX)
		goto nomem;
	t = o->t >= 0 ? o->t : (long long)time(NULL);

	/* the field, laid out as it will be sent, up to "b=" */
	if (buf_adds(&field, "DKIM-Signature:") < 0)
		goto nomem;
	f.col = field.len;
#define PIECE(...) do { tmp.len = 0; if (buf_printf(&tmp, __VA_ARGS__) < 0 || \
		fold_add(&f, tmp.p, tmp.len, 1) < 0) goto nomem; } while (0)
	PIECE("v=1;");
	PIECE("a=%s;", dkim_alg_name(o->key->alg));
	PIECE("c=%s/%s;", o->hcanon == DKIM_RELAXED ? "relaxed" : "simple",
	      o->bcanon == DKIM_RELAXED ? "relaxed" : "simple");
	PIECE("d=%s;", o->domain);
	if (o->identity)
		PIECE("i=%s;", o->identity);
	PIECE("q=dns/txt;");
	PIECE("s=%s;", o->selector);
	PIECE("t=%lld;", t);
	if (o->expire > 0)
		PIECE("x=%lld;", t + o->expire);
	for (i = 0; i < hl.n; i++)
		PIECE("%s%.*s%s", i ? "" : "h=", (int)hl.len[i], hl.p[i],
		      i + 1 < hl.n ? " :" : ";");
	tmp.len = 0;
	if (buf_adds(&tmp, "bh=") < 0 || base64_encode(&tmp, bh, 32) < 0 ||
	    buf_addc(&tmp, ';') < 0 || fold_add(&f, tmp.p, tmp.len, 1) < 0)
		goto nomem;
	/* "b=" with room for some of its value on the same line */
	if (f.col + 1 + 2 + 8 > DKIM_FOLD_COLS) {
		if (buf_add(&field, "\r\n b=", 5) < 0)
			goto nomem;
		f.col = 3;
	} else {
		if (buf_add(&field, " b=", 3) < 0)
			goto nomem;
		f.col += 3;
	}
	prefix = field.len;
#undef PIECE

	/* the header data: signed fields, then this field with b= empty and
	 * no final CRLF (RFC 6376 3.7) */
	if (dkim_hash_headers(&data, msg, &h, hl.p, hl.len, hl.n, o->hcanon == DKIM_RELAXED) < 0 ||
	    dkim_canon_header(&data, o->hcanon == DKIM_RELAXED, field.p, prefix) < 0)
		goto nomem;
	data.len -= 2;
	if (dkim_sha256(data.p, data.len, dg) < 0 || sign_digest(o->key, dg, sig, &siglen) < 0) {
		dkim_say(DKIM_TEMP, why, wn, "signing failed");
		goto done;
	}
	tmp.len = 0;
	if (base64_encode(&tmp, sig, siglen) < 0)
		goto nomem;
	for (i = 0; i < tmp.len;) {
		size_t room = DKIM_FOLD_COLS > f.col ? DKIM_FOLD_COLS - f.col : 0;
		if (room == 0) {
			if (buf_add(&field, "\r\n ", 3) < 0)
				goto nomem;
			f.col = 1;
			continue;
		}
		if (room > tmp.len - i)
			room = tmp.len - i;
		if (buf_add(&field, tmp.p + i, room) < 0)
			goto nomem;
		f.col += room;
		i += room;
	}
	if (buf_add(&field, "\r\n", 2) < 0 || buf_add(out, field.p, field.len) < 0)
		goto nomem;
	r = DKIM_OK;
	goto done;
nomem:
	r = dkim_say(DKIM_TEMP, why, wn, "out of memory");
done:
	free(hl.p);
	free(hl.len);
	free(extra.p);
	free(extra.len);
	buf_free(&field);
	buf_free(&data);
	buf_free(&tmp);
	msg_headers_free(&h);
	return r;
}

int dkim_sign_data(const struct dkim_key *k, const void *data, size_t len, struct buf *b64)
{
	unsigned char dg[32], sig[1024];
	size_t siglen = sizeof sig;
	if (dkim_sha256(data, len, dg) < 0 || sign_digest(k, dg, sig, &siglen) < 0)
		return -1;
	return base64_encode(b64, sig, siglen);
}
