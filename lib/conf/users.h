#ifndef RELAY_USERS_H
#define RELAY_USERS_H
/* etc/users: the accounts relay-smtpd accepts AUTH from.
 *   USER HASH [from=PATTERN,...] [class=NAME] [rate=N/m|N/h|N/d]
 * USER: 1..64 of letters, digits and . _ - + @ (lowercased: logins are
 * case-insensitive). HASH: an Argon2id string of libsodium's
 * crypto_pwhash_str ("$argon2id$v=19$m=...,t=...,p=1$..."), made by
 * relay-config passwd USER. from=: the envelope senders (and From:
 * header addresses) the user may use: "@example.com" (any address at the
 * domain) or "alice@example.org" (that address), compared lowercased; no
 * from= means any. class=: the message class of the user's mail. rate=:
 * the user's message cap, enforced across sessions by relay-smtpd (net/smtpd_state.h).
 * CDB key: USER; value: "HASH [from=...] [class=...] [rate=...]" in that
 * order. */
#include <stddef.h>
#include "base/bounds.h"
#include "conf/conf.h"

#define CONF_USER_MAX  64
#define CONF_HASH_MAX  160

struct conf_user {
	char hash[CONF_HASH_MAX + 1];
	char from[CONF_LINE_MAX + 1];  /* "" or comma-separated patterns */
	char class[CONF_NAME_MAX + 1]; /* "" none */
	unsigned rate, rate_per;       /* 0: none; per 60, 3600 or 86400 s */
};

int conf_parse_user_key(const char *key, char *out, size_t cap, char *err, size_t errcap);
int conf_parse_user(const char *value, struct conf_user *u, char *err, size_t errcap);
int conf_format_user(const struct conf_user *u, struct buf *out);

/* The entry of user (any case) in the open users table: 1, 0, -1. */
int conf_user_lookup(struct conf *users, const char *user, struct conf_user *u);
/* 1 if the user may use address addr (bare mailbox) as sender or From:. */
int conf_user_from_ok(const struct conf_user *u, const char *addr);
/* The Argon2id string of pass (libsodium's interactive limits) into
 * out. 0, or -1 (out of memory). */
int conf_user_hash(const char *pass, size_t n, char *out, size_t cap);
/* 1 if pass matches the user's hash, 0 if not, -1 error (out of memory:
 * Argon2id wants its memory). u NULL: burn the same time against a
 * dummy hash, so that unknown users and wrong passwords look alike. */
int conf_user_verify(const struct conf_user *u, const char *pass, size_t n);
#endif
