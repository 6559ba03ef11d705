/* What signer and verifier both compute: the canonical body's hash,
 * the selected header fields (RFC 6376 5.4.2), the h= name list; and the
 * reason text of every dkim/ call. */
#include "dkim/dkim.h"
#include "dkim/hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

int dkim_say(int code, char *why, size_t wn, const char *fmt, ...)
{
	va_list ap;
	if (why && wn) {
		va_start(ap, fmt);
		vsnprintf(why, wn, fmt, ap);
		va_end(ap);
	}
	return code;
}

static void sink_sha(void *ctx, const void *p, size_t n)
{
	EVP_DigestUpdate(ctx, p, n);
}

uint64_t dkim_hash_body(const char *body, size_t len, int relaxed, uint64_t limit,
                        unsigned char out[32])
{
	struct dkim_body b;
	uint64_t total;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return UINT64_MAX;
	}
	if (!relaxed && limit == UINT64_MAX) {
		/* simple, whole body at hand: it is the body itself with the
		 * trailing run of CRLFs cut to one CRLF (added if missing);
		 * the same result as the streaming canonicalizer, without
		 * looking at each line (t_dkim and the fuzzer compare them) */
		size_t n = len;
		while (n >= 2 && body[n - 2] == '\r' && body[n - 1] == '\n')
			n -= 2;
		EVP_DigestUpdate(ctx, body, n);
		EVP_DigestUpdate(ctx, "\r\n", 2);
		total = (uint64_t)n + 2;
	} else {
		dkim_body_init(&b, relaxed, sink_sha, ctx);
		b.limit = limit;
		dkim_body_update(&b, body, len);
		total = dkim_body_final(&b);
	}
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return total;
}

void dkim_body_hash(const char *body, size_t len, int relaxed, unsigned char out[32])
{
	dkim_hash_body(body, len, relaxed, UINT64_MAX, out);
}

/* Bottom-up selection (RFC 6376 5.4.2): the nth occurrence of a name in
 * h= takes the nth field of that name counted from the bottom; names
 * with no field left contribute nothing. names: n entries. */
int dkim_hash_headers(struct buf *data, const char *msg, const struct msg_headers *h,
                      const char *const *names, const size_t *nlen, size_t n, int relaxed)
{
	size_t i, j;
	for (i = 0; i < n; i++) {
		/* fields of this name already taken = earlier entries of the name */
		size_t skip = 0, k;
		for (j = 0; j < i; j++)
			if (nlen[j] == nlen[i] && !strncasecmp(names[j], names[i], nlen[i]))
				skip++;
		for (k = h->n; k-- > 0;) {
			if (!msg_field_is(msg, &h->f[k], names[i], nlen[i]))
				continue;
			if (skip) {
				skip--;
				continue;
			}
			if (dkim_canon_header(data, relaxed, msg + h->f[k].off, h->f[k].len) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

int dkim_sha256(const void *p, size_t n, unsigned char out[32])
{
	return EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

int dkim_names_add(struct dkim_names *s, const char *p, size_t n)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		const char **np = realloc(s->p, nc * sizeof *np);
		size_t *nl;
		if (!np)
			return -1;
		s->p = np;
		nl = realloc(s->len, nc * sizeof *nl);
		if (!nl)
			return -1;
		s->len = nl;
		s->cap = nc;
	}
	s->p[s->n] = p;
	s->len[s->n++] = n;
	return 0;
}

int dkim_names_has(const struct dkim_names *s, const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < s->n; i++)
		if (s->len[i] == n && !strncasecmp(s->p[i], p, n))
			return 1;
	return 0;
}

static int valid_name(const char *p, size_t n)
{
	size_t i;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 33 || c > 126 || c == ':' || c == ';')
			return 0;
	}
	return 1;
}

int dkim_names_split(struct dkim_names *s, const char *list)
{
	const char *p = list;
	for (;;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t')) p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
		if (!valid_name(p, n) || dkim_names_add(s, p, n) < 0)
			return -1;
		if (!e)
			return 0;
		p = e + 1;
	}
}
