#ifndef RELAY_SENDCONF_H
#define RELAY_SENDCONF_H
/* The configuration relay-send runs with. State: struct sendconf (owned
 * by the loop, passed by pointer): the open tables of etc/ (routes, tls,
 * auth, limits, retry), the pools with each member's cooling, limits and
 * health marks, the direct (MX) pool, the reply classification table,
 * and the settings it reads (helo, dns_config, smtp_timeout,
 * bounce_delay_warning). sendconf_load reads it at start-up (a table or
 * etc/settings.cdb that cannot be read is fatal then); sendconf_reload
 * reads it again on SIGHUP into a new configuration built aside, swapped
 * in only when all of it read, keeping the cooling of members that are
 * still there: a reload that fails changes nothing.
 * sendconf_health_refresh folds in relay-health's state/health. */
#include <sys/types.h>
#include <time.h>
#include "bounce/classify.h"
#include "conf/source.h"
#include "conf/conf.h"
#include "health/health.h"
#include "send/pool.h"
#include "send/shape.h"
#include "send/sitedns.h"

struct dns_ctx;

#define POOLS_MAX     256
#define POOL_DIRECT   (-1)     /* no route: direct MX delivery */

struct sendconf {
	const char *home;
	struct conf routes, tls, auth, limits, retry, source;
	struct pool_state pools[POOLS_MAX];
	size_t npools;
	struct pool_state direct;   /* POOL_DIRECT */
	char helo[256];
	char dns_config[CONF_PATH_MAX + 1]; /* "" = the system resolver */
	char sts_dir[CONF_PATH_MAX + 1];    /* home/state/mta-sts; "" = setting mta_sts no */
	char sts_ca[CONF_PATH_MAX + 1];     /* setting mta_sts_ca; "" = system CAs */
	int timeout_ms;             /* smtp_timeout; 0 = RFC defaults */
	unsigned long delay_warn;   /* seconds; 0: no delay warnings */
	struct classify_table cls;  /* etc/classify, relay-bounce's table */
	/* members relay-health marked down (state/health) */
	struct health_state health;
	struct timespec health_mtime;
	ino_t health_inode;         /* of state/health when last read */
	time_t health_at;           /* marks last worked out (at least once a second) */
	struct health_state cluster_health;   /* issue 16 share: the other nodes' fresh verdicts (send/share.h) */
	/* traffic shaping (send/shaping.h): etc/limits per destination,
	 * counts of state/shaping, cooling of MX domains, throttles */
	struct shape shape;
	int shape_loaded;
	time_t shape_saved;
	struct dns_ctx *shape_dns;  /* sites: a domain's MX hosts (site_sync) */
	struct sitedns sitedns;     /* sites: the lookups off the loop */
	int site_sync;              /* 1: look up in this process (explain) */
};

/* Read (or re-read) etc/ into c; c->home must be set and c zeroed the
 * first time. Dies (111) when a table or the settings cannot be read. */
void sendconf_load(struct sendconf *c);
/* The same without dying: 0 read and swapped in, -1 nothing changed (the
 * reason in err, e.g. "unable to open etc/auth.cdb: ..."). */
int sendconf_reload(struct sendconf *c, char *err, size_t errcap);
void sendconf_free(struct sendconf *c);
/* The number of network workers: asked if > 0, else the concurrency
 * setting (20 when unset, 0 or not a number); at most 1000. Dies when
 * etc/settings.cdb cannot be read. */
int sendconf_workers(const struct sendconf *c, int asked);

/* etc/source's line for key ("host:port" of a relay, or "mx"): 1 with s,
 * 0 none (s empty), -1 a read error or a value that no longer parses
 * (err): the caller defers, never connects from another address. */
int sendconf_source(struct sendconf *c, const char *key, struct conf_source *s,
                    char *err, size_t cap);

/* The retry schedule of a message class: etc/retry's entry for class,
 * else its "default" entry, else the built-in one: 0. -1 when etc/retry
 * cannot be read: *r is then the built-in schedule with a lifetime that
 * never ends (no mail expires on a table that cannot be read). */
int sendconf_retry(struct sendconf *c, const char *class, struct conf_retry *r);

/* Pool i (an index into pools, or POOL_DIRECT). */
struct pool_state *sendconf_pool(struct sendconf *c, int i);
/* The pool named name: 1 found (*i its index), 0 absent. */
int sendconf_pool_find(const struct sendconf *c, const char *name, int *i);

/* Where a recipient goes (etc/routes by sender, class and its lower-case
 * domain). */
enum sendconf_route {
	ROUTE_ERROR = -1,   /* etc/routes cannot be read (errno) */
	ROUTE_POOL,         /* a route names a known pool: *pool its index */
	ROUTE_DIRECT,       /* no route: *pool is POOL_DIRECT */
	ROUTE_UNKNOWN,      /* a route names a pool that etc/pools lacks */
};
enum sendconf_route sendconf_route(struct sendconf *c, const char *sender, const char *class,
                                   const char *domain, int *pool);

/* Members marked down by relay-health: one stat a second, the file
 * re-read when it changed; logs member_down and member_up. */
void sendconf_health_refresh(struct sendconf *c);

#endif
