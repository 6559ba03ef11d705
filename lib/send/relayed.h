#ifndef RELAY_RELAYED_H
#define RELAY_RELAYED_H
/* The "relayed" DSN (RFC 3461 6.2.2): a recipient whose NOTIFY names
 * SUCCESS, delivered to a next hop that did not offer DSN, is told so by
 * relay-bounce (action relayed, status 2.0.0). A next hop that offers DSN
 * was given NOTIFY and reports delivery itself: nothing is sent then.
 * Best effort: a lost report (relay-bounce failing, a crash before it)
 * is logged, never retried; the message is not held back for it. */
#include <stddef.h>

struct attempt;
struct job_result;

/* Recipient k of a was delivered by a transaction whose result is res:
 * remember it when res says the hop had no DSN and k asked for SUCCESS. */
void relayed_mark(struct attempt *a, size_t k, const struct job_result *res);
/* At the end of the attempt (before the message may be removed): the
 * report for the recipients marked in it, through relay-bounce. */
void relayed_report(struct attempt *a);
#endif
