#ifndef RELAY_CONF_H
#define RELAY_CONF_H
/* The config layer: reading the CDB tables that relay-config compiles
 * from the text files in $RELAY_HOME/etc/, and the parsers for each
 * table's values (relay-config uses them to check and canonicalize a
 * line; relay-send and relay-health use them to re-parse a value).
 *
 * The CDB contract (doc/relay-config.8 is the reference):
 *   - etc/NAME.cdb for each table NAME (pools routes auth tls dkim limits
 *     retry settings aliases), always present after relay-config has run;
 *   - key   = the first field of the line, in the table's canonical form
 *             (lowercased: domains, host names, pool and class names,
 *             enum words; from: addresses are lowercased whole);
 *   - value = the rest of the line in canonical form: fields separated
 *             by one space, defaults filled in, after validation;
 *   - a key occurs once, except in dkim (one record per signature);
 *   - one extra record with the empty key "" holds the format version,
 *     CONF_VERSION; conf_open refuses a CDB without it.
 * The value parsers accept any run of spaces or tabs between fields, so
 * they take both a text line's value part and a canonical value.
 *
 * Lookups are three-way: 1 found, 0 absent, -1 error (errno set). A read
 * error is never "not configured".
 *
 * Where it is: reader.c (the CDB reader, routes), parse.c (the value
 * parsers every table shares), tables.c (each table's parser), settings.c
 * (etc/settings: conf/settings.h), confmake.c, confcheck.c and
 * confinit.c (relay-config: compile, check, a new home), cdbw.c (the
 * atomic CDB writer, conf/cdbw.h), member.c (conf/member.h). */
#include <stddef.h>
#include <cdb.h>
#include "base/buf.h"
#include "conf/settings.h"

#define CONF_VERSION "1"

#define CONF_HOST_MAX     255   /* a host name or [IPv6] literal */
#define CONF_NAME_MAX     64    /* pool, class and setting names */
#define CONF_PATH_MAX     1024  /* ca=, keyfile, dns_config */
#define CONF_POOL_MAX     32    /* members in one pool */
#define CONF_RETRY_MAX    32    /* intervals in one retry schedule */
#define CONF_DURATION_MAX (3650UL * 86400) /* 10 years, in seconds */
#define CONF_FILE_MAX     (16UL * 1024 * 1024) /* one etc/ text file */
#define CONF_DEFAULT_PORT 25

/* ---- reading a compiled table ---- */

struct conf {
	int fd;                 /* -1: table absent (every lookup says 0) */
	struct cdb cdb;
	struct cdb_find find;   /* conf_find / conf_next */
	struct buf fkey;        /* the key being found (cdb_find keeps a pointer) */
	unsigned seq;           /* conf_rewind / conf_each */
	int finding;
};

/* Open home/etc/TABLE.cdb. 0 opened, 1 the file is absent (c is usable
 * and empty: lookups return 0), -1 error with errno (EPROTO: not a CDB
 * of format CONF_VERSION). */
int conf_open(struct conf *c, const char *home, const char *table);
void conf_close(struct conf *c);
/* The first value of key into val (replaced, NUL-terminated).
 * 1 found, 0 absent, -1 error. */
int conf_get(struct conf *c, const char *key, struct buf *val);
/* Every value of one key, in file order (dkim: one per signature):
 *   conf_find(c, key); while ((r = conf_next(c, &v)) == 1) ...;
 * conf_next returns 1 a value, 0 no more, -1 error. */
int conf_find(struct conf *c, const char *key);
int conf_next(struct conf *c, struct buf *val);
/* Every record, in file order, without the version record:
 *   conf_rewind(c); while ((r = conf_each(c, &k, &v)) == 1) ...; */
void conf_rewind(struct conf *c);
int conf_each(struct conf *c, struct buf *key, struct buf *val);
/* A file named in a table (dkim keyfile, tls ca=, dns_config): itself if
 * absolute, else home/etc/FILE. 0, or -1 (ENOMEM). */
int conf_path(const char *home, const char *file, struct buf *out);

/* Lowercase in place (ASCII only); returns s. */
char *conf_lower(char *s);
/* The routes lookup in its documented order: from:SENDER, from:@DOMAIN,
 * class:CLASS, to:RCPTDOMAIN, default. sender may be "" (null sender)
 * and class or rcpt_domain NULL. pool gets the pool name. 1 found,
 * 0 no route (deliver directly to MX), -1 error. */
int conf_route(struct conf *routes, const char *sender, const char *class,
               const char *rcpt_domain, struct buf *pool);
/* The same, and the routes key that matched into *key (when key and a
 * route matched): "to:.example.com", "default", ... (relay-qctl explain). */
int conf_route_key(struct conf *routes, const char *sender, const char *class,
                   const char *rcpt_domain, struct buf *pool, struct buf *key);

/* ---- parsers: each returns 0, or -1 with a one-line reason in err
 * (never echoing a password). ---- */

/* Duration: digits and a unit s, m, h, d or w ("30s", "5m", "2h", "5d");
 * 0 allowed here, callers that need a positive value check. */
int conf_parse_duration(const char *s, unsigned long *secs, char *err, size_t errcap);
/* Shortest exact text for a duration ("90s", "5m", "2d"). */
void conf_format_duration(unsigned long secs, char *out, size_t cap);
/* Host: a DNS name (LDH labels), an IPv4 address, or [IPv6]. Canonical
 * form (lowercase) into out. */
int conf_parse_host(const char *s, char *out, size_t cap, char *err, size_t errcap);
/* host[:port]; port_required or else *port = CONF_DEFAULT_PORT. */
int conf_parse_hostport(const char *s, int port_required, char *host, size_t cap,
                        unsigned *port, char *err, size_t errcap);
/* A name: 1..CONF_NAME_MAX of [a-z0-9._-] after lowercasing into out. */
int conf_parse_name(const char *s, char *out, size_t cap, char *err, size_t errcap);

enum conf_strategy { CONF_FAILOVER, CONF_ROUNDROBIN, CONF_WEIGHTED };
struct conf_member {
	int mx;                     /* 1: direct MX delivery, host/port unused */
	char host[CONF_HOST_MAX + 1];
	unsigned port;
	unsigned weight;            /* 1 unless the strategy is weighted */
};
struct conf_pool {
	enum conf_strategy strategy;
	size_t n;
	struct conf_member m[CONF_POOL_MAX];
};
/* pools value: "STRATEGY MEMBER...", MEMBER = host[:port][*weight] | mx[*weight] */
int conf_parse_pool(const char *value, struct conf_pool *p, char *err, size_t errcap);
int conf_format_pool(const struct conf_pool *p, struct buf *out);
const char *conf_strategy_name(enum conf_strategy s);

/* routes key: "from:user@domain" | "from:@domain" | "class:NAME" |
 * "to:domain" | "default", canonical into out. */
int conf_parse_route_key(const char *key, char *out, size_t cap, char *err, size_t errcap);
/* routes value: "POOL" (the pool name, canonical into pool) */
int conf_parse_route(const char *value, char *pool, size_t cap, char *err, size_t errcap);

/* auth key: host:port (port required); value: "USER PASSWORD", where
 * PASSWORD runs to the end of the line and may contain spaces. */
struct conf_auth {
	char user[256];
	char pass[512];
};
int conf_parse_auth(const char *value, struct conf_auth *a, char *err, size_t errcap);
/* Wipe a parsed password from memory. */
void conf_auth_wipe(struct conf_auth *a);

/* tls / limits key: "host:port" (a relay) or "domain" (a recipient
 * domain delivered by MX), canonical into out. */
int conf_parse_target(const char *key, char *out, size_t cap, char *err, size_t errcap);

/* dane, dane-only (RFC 7672): TLSA records authenticate the MX host
 * where DNSSEC proves them; dane falls back to may where the host has
 * none (or its zone is not signed), dane-only defers there. */
enum conf_tls_mode { CONF_TLS_NONE, CONF_TLS_MAY, CONF_TLS_ENCRYPT, CONF_TLS_VERIFY,
	CONF_TLS_DANE, CONF_TLS_DANE_ONLY };
struct conf_tls {
	enum conf_tls_mode mode;
	int smtps;                  /* TLS from connect (port 465), no STARTTLS */
	char ca[CONF_PATH_MAX + 1]; /* "" = system CAs; else absolute or relative to etc/ */
};
/* tls value: "MODE [smtps] [ca=FILE]"; smtps needs encrypt or verify,
 * ca= needs verify. */
int conf_parse_tls(const char *value, struct conf_tls *t, char *err, size_t errcap);
int conf_format_tls(const struct conf_tls *t, struct buf *out);
/* The policy when etc/tls has no entry: port 465 → verify smtps;
 * otherwise may. */
void conf_tls_default(unsigned port, struct conf_tls *t);
const char *conf_tls_mode_name(enum conf_tls_mode m);

/* dkim key: domain; value: "SELECTOR KEYFILE [ALGORITHM]" */
enum conf_dkim_alg { CONF_DKIM_RSA_SHA256, CONF_DKIM_ED25519_SHA256 };
struct conf_dkim {
	char selector[CONF_HOST_MAX + 1];
	char keyfile[CONF_PATH_MAX + 1]; /* absolute or relative to etc/ */
	enum conf_dkim_alg alg;          /* default rsa-sha256 */
};
int conf_parse_dkim(const char *value, struct conf_dkim *d, char *err, size_t errcap);
int conf_format_dkim(const struct conf_dkim *d, struct buf *out);
const char *conf_dkim_alg_name(enum conf_dkim_alg a);

/* limits value: "[concurrency=N] [rate=N/s|N/m|N/h|N/d] [quota=N/h|N/d]
 * [ramp=YYYY-MM-DD:LIST] [mx=GLOB,...]", at least one limit; 0 in a
 * field means "not limited". A key whose value has mx= names a site
 * (the MX hosts matching a glob); doc/relay-config.8 (etc/limits). */
#define CONF_RAMP_MAX 32    /* days in a warm-up ramp (the last repeats) */
struct conf_limits {
	unsigned concurrency;
	unsigned rate;          /* messages ... */
	unsigned rate_per;      /* ... per this many seconds: 1, 60, 3600 or 86400 */
	/* traffic shaping (issue 12; send/shape.h) */
	unsigned long quota;    /* messages ... */
	unsigned quota_per;     /* ... per UTC hour (3600) or day (86400) */
	long ramp_day0;         /* the ramp's first day (days since 1970), if ramp_n */
	size_t ramp_n;
	unsigned long ramp[CONF_RAMP_MAX]; /* messages on day 0, 1, ...; the last repeats */
	char mx[CONF_HOST_MAX + 1];        /* a site: "glob,glob" over MX host names */
};
int conf_parse_limits(const char *value, struct conf_limits *l, char *err, size_t errcap);
int conf_format_limits(const struct conf_limits *l, struct buf *out);

/* retry key: class name; value: "[schedule=D,D,...] [lifetime=D]".
 * A missing part comes from conf_retry_builtin(class). Canonical values
 * always hold both. The last interval repeats until the lifetime ends. */
struct conf_retry {
	size_t n;
	unsigned long schedule[CONF_RETRY_MAX]; /* seconds, each > 0 */
	unsigned long lifetime;                 /* seconds, > 0 */
	/* priority lanes (issue 12; send/lanes.h): "priority=N reserve=N|N%".
	 * Canonical values hold them only when given (have_*): a class
	 * without them keeps the built-in (transactional 7 reserve=10%,
	 * bulk 3, any other 5; reserve 0). */
	unsigned priority;                      /* 0..CONF_PRIORITY_MAX, higher first */
	unsigned reserve;                       /* workers, or percent when reserve_pct */
	int reserve_pct, have_priority, have_reserve;
};
#define CONF_PRIORITY_MAX 9
#define CONF_RESERVE_MAX  1000              /* workers (the most relay-send runs) */
int conf_parse_retry(const char *class, const char *value, struct conf_retry *r,
                     char *err, size_t errcap);
int conf_format_retry(const struct conf_retry *r, struct buf *out);
/* Built-in schedules: "transactional", "bulk", and "default" for any
 * other class (see doc/relay-config.8). */
void conf_retry_builtin(const char *class, struct conf_retry *r);

/* ---- etc/aliases (issue 11: sendmail's local names) ----
 * A line is "NAME: TARGET, TARGET..." (sendmail's and Postfix's form) or
 * "NAME TARGET...": commas, spaces or both between targets. NAME is a
 * local name (letters, digits, !#$%&'*+/=?^_`{|}~.-; at most 64),
 * lowercased; a TARGET is another local name or local@domain (a
 * dot-atom local part, a domain as conf_parse_host takes it). Programs
 * (|cmd), files (/path), :include: and quoted names are refused: relay
 * delivers nothing on this host. Canonical value: the targets, one space
 * apart, local names and domains lowercased. 0, -1 config error (err),
 * -2 out of memory. */
#define CONF_ALIAS_NAME_MAX 64
#define CONF_ALIAS_ADDR_CAP 256   /* a mailbox of 254 octets and its NUL */
#define CONF_ALIAS_DEPTH    10    /* names in one chain, as sendmail's limit */
int conf_parse_alias(const char *key, const char *rest, char *ck, size_t ckcap,
                     struct buf *cv, char *err, size_t errcap);
/* addr is local when it has no domain or its domain is host (any case):
 * then its local part, lowercased, into out and 1; else 0. */
int conf_alias_local(const char *addr, const char *host, char *out, size_t cap);
/* One expansion: lookup gives the canonical value of a name (1 found,
 * 0 none, -1 error with errno); emit gets each final address in order
 * (0, or -1 to stop). A target that is a local name is expanded again;
 * one without an alias, or the name itself inside its own list, is
 * emitted as name@host. A chain that comes back to a name on its way
 * (a -> b -> a) or is longer than CONF_ALIAS_DEPTH stops the walk.
 * Returns 1 expanded, 0 name has no alias, -1 lookup or emit failed,
 * -2 loop or too deep (why says which). */
struct conf_alias_walk {
	int (*lookup)(void *ctx, const char *name, struct buf *val);
	int (*emit)(void *ctx, const char *addr);
	void *ctx;
	const char *host;
	char why[400];
};
int conf_alias_expand(struct conf_alias_walk *w, const char *name);

/* settings: conf/settings.h (conf_parse_setting and the reader). */

/* ---- compiling (relay-config) ---- */

#define CONF_CHECK_ONLY 1   /* parse and report; write nothing */
/* Parse every table in home/etc/, report each error and warning on
 * stderr ("relay-config: error: etc/pools:3: ..."), and unless
 * CONF_CHECK_ONLY, write every NAME.cdb (temp file, fsync, close, then
 * rename all and fsync etc/). Nothing is written when any error was
 * found. Returns 0 ok, 1 config errors, -1 system error (reported). */
int conf_compile(const char *home, int flags);
/* Make a relay home at dir (see doc/relay-config.8); force: go on when
 * etc/ already has tables (existing files are kept). Compiles at the
 * end. Returns 0, 1 refused or config errors, -1 system error. */
int conf_init_home(const char *dir, int force);

/* The table names, NULL-terminated. */
extern const char *const conf_tables[];

#endif
