#ifndef RELAY_EXPLAIN_H
#define RELAY_EXPLAIN_H
/* relay-qctl explain: for each recipient, what relay-send would do with
 * it now: the routes key that matched, the pool and its members in the
 * order relay-send tries them, each member's TLS mode and AUTH user
 * (never the password), the etc/limits lines that apply (relay, domain,
 * site) with what is left of quotas and ramps today (state/shaping), and
 * whether relay-health marks the member down. It reads etc/ and state/
 * with relay-send's own code (send/sendconf.h, send/shaping.h), so the
 * answer is relay-send's: throttles and MX cooling too, as far as
 * state/shaping has them (written at most once a second). Not seen:
 * the cooling of relay members (event=failover in its log). */
#include <stddef.h>
#include "base/buf.h"

/* class and sender may be NULL ("default", "<>"). 0, or -1 with err
 * (a table that cannot be read: exit 111). Dies like relay-send's
 * start-up when etc/ cannot be read. */
int explain(const char *home, const char *class, const char *sender, char *const *rcpt, size_t n,
            int json, struct buf *out, char *err, size_t errcap);
/* relay-qctl shaping: every etc/limits line (relays, domains, sites) with
 * what is left of its quota and where its warm-up ramp stands today. */
int explain_shaping(const char *home, int json, struct buf *out, char *err, size_t errcap);

/* relay-inject -bv (sendmail's "verify"): argv as relay-inject's; 1 if
 * it holds -bv among its options. */
int explain_bv_asked(int argc, char **argv);
/* The envelope relay-inject would make of argv (-f/-r sender, or
 * user@hostname; the recipients through etc/aliases unless -n; -C
 * class), explained as relay-qctl explain does (--json too) on stdout;
 * nothing is read from stdin, nothing queued. Returns the exit code: 0,
 * 100 (a bad option or address), 111 (a table that cannot be read). */
int explain_bv(const char *home, const char *user, int argc, char **argv);
#endif
