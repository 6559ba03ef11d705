#ifndef RELAY_CONF_MEMBER_H
#define RELAY_CONF_MEMBER_H
/* The TLS and AUTH policy for one destination, looked up the same way by
 * relay-send (each delivery) and relay-health (each probe): etc/tls by
 * "host:port" for a relay member or by recipient domain for direct MX
 * delivery, else conf_tls_default(port); etc/auth by "host:port" (never
 * for MX). */
#include <limits.h>

#include "conf/conf.h"

struct conf_member_policy {
	struct conf_tls tls;
	int tls_explicit;        /* etc/tls names the destination */
	char ca[PATH_MAX];       /* tls.ca resolved against etc/; "" = system CAs */
	int have_auth;
	struct conf_auth auth;   /* wipe with conf_member_policy_wipe */
	int auth_plaintext_ok;   /* etc/tls says "none" explicitly: AUTH may go in clear */
};

/* key: "host:port" of a relay, or the recipient domain when mx; lowercased
 * here. 0, or -1 with errno: a read error of a table (EIO, ...), or a value
 * in it that no longer parses (EINVAL, why in err). An error never falls
 * back to a weaker default: the caller defers (relay-send) or reports
 * unknown (relay-health). */
int conf_member_policy(const char *home, struct conf *tls, struct conf *auth,
                       const char *key, unsigned port, int mx,
                       struct conf_member_policy *p, char *err, size_t errcap);
void conf_member_policy_wipe(struct conf_member_policy *p);
#endif
