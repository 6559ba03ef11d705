#ifndef RELAY_SITEDNS_H
#define RELAY_SITEDNS_H
/* The MX lookups of traffic shaping's sites (issue 12), off relay-send's
 * loop: a child process (forked on first use) reads "DOMAIN\n" on a
 * socket and answers "DOMAIN [MXHOST ...]\n" (no host: no answer, or a
 * temporary failure). The loop writes and reads without blocking;
 * sitedns_fd can go into its poll set. The child ends when the socket
 * closes (relay-send gone: also by PR_SET_PDEATHSIG). */
#include <stddef.h>
#include <sys/types.h>
#include "base/buf.h"

struct sitedns {
	pid_t pid;        /* 0: not running */
	int fd;           /* the loop's end, non-blocking; -1 */
	struct buf in;    /* answers not yet whole */
	struct buf out;   /* questions not yet written */
};

void sitedns_init(struct sitedns *r);
/* Ask for domain's MX hosts (started first if need be). 0 queued, -1
 * (fork or socket failure: warned; the caller looks up another way). */
int sitedns_ask(struct sitedns *r, const char *dns_config, const char *domain);
/* Every whole answer read now: cb(ctx, domain, hosts, n). Never blocks.
 * A child that is gone is noted (asked again by the next sitedns_ask). */
void sitedns_read(struct sitedns *r, void (*cb)(void *ctx, const char *domain, char **hosts, size_t n),
                  void *ctx);
int sitedns_fd(const struct sitedns *r);
void sitedns_stop(struct sitedns *r);
#endif
