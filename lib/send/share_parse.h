#ifndef RELAY_SHARE_PARSE_H
#define RELAY_SHARE_PARSE_H
/* issue 16 share: what the nodes read from each other in Redis, parsed
 * without I/O (fuzz/fuzz_share.c, tests/c/t_share.c):
 *
 *   stream relay:suppress   entries "node NODE recs RECORDS": RECORDS are
 *                           journal lines (bounce/sjournal.h), newline
 *                           ended, at most SHARE_RECS_MAX bytes
 *   hash relay:suppress:set field ADDR, value "FIRST LAST EXPIRES REASON":
 *                           the entry as the last record pushed for ADDR
 *                           left it (the full refresh's authority)
 *   hash relay:health       field "POOL MEMBER", value "STATE SINCE
 *                           REASON NODE WHEN INTERVAL": a member's
 *                           verdict in NODE's state/health/status, of
 *                           its run at WHEN every INTERVAL seconds */
#include <stddef.h>
#include <time.h>

#include "base/buf.h"
#include "bounce/sjournal.h"
#include "health/health.h"

#define SHARE_NODE_MAX  255
#define SHARE_RECS_MAX  (64 * 1024)

/* A stream entry's fields (n strings, name then value, lens given): 0
 * with node (NUL-ended, cap >= SHARE_NODE_MAX + 1) and the records
 * (pointing into the values), or -1 when node or recs is missing, node
 * is empty, too long or holds a space or control byte, or recs is too
 * long. Unknown fields are ignored (a later version may add some). */
int share_entry_parse(const char *const *f, const size_t *len, size_t n, char *node, size_t cap,
                      const char **recs, size_t *rlen);
/* The records of an entry appended to *out (a growing array: *n used,
 * *cap allocated; free it with free): lines that do not parse are
 * counted in *bad and skipped, a last line without a newline too. 0, or
 * -1 (ENOMEM). At most SHARE_RECS_MAX / 8 records an entry. */
int share_recs_parse(const char *recs, size_t len, struct sjrec **out, size_t *n, size_t *cap, size_t *bad);
/* r appended to the array *out (n used, cap allocated, doubled as
 * needed). 0, or -1 (ENOMEM). */
int share_recs_push(struct sjrec **out, size_t *n, size_t *cap, const struct sjrec *r);
/* A field and value of relay:suppress:set (lens given, not NUL-ended)
 * as the add record "add FIELD VALUE": 0 with *r, or -1 when FIELD is
 * empty or holds a space (or any byte sjournal_parse refuses), or the
 * value is not "FIRST LAST EXPIRES REASON". */
int share_set_parse(const char *field, size_t flen, const char *value, size_t vlen, struct sjrec *r);
/* Compare two stream ids ("MS-SEQ", or "MS" for MS-0): <0, 0, >0. 0 also
 * when either is not such an id (the caller checked them). */
int share_id_cmp(const char *a, const char *b);
/* A verdict of relay:health: 0 with *e, node, when and interval, or -1. */
int share_health_parse(const char *field, const char *value, struct health_entry *e, char *node,
                       size_t cap, time_t *when, long *interval);
/* e of node's status (run at when, every interval) as relay:health's
 * field and value (appended). 0 or -1 (ENOMEM). */
int share_health_format(struct buf *field, struct buf *value, const struct health_entry *e,
                        const char *node, time_t when, long interval);
/* 1 if a verdict of a run at when every interval is fresh at now (the
 * rule of health_fresh), else 0. */
int share_health_fresh(time_t when, long interval, time_t now);

#endif
