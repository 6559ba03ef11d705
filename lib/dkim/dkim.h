#ifndef RELAY_DKIM_H
#define RELAY_DKIM_H
/* DKIM signing and verification (RFC 6376): rsa-sha256 with OpenSSL,
 * ed25519-sha256 (RFC 8463) with libsodium. Never rsa-sha1, never l=.
 * Every call returns DKIM_OK, DKIM_PERM (the message or key is bad and
 * waiting will not help) or DKIM_TEMP (try again), with a reason in why. */
#include <stddef.h>
#include <time.h>
#include "base/buf.h"
#include "dkim/dkim_canon.h"

#define DKIM_OK   0
#define DKIM_PERM 100
#define DKIM_TEMP 111

enum { DKIM_RSA_SHA256 = 1, DKIM_ED25519_SHA256 = 2 };

#define DKIM_RSA_MIN_BITS  1024  /* RFC 8301: refuse below */
#define DKIM_RSA_WARN_BITS 2048  /* RFC 8301: SHOULD be at least */
#define DKIM_RSA_MAX_BITS  8192
#define DKIM_FOLD_COLS     76    /* longest line of the header we emit */

struct dkim_key {
	int alg;
	int bits;                /* RSA modulus size; 256 for Ed25519 */
	void *rsa;               /* EVP_PKEY * */
	unsigned char sk[64];    /* Ed25519: libsodium secret key (seed || pk) */
};

const char *dkim_alg_name(int alg);
int dkim_alg_parse(const char *s);   /* 0 if unknown; accepts rsa, ed25519 */

/* Load a private key (PEM: PKCS#8, or traditional RSA). alg 0: take it
 * from the key. Refuses a file that group or other may read, RSA keys
 * under 1024 bits (DKIM_PERM), and a key of the other algorithm.
 * A file that cannot be read: DKIM_TEMP or DKIM_PERM by errno. */
int dkim_key_load(struct dkim_key *k, const char *path, int alg, char *why, size_t wn);
int dkim_key_from_pem(struct dkim_key *k, const char *pem, size_t len, int alg,
                      char *why, size_t wn);
int dkim_keygen(struct dkim_key *k, int alg, int bits, char *why, size_t wn);
int dkim_key_pem(const struct dkim_key *k, struct buf *out); /* PKCS#8 PEM */
/* Write the PEM to a new file path (O_EXCL, mode 0600, fsynced with its
 * directory); on failure nothing is left there and why says so
 * ("unable to create|write PATH: ERROR"), DKIM_TEMP or DKIM_PERM by
 * errno. */
int dkim_key_save(const struct dkim_key *k, const char *path, char *why, size_t wn);
/* "v=DKIM1; k=rsa; p=..." (Ed25519: the raw 32-byte public key). */
int dkim_key_record(const struct dkim_key *k, struct buf *out);
void dkim_key_free(struct dkim_key *k);

struct dkim_sign_opts {
	const char *domain;      /* d= */
	const char *selector;    /* s= */
	const char *identity;    /* i=, or NULL */
	const struct dkim_key *key;
	int hcanon, bcanon;      /* DKIM_RELAXED or DKIM_SIMPLE */
	long long t;             /* t=; negative: now */
	long long expire;        /* x= t + expire; 0: no x= */
	const char *hlist;       /* h= exactly (colon separated); NULL: default */
	const char *oversign;    /* more names to over-sign; NULL: none */
};

/* Sign msg (CRLF line endings, exactly as it will be sent) and append
 * one DKIM-Signature field, folded, ending in CRLF, to out. Refuses
 * (DKIM_PERM) a message with no From or several From fields, a
 * malformed header section, and an h= without From or with X-Relay-Class. */
int dkim_sign_message(const char *msg, size_t len, const struct dkim_sign_opts *o,
                      struct buf *out, char *why, size_t wn);

/* The domain of the From field's address, lowercased, NUL-terminated.
 * DKIM_PERM: no From, two From fields, no parsable address, mailboxes in
 * more than one domain. */
int dkim_from_domain(const char *msg, size_t len, char *dom, size_t cap,
                     char *why, size_t wn);

/* Key records for selector._domainkey.domain: append each record
 * ("v=DKIM1; k=...; p=...") NUL-terminated to out. Returns DKIM_OK,
 * DKIM_PERM (no such record) or DKIM_TEMP. */
typedef int (*dkim_keyfn)(void *ctx, const char *selector, const char *domain,
                          struct buf *out);

/* Verify every DKIM-Signature of msg; of the records keyfn gives, the
 * first whose k= fits the signature's algorithm and verifies counts.
 * One line per signature ("pass ..." or "fail ...: reason") goes to
 * report. DKIM_OK if there is at least one signature and all pass;
 * DKIM_TEMP if a lookup failed for now; else DKIM_PERM. */
int dkim_verify_message(const char *msg, size_t len, dkim_keyfn keyfn, void *kctx,
                        time_t now, struct buf *report);

/* Look up TXT selector._domainkey.domain with libunbound (DNSSEC-aware
 * resolver from /etc/resolv.conf); a dkim_keyfn. */
int dkim_dns_key(void *ctx, const char *selector, const char *domain, struct buf *out);

/* The header data (RFC 6376 3.7) the nth DKIM-Signature of msg signs:
 * the fields its h= selects, canonicalized by its c=, then the field
 * itself with b= emptied and no final CRLF. For tests. 0 or -1. */
int dkim_signing_input(const char *msg, size_t len, size_t nth, struct buf *out);
/* base64 of the signature over SHA-256(data) with key. 0 or -1. */
int dkim_sign_data(const struct dkim_key *k, const void *data, size_t len, struct buf *b64);

/* Canonicalize and SHA-256 a body; for tests and benchmarks. */
void dkim_body_hash(const char *body, size_t len, int relaxed, unsigned char out[32]);
#endif
