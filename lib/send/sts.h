#ifndef RELAY_STS_H
#define RELAY_STS_H
/* MTA-STS in relay-send's network worker (RFC 8461 5.1): the policy of a
 * recipient domain, from the cache in dir (state/mta-sts/DOMAIN, one
 * line, written atomically; the worker's uid owns the directory) or
 * fetched anew when the _mta-sts TXT id differs from the cached one or
 * the cached policy has expired.
 *   TXT lookup fails, or no valid record:  the cached policy while it
 *                                          lasts, else none
 *   the fetch fails:                       the cached policy while it
 *                                          lasts, else none (RFC 8461:
 *                                          never worse than no policy)
 * A policy of mode none is kept (cached) but applies nothing. */
#include <stddef.h>
#include <time.h>

#include "net/dns.h"
#include "net/mtasts.h"

/* 1 with p filled (mode testing or enforce), 0 none; note says why in
 * a few words for the log ("cached", "fetched", "fetch failed: ..."). */
int sts_policy(struct dns_ctx *dns, const char *dir, const char *ca, const char *domain,
               time_t now, struct mtasts_policy *p, char *note, size_t cap);
#endif
