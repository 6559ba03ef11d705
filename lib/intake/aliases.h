#ifndef RELAY_ALIASES_H
#define RELAY_ALIASES_H
/* etc/aliases at intake: sendmail's local names. A recipient is local
 * when it has no domain (envelope.c has made it name@host by then) or
 * its domain is the host name, any case; a local recipient whose name
 * (lowercased) has an alias in etc/aliases.cdb is replaced, in place,
 * by the addresses it expands to (conf_alias_expand, conf/conf.h: other
 * names expanded again, at most CONF_ALIAS_DEPTH in a chain, a loop
 * stops it). A local recipient without an alias stays as it is, so
 * "root" goes out as root@host as before the table existed. An address
 * expansions give twice (postmaster and root both to ops@) is kept
 * once; recipients given twice by the caller are left as they are.
 *
 * Returns 0, or EXIT_TEMP (base/diag.h) with the reason in err, e left
 * as it was: the table cannot be read, a loop or a chain too deep, an
 * expanded address addr_check refuses, more than RCPT_MAX recipients.
 * Each is a fault of the table (relay-config refuses loops and bad
 * addresses), not of the message, so it is temporary: once the operator
 * mends etc/aliases the caller's retry goes through. No
 * etc/aliases.cdb: nothing changes. */
#include <stddef.h>

#include "intake/envelope.h"

int aliases_expand(const char *home, struct envelope *e, char *err, size_t errcap);

#endif
