#ifndef RELAY_TOTALS_H
#define RELAY_TOTALS_H
/* Cumulative outcome counts per relay, per pool and DKIM signatures per
 * signing domain (issue 13), for /metrics' _total counters: relay-send
 * writes (send/totrec.c), relay-httpd reads, with this one parser.
 *
 * $RELAY_HOME/state/counters/totals/KIND/NAME
 *     KIND relay (NAME host:port, as in state/counters/relay/) or pool
 *     (NAME the pool): "RT1\n" then "DELIVERED DEFERRED BOUNCED FAILOVERS\n"
 *     KIND dkim (NAME the d= domain, lowercased): "RT1\n" then "SIGNED\n"
 *     Decimal counts since the file was made; they only grow (removing
 *     the file is a counter reset).
 * $RELAY_HOME/state/counters/totals.lock   flock(2) held by the writer
 *
 * A file that does not parse is ignored by the reader (with a warning)
 * and started again by the writer. */
#include <stddef.h>
#include "base/buf.h"

enum totals_kind { TOTALS_RELAY, TOTALS_POOL, TOTALS_DKIM, TOTALS_KINDS };
enum totals_field { TOTALS_DELIVERED, TOTALS_DEFERRED, TOTALS_BOUNCED, TOTALS_FAILOVERS, TOTALS_NF };
#define TOTALS_SIGNED 0   /* the one field of a dkim file */

struct totals {
	unsigned long long v[TOTALS_NF];
};

/* "relay", "pool", "dkim" */
extern const char *const totals_kind_name[TOTALS_KINDS];
/* How many fields a file of kind holds (4, or 1 for dkim). */
size_t totals_nfields(enum totals_kind kind);
/* Parse a file's text: 0, or -1 with EPROTO (t zero). */
int totals_parse(enum totals_kind kind, const char *p, size_t len, struct totals *t);
/* Read one file: 1 read, 0 no file (t zero), -1 error (errno; EPROTO:
 * not in the format, EINVAL: a bad name). */
int totals_read(const char *home, enum totals_kind kind, const char *name, struct totals *t);
/* Add to one file (lock, read, add, atomic_write). 0 or -1 (errno). */
int totals_add(const char *home, enum totals_kind kind, const char *name, const struct totals *add);
/* The Prometheus families of every file under state/counters/totals/
 * into o: relay_delivered_total{relay}, ..., relay_pool_delivered_total
 * {pool}, ..., relay_dkim_signatures_total{domain}. A file that does not
 * parse is left out with a warning. 0 or -1 (ENOMEM). */
int totals_prom(const char *home, struct buf *o);
#endif
