#ifndef RELAY_APIKEYS_H
#define RELAY_APIKEYS_H
/* etc/apikeys: the bearer tokens relay-httpd accepts.
 *   NAME SHA256 [from=PATTERN,...] [class=NAME] [rate=N/m|N/h|N/d]
 * NAME: 1..64 of letters, digits and . _ - + @ (lowercased), as a user
 * name of etc/users; it names the key in logs and rate limits. Two lines
 * may share a NAME (a key being rotated: old and new token both work).
 * SHA256: 64 hex digits, the SHA-256 of the token as the client sends it
 * (the token itself is never stored). from=, class=, rate= are etc/users'
 * fields and mean the same (conf/users.h; parsed and matched by users.c).
 *
 * CDB key: the SHA-256 (lowercase hex); value "NAME [from=...] [class=...]
 * [rate=...]". A token is looked up by its digest, so the table is never
 * searched by the secret itself: a timing difference in the CDB lookup
 * tells an attacker about a digest, which brings him no closer to a token
 * (that needs a SHA-256 preimage of a 256-bit random value).
 *
 * relay-config apikey NAME [FIELD...] makes a token: 32 bytes of
 * libsodium's randombytes_buf, as 64 hex digits, "rk_" in front (so that
 * secret scanners know it), appended to etc/apikeys and compiled. */
#include <stddef.h>
#include "base/buf.h"
#include "conf/conf.h"
#include "conf/users.h"

#define CONF_APIKEY_TOKEN_PREFIX "rk_"
#define CONF_APIKEY_TOKEN_LEN    (3 + 64)
#define CONF_APIKEY_HASH_LEN     64

struct conf_apikey {
	char name[CONF_USER_MAX + 1];
	struct conf_user u;      /* from, class, rate (u.hash unused) */
};

/* One line of etc/apikeys (key NAME, rest "SHA256 fields") into the CDB
 * key ck (the digest) and value cv. 0, -1 config error (err), -2 ENOMEM. */
int conf_parse_apikey_line(const char *key, const char *rest, char *ck, size_t ckcap,
                           struct buf *cv, char *err, size_t errcap);
/* A CDB value back into k. 0 or -1 (err). */
int conf_parse_apikey(const char *value, struct conf_apikey *k, char *err, size_t errcap);
/* The SHA-256 of token[0..n) in lowercase hex (out: 65 bytes). */
void conf_apikey_digest(const char *token, size_t n, char out[CONF_APIKEY_HASH_LEN + 1]);
/* The entry of token in the open apikeys table: 1 found, 0 no such
 * token (or not one of ours in form), -1 error (errno). */
int conf_apikey_lookup(struct conf *keys, const char *token, size_t n, struct conf_apikey *k);
/* relay-config apikey: check the tables, make a token, append its line
 * to home/etc/apikeys (atomically, under a lock on etc/), compile. The
 * token into token (CONF_APIKEY_TOKEN_LEN + 1 bytes) only when all that
 * worked. 0, 1 config error (reported), -1 system error (reported). */
int conf_apikey_new(const char *home, const char *name, char *const *fields, size_t nfields,
                    char *token, size_t cap);
#endif
