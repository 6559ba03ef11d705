#include "dkim/dkim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "base/base64.h"
#include "base/diag.h"
#include "base/fileio.h"

#define KEYFILE_MAX 65536

static int say(int code, char *why, size_t wn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int say(int code, char *why, size_t wn, const char *fmt, ...)
{
	va_list ap;
	if (why && wn) {
		va_start(ap, fmt);
		vsnprintf(why, wn, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *dkim_alg_name(int alg)
{
	return alg == DKIM_RSA_SHA256 ? "rsa-sha256"
	     : alg == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "unknown";
}

int dkim_alg_parse(const char *s)
{
	if (!strcasecmp(s, "rsa-sha256") || !strcasecmp(s, "rsa"))
		return DKIM_RSA_SHA256;
	if (!strcasecmp(s, "ed25519-sha256") || !strcasecmp(s, "ed25519"))
		return DKIM_ED25519_SHA256;
	return 0;
}

/* ---- keys ---- */

void dkim_key_free(struct dkim_key *k)
{
	if (k->rsa)
		EVP_PKEY_free(k->rsa);
	sodium_memzero(k, sizeof *k);
}

static int key_from_evp(struct dkim_key *k, EVP_PKEY *pk, int alg, char *why, size_t wn)
{
	int id = EVP_PKEY_get_base_id(pk);
	memset(k, 0, sizeof *k);
	if (id == EVP_PKEY_RSA) {
		if (alg && alg != DKIM_RSA_SHA256)
			return say(DKIM_PERM, why, wn, "key is RSA, not %s", dkim_alg_name(alg));
		k->bits = EVP_PKEY_get_bits(pk);
		if (k->bits < DKIM_RSA_MIN_BITS)
			return say(DKIM_PERM, why, wn, "RSA key has %d bits, fewer than %d",
			           k->bits, DKIM_RSA_MIN_BITS);
		if (k->bits > DKIM_RSA_MAX_BITS)
			return say(DKIM_PERM, why, wn, "RSA key has %d bits, more than %d",
			           k->bits, DKIM_RSA_MAX_BITS);
		if (!EVP_PKEY_up_ref(pk))
			return say(DKIM_TEMP, why, wn, "out of memory");
		k->alg = DKIM_RSA_SHA256;
		k->rsa = pk;
		return DKIM_OK;
	}
	if (id == EVP_PKEY_ED25519) {
		unsigned char seed[32], pub[32];
		size_t n = sizeof seed;
		if (alg && alg != DKIM_ED25519_SHA256)
			return say(DKIM_PERM, why, wn, "key is Ed25519, not %s", dkim_alg_name(alg));
		if (EVP_PKEY_get_raw_private_key(pk, seed, &n) != 1 || n != 32)
			return say(DKIM_PERM, why, wn, "cannot extract the Ed25519 seed");
		crypto_sign_seed_keypair(pub, k->sk, seed);
		sodium_memzero(seed, sizeof seed);
		k->alg = DKIM_ED25519_SHA256;
		k->bits = 256;
		return DKIM_OK;
	}
	return say(DKIM_PERM, why, wn, "key is neither RSA nor Ed25519");
}

int dkim_key_from_pem(struct dkim_key *k, const char *pem, size_t len, int alg,
                      char *why, size_t wn)
{
	BIO *bio;
	EVP_PKEY *pk;
	int r;
	memset(k, 0, sizeof *k);
	if (len > KEYFILE_MAX)
		return say(DKIM_PERM, why, wn, "key file too large");
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return say(DKIM_TEMP, why, wn, "out of memory");
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pk)
		return say(DKIM_PERM, why, wn, "not a PEM private key");
	r = key_from_evp(k, pk, alg, why, wn);
	EVP_PKEY_free(pk);
	return r;
}

int dkim_key_load(struct dkim_key *k, const char *path, int alg, char *why, size_t wn)
{
	struct buf b = BUF_INIT;
	struct stat st;
	int fd, r;
	memset(k, 0, sizeof *k);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		return say(errno_temporary(e) || e == EACCES ? DKIM_TEMP : DKIM_PERM,
		           why, wn, "unable to open key %s: %s", path, strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return say(DKIM_PERM, why, wn, "key %s is not a regular file", path);
	}
	/* A private key that others may read is no longer private: refuse. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return say(DKIM_PERM, why, wn, "key %s is accessible by group or other (mode %04o); chmod 600",
		           path, (unsigned)(st.st_mode & 07777));
	}
	r = read_fd(fd, &b, KEYFILE_MAX);
	close(fd);
	if (r < 0) {
		int e = errno;
		buf_free(&b);
		return say(errno_temporary(e) ? DKIM_TEMP : DKIM_PERM, why, wn,
		           "unable to read key %s: %s", path, strerror(e));
	}
	r = dkim_key_from_pem(k, b.p ? b.p : "", b.len, alg, why, wn);
	if (r != DKIM_OK && why && wn) {
		char tmp[256];
		snprintf(tmp, sizeof tmp, "%s", why);
		snprintf(why, wn, "key %s: %s", path, tmp);
	}
	if (b.p)
		sodium_memzero(b.p, b.cap);
	buf_free(&b);
	return r;
}

int dkim_keygen(struct dkim_key *k, int alg, int bits, char *why, size_t wn)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx;
	int r;
	memset(k, 0, sizeof *k);
	if (alg == DKIM_ED25519_SHA256) {
		unsigned char seed[32], pub[32];
		randombytes_buf(seed, sizeof seed);
		crypto_sign_seed_keypair(pub, k->sk, seed);
		sodium_memzero(seed, sizeof seed);
		k->alg = alg;
		k->bits = 256;
		return DKIM_OK;
	}
	if (alg != DKIM_RSA_SHA256)
		return say(DKIM_PERM, why, wn, "unknown algorithm");
	if (bits < DKIM_RSA_MIN_BITS || bits > DKIM_RSA_MAX_BITS)
		return say(DKIM_PERM, why, wn, "RSA key size %d outside %d..%d", bits,
		           DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
	    EVP_PKEY_keygen(ctx, &pk) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return say(DKIM_TEMP, why, wn, "RSA key generation failed");
	}
	EVP_PKEY_CTX_free(ctx);
	r = key_from_evp(k, pk, alg, why, wn);
	EVP_PKEY_free(pk);
	return r;
}

static int bio_to_buf(BIO *bio, struct buf *out)
{
	char *p;
	long n = BIO_get_mem_data(bio, &p);
	return n < 0 ? -1 : buf_add(out, p, (size_t)n);
}

int dkim_key_pem(const struct dkim_key *k, struct buf *out)
{
	EVP_PKEY *pk = k->rsa;
	BIO *bio = BIO_new(BIO_s_mem());
	int r = -1;
	if (!bio)
		return -1;
	if (k->alg == DKIM_ED25519_SHA256)
		pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->sk, 32);
	if (pk && PEM_write_bio_PKCS8PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1)
		r = bio_to_buf(bio, out);
	if (pk && pk != k->rsa)
		EVP_PKEY_free(pk);
	BIO_free(bio);
	return r;
}

int dkim_key_record(const struct dkim_key *k, struct buf *out)
{
	if (k->alg == DKIM_ED25519_SHA256) {
		if (buf_adds(out, "v=DKIM1; k=ed25519; p=") < 0)
			return -1;
		return base64_encode(out, k->sk + 32, 32);
	} else {
		unsigned char *der = NULL;
		int n = i2d_PUBKEY(k->rsa, &der);
		int r;
		if (n <= 0)
			return -1;
		r = buf_adds(out, "v=DKIM1; k=rsa; p=") < 0 ? -1 : base64_encode(out, der, (size_t)n);
		OPENSSL_free(der);
		return r;
	}
}

/* ---- hashing ---- */

static void sink_sha(void *ctx, const void *p, size_t n)
{
	EVP_DigestUpdate(ctx, p, n);
}

/* The canonical body's SHA-256, hashing at most limit bytes; returns
 * the whole canonical length, or UINT64_MAX if OpenSSL failed. */
static uint64_t body_hash(const char *body, size_t len, int relaxed, uint64_t limit,
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
	body_hash(body, len, relaxed, UINT64_MAX, out);
}

/* Bottom-up selection (RFC 6376 5.4.2): the nth occurrence of a name in
 * h= takes the nth field of that name counted from the bottom; names
 * with no field left contribute nothing. names: n entries. */
static int hash_headers(struct buf *data, const char *msg, const struct dkim_headers *h,
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
			if (!dkim_field_is(msg, &h->f[k], names[i], nlen[i]))
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

static int sha256(const void *p, size_t n, unsigned char out[32])
{
	return EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

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

static int count_fields(const char *msg, const struct dkim_headers *h, const char *name)
{
	size_t i, n = strlen(name);
	int c = 0;
	for (i = 0; i < h->n; i++)
		c += dkim_field_is(msg, &h->f[i], name, n);
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
						return say(DKIM_PERM, why, wn, "From domain too long");
					memcpy(dom, cur, curlen + 1);
				} else if (strcmp(dom, cur) != 0) {
					return say(DKIM_PERM, why, wn, "From has mailboxes in more than one domain");
				}
			}
			have = angle_done = 0;
		}
	}
	if (!mailboxes)
		return say(DKIM_PERM, why, wn, "no address with a domain in the From field");
	return DKIM_OK;
}

static int from_domain(const char *msg, const struct dkim_headers *h, char *dom, size_t cap,
                       char *why, size_t wn)
{
	size_t i, colon;
	const struct dkim_field *f = NULL;
	int n = count_fields(msg, h, "from");
	if (n == 0)
		return say(DKIM_PERM, why, wn, "message has no From field");
	if (n > 1)
		return say(DKIM_PERM, why, wn, "message has %d From fields", n);
	for (i = 0; i < h->n; i++)
		if (dkim_field_is(msg, &h->f[i], "from", 4))
			f = &h->f[i];
	colon = (size_t)((const char *)memchr(msg + f->off, ':', f->len) - (msg + f->off)) + 1;
	return parse_from(msg + f->off + colon, f->len - colon, dom, cap, why, wn);
}

int dkim_from_domain(const char *msg, size_t len, char *dom, size_t cap, char *why, size_t wn)
{
	struct dkim_headers h;
	const char *bad;
	int r;
	if (dkim_headers_parse(&h, msg, len, &bad) < 0)
		return bad ? say(DKIM_PERM, why, wn, "%s", bad) : say(DKIM_TEMP, why, wn, "out of memory");
	r = from_domain(msg, &h, dom, cap, why, wn);
	dkim_headers_free(&h);
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

struct names {
	const char **p;
	size_t *len;
	size_t n, cap;
};

static int names_add(struct names *s, const char *p, size_t n)
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

static int names_has(const struct names *s, const char *p, size_t n)
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

/* Split "a:b:c" into s (pointers into list). -1 on an empty or bad name. */
static int names_split(struct names *s, const char *list)
{
	const char *p = list;
	for (;;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t')) p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
		if (!valid_name(p, n) || names_add(s, p, n) < 0)
			return -1;
		if (!e)
			return 0;
		p = e + 1;
	}
}

static int count_name(const char *msg, const struct dkim_headers *h, const char *p, size_t n)
{
	size_t i;
	int c = 0;
	for (i = 0; i < h->n; i++)
		c += dkim_field_is(msg, &h->f[i], p, n);
	return c;
}

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
	struct dkim_headers h;
	struct names hl = {0}, extra = {0};
	struct buf field = BUF_INIT, data = BUF_INIT, tmp = BUF_INIT;
	struct folder f = { &field, 0 };
	const char *bad;
	char dom[256];
	unsigned char bh[32], dg[32], sig[1024];
	size_t siglen = sizeof sig, i, prefix;
	long long t;
	int r = DKIM_TEMP;

	if (!o->key || !o->key->alg)
		return say(DKIM_TEMP, why, wn, "no key");
	if (o->key->alg == DKIM_RSA_SHA256 && o->key->bits < DKIM_RSA_MIN_BITS)
		return say(DKIM_PERM, why, wn, "RSA key too small");
	if (!tag_value_ok(o->domain) || !tag_value_ok(o->selector) ||
	    (o->identity && !tag_value_ok(o->identity)))
		return say(DKIM_PERM, why, wn, "bad d=, s= or i= value");
	if (dkim_headers_parse(&h, msg, len, &bad) < 0)
		return bad ? say(DKIM_PERM, why, wn, "%s", bad) : say(DKIM_TEMP, why, wn, "out of memory");
	/* exactly one From (RFC 5322 3.6) with a usable address */
	r = from_domain(msg, &h, dom, sizeof dom, why, wn);
	if (r != DKIM_OK)
		goto done;
	r = DKIM_PERM;

	if (o->hlist) {
		if (names_split(&hl, o->hlist) < 0) {
			say(DKIM_PERM, why, wn, "bad header name list");
			goto done;
		}
	} else {
		const char *const *d;
		if (o->oversign && names_split(&extra, o->oversign) < 0) {
			say(DKIM_PERM, why, wn, "bad over-sign list");
			goto done;
		}
		for (d = default_names; *d; d++) {
			int c = count_name(msg, &h, *d, strlen(*d));
			while (c-- > 0)
				if (names_add(&hl, *d, strlen(*d)) < 0)
					goto nomem;
		}
		for (i = 0; i < extra.n; i++) {
			int c;
			if (names_has(&hl, extra.p[i], extra.len[i]))
				continue;
			c = count_name(msg, &h, extra.p[i], extra.len[i]);
			while (c-- > 0)
				if (names_add(&hl, extra.p[i], extra.len[i]) < 0)
					goto nomem;
		}
		for (d = oversign_names; *d; d++)
			if (names_add(&hl, *d, strlen(*d)) < 0)
				goto nomem;
		for (i = 0; i < extra.n; i++) {
			const char *const *q;
			int dup = 0;
			for (q = oversign_names; *q; q++)
				dup |= strlen(*q) == extra.len[i] && !strncasecmp(*q, extra.p[i], extra.len[i]);
			if (!dup && names_add(&hl, extra.p[i], extra.len[i]) < 0)
				goto nomem;
		}
	}
	if (!names_has(&hl, "from", 4)) {
		say(DKIM_PERM, why, wn, "h= must include From (RFC 6376 5.4)");
		goto done;
	}
	if (names_has(&hl, "x-relay-class", 13)) {
		say(DKIM_PERM, why, wn, "X-Relay-Class is removed before delivery and is never signed");
		goto done;
	}
	for (i = 0; i < hl.n; i++)
		if (hl.len[i] == 14 && !strncasecmp(hl.p[i], "dkim-signature", 14)) {
			say(DKIM_PERM, why, wn, "DKIM-Signature is never signed");
			goto done;
		}

	r = DKIM_TEMP;
	if (body_hash(msg + h.body, len - h.body, o->bcanon == DKIM_RELAXED, UINT64_MAX, bh) == UINT64_MAX)
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
	if (hash_headers(&data, msg, &h, hl.p, hl.len, hl.n, o->hcanon == DKIM_RELAXED) < 0 ||
	    dkim_canon_header(&data, o->hcanon == DKIM_RELAXED, field.p, prefix) < 0)
		goto nomem;
	data.len -= 2;
	if (sha256(data.p, data.len, dg) < 0 || sign_digest(o->key, dg, sig, &siglen) < 0) {
		say(DKIM_TEMP, why, wn, "signing failed");
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
	r = say(DKIM_TEMP, why, wn, "out of memory");
done:
	free(hl.p);
	free(hl.len);
	free(extra.p);
	free(extra.len);
	buf_free(&field);
	buf_free(&data);
	buf_free(&tmp);
	dkim_headers_free(&h);
	return r;
}

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

/* Check one signature; on failure *reason says why. */
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

static int verify_one(const char *msg, size_t len, const struct dkim_headers *h,
                      const struct dkim_field *sf, dkim_keyfn keyfn, void *kctx,
                      time_t now, struct tags *st, const char **reason)
{
	struct names hl = {0};
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
	    names_split(&hl, hcopy.p) < 0) {
		*reason = "bad or missing h=";
		goto out;
	}
	if (!names_has(&hl, "from", 4)) {
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
	total = body_hash(msg + h->body, len - h->body, bc == DKIM_RELAXED,
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

	if (hash_headers(&data, msg, h, hl.p, hl.len, hl.n, hc == DKIM_RELAXED) < 0 ||
	    strip_b(msg + sf->off, sf->len, &sigstrip) < 0 ||
	    dkim_canon_header(&data, hc == DKIM_RELAXED, sigstrip.p, sigstrip.len) < 0) {
		*reason = "cannot build the header data";
		goto out;
	}
	data.len -= 2;
	sha256(data.p, data.len, dg);

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
	struct dkim_headers h;
	const char *bad;
	size_t i;
	int nsig = 0, r = DKIM_OK;
	if (dkim_headers_parse(&h, msg, len, &bad) < 0) {
		buf_printf(report, "fail: %s\n", bad ? bad : "out of memory");
		return bad ? DKIM_PERM : DKIM_TEMP;
	}
	for (i = 0; i < h.n; i++) {
		struct tags st;
		const char *reason = NULL, *v;
		char d[128] = "?", s[128] = "?", a[32] = "?";
		size_t n;
		int one;
		if (!dkim_field_is(msg, &h.f[i], "dkim-signature", 14))
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
	dkim_headers_free(&h);
	if (nsig == 0) {
		buf_printf(report, "fail: no DKIM-Signature field\n");
		return DKIM_PERM;
	}
	return r;
}

int dkim_signing_input(const char *msg, size_t len, size_t nth, struct buf *out)
{
	struct dkim_headers h;
	struct tags st;
	struct names hl = {0};
	struct buf hcopy = BUF_INIT, strip = BUF_INIT;
	const char *bad, *v, *colon;
	size_t i, n = 0, seen = 0;
	int hc, bc, r = -1;
	memset(&st, 0, sizeof st);
	if (dkim_headers_parse(&h, msg, len, &bad) < 0)
		return -1;
	for (i = 0; i < h.n; i++) {
		const struct dkim_field *f = &h.f[i];
		if (!dkim_field_is(msg, f, "dkim-signature", 14) || seen++ != nth)
			continue;
		colon = memchr(msg + f->off, ':', f->len);
		if (tags_parse(&st, colon + 1, f->len - (size_t)(colon + 1 - (msg + f->off))) < 0)
			break;
		v = tag(&st, "c", &n);
		if (parse_canon(v, n, &hc, &bc) < 0 || !(v = tag(&st, "h", &n)) ||
		    buf_add(&hcopy, v, n) < 0 || buf_addc(&hcopy, 0) < 0 ||
		    names_split(&hl, hcopy.p) < 0 ||
		    hash_headers(out, msg, &h, hl.p, hl.len, hl.n, hc == DKIM_RELAXED) < 0 ||
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
	dkim_headers_free(&h);
	return r;
}

int dkim_sign_data(const struct dkim_key *k, const void *data, size_t len, struct buf *b64)
{
	unsigned char dg[32], sig[1024];
	size_t siglen = sizeof sig;
	if (sha256(data, len, dg) < 0 || sign_digest(k, dg, sig, &siglen) < 0)
		return -1;
	return base64_encode(b64, sig, siglen);
}
