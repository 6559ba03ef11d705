#ifndef RELAY_CONF_MEMBER_H
#define RELAY_CONF_MEMBER_H
/* The TLS and AUTH policy for one destination, looked up the same way by
 * relay-send (each delivery) and relay-health (each probe): etc/tls by
 * "host:port" for a relay member or by recipient domain for direct MX
 * delivery, else conf_tls_default(port); etc/auth (never for MX) by the
 * message's sender first (issue 12, Postfix's
 * smtp_sender_dependent_authentication), then by "host:port". */
#include <limits.h>

#include "conf/conf.h"

#define CONF_AUTH_KEY_MAX 600    /* "from:" sender "/" host:port */

struct conf_member_policy {
	struct conf_tls tls;
	int tls_explicit;        /* etc/tls names the destination */
	char ca[PATH_MAX];       /* tls.ca resolved against etc/; "" = system CAs */
	int have_auth;
	struct conf_auth auth;   /* wipe with conf_member_policy_wipe */
	int auth_plaintext_ok;   /* etc/tls says "none" explicitly: AUTH may go in clear */
	char auth_key[CONF_AUTH_KEY_MAX]; /* the etc/auth key that matched, "" = none */
};

/* etc/auth key, canonical (lowercase) into out:
 *   host:port                     the relay's account
 *   from:user@domain[/host:port]  one sender's account (on that relay only)
 *   from:@domain[/host:port]      a sender domain's account
 * 0, or -1 with the reason in err. */
int conf_parse_auth_key(const char *key, char *out, size_t cap, char *err, size_t errcap);

/* key: "host:port" of a relay, or the recipient domain when mx; lowercased
 * here. 0, or -1 with errno: a read error of a table (EIO, ...), or a value
 * in it that no longer parses (EINVAL, why in err). An error never falls
 * back to a weaker default: the caller defers (relay-send) or reports
 * unknown (relay-health). The relay's own account (no sender). */
int conf_member_policy(const char *home, struct conf *tls, struct conf *auth,
                       const char *key, unsigned port, int mx,
                       struct conf_member_policy *p, char *err, size_t errcap);
/* The same for a message from sender (NULL or "" = the relay's account):
 * the most specific etc/auth key wins: from:SENDER/relay, from:SENDER,
 * from:@DOMAIN/relay, from:@DOMAIN, relay. A read error of any of them is
 * an error (never the next, weaker one). */
int conf_member_policy_from(const char *home, struct conf *tls, struct conf *auth,
                            const char *key, unsigned port, int mx, const char *sender,
                            struct conf_member_policy *p, char *err, size_t errcap);
void conf_member_policy_wipe(struct conf_member_policy *p);
#endif
