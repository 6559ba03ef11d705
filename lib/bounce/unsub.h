#ifndef RELAY_UNSUB_H
#define RELAY_UNSUB_H
/* RFC 8058 one-click unsubscribe (issue 13): the configuration, the
 * tokens, the sender-domain scope of a suppression, and the requests
 * relay-httpd leaves for relay-bounce. doc/relay-httpd.8 describes it.
 *
 * $RELAY_HOME/etc/unsubscribe      (plain text, read as it is; "#" comments)
 *     classes NAME[,NAME...]       the classes that get the headers
 *     url https://HOST[/PREFIX]    List-Unsubscribe's https URI: URL/u/TOKEN
 *     mailto ADDRESS               optional: a mailto: URI beside it
 *                                  (relay lists it; it does not read that mail)
 * $RELAY_HOME/etc/unsubscribe.key  32 random bytes (relay-httpd -K makes it)
 *
 * TOKEN = base64url(DOMAIN SP RCPT) "." base64url(HMAC-SHA256(key,
 * "relay-unsub-1" NUL DOMAIN SP RCPT)), unpadded: DOMAIN is the envelope
 * sender's domain, lowercased. Nothing is stored per message.
 *
 * A scoped suppression is an entry of state/suppress (bounce/suppress.h)
 * whose key is "RCPT/DOMAIN" (a domain holds no "/"): RCPT is suppressed
 * for mail whose envelope sender's domain is DOMAIN only. unsub_suppressed
 * is intake's one check (the plain key, then the scoped one).
 *
 * $RELAY_HOME/state/unsub/          one file per POST: "DOMAIN TAB RCPT TAB
 *     EPOCH\n", written by relay-httpd (fsynced before it answers), applied
 *     and removed by relay-bounce unsubscribe (doc/security.md). */
#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "bounce/suppress.h"

#define UNSUB_KEY_LEN 32
#define UNSUB_TOKEN_MAX 1200

struct unsub_conf {
	char classes[1024];   /* ",bulk,news," (lowercase), "" none */
	char url[512];        /* without a final "/" */
	char mailto[300];     /* "" none */
};

/* Read etc/unsubscribe: 1 configured (classes and url), 0 no file or no
 * classes, -1 error (errno; EPROTO: a line that does not parse, why in
 * err). */
int unsub_conf_read(const char *home, struct unsub_conf *c, char *err, size_t cap);
/* 1 if class (NULL or "": "default") is one of c's classes. */
int unsub_class_marked(const struct unsub_conf *c, const char *class);
/* etc/unsubscribe.key: 0, or -1 (errno; EPROTO: not 32 bytes). */
int unsub_key_read(const char *home, unsigned char key[UNSUB_KEY_LEN]);
/* Make etc/unsubscribe.key (mode 0640) unless it exists: 1 made, 0 it
 * existed, -1 error. */
int unsub_key_make(const char *home);

/* The token for (domain, rcpt) appended to out: 0, -1 (EINVAL: a domain
 * or address that cannot be in one; ENOMEM). */
int unsub_token(const unsigned char key[UNSUB_KEY_LEN], const char *domain, const char *rcpt,
                struct buf *out);
/* Check tok[0..n): 0 and the domain and recipient it names, or -1 with
 * errno EINVAL (malformed) or EACCES (the MAC does not match: forged or
 * tampered). The MAC is compared in constant time. */
int unsub_token_check(const unsigned char key[UNSUB_KEY_LEN], const char *tok, size_t n,
                      char *domain, size_t dcap, char *rcpt, size_t rcap);

/* "RCPT/DOMAIN" into out: 0, or -1 (EINVAL). */
int unsub_scope_key(const char *rcpt, const char *domain, char *out, size_t cap);
/* Intake's check of rcpt for mail from sender: 1 suppressed (e filled),
 * 0 not, -1 the list could not be read (errno): a temporary refusal. */
int unsub_suppressed(const char *home, const char *rcpt, const char *sender,
                     struct suppress_entry *e);

/* relay-httpd: leave a request in state/unsub/, durably: 0 or -1. */
int unsub_request(const char *home, const char *domain, const char *rcpt, time_t now);
/* relay-bounce unsubscribe: apply every request in state/unsub/ to the
 * suppression list (one rewrite, scoped entries that never expire), then
 * remove them. A request file that does not parse is renamed to
 * bad.NAME and counted in *bad. 0 (and *applied), or -1 (errno; nothing
 * removed). */
int unsub_apply(const char *home, time_t now, size_t *applied, size_t *bad);
#endif
