#ifndef RELAY_CONFMAKE_H
#define RELAY_CONFMAKE_H
/* relay-config's compiler inside conf/: what confmake.c (read, parse,
 * write), confcheck.c (duplicates and cross-table checks) and confinit.c
 * (a new relay home) share. Not for use outside conf/; the API is
 * conf_compile and conf_init_home in conf/conf.h. */
#include <stddef.h>
#include <sys/types.h>

/* The tables in the order of conf_tables[]. */
enum { T_POOLS, T_ROUTES, T_AUTH, T_TLS, T_DKIM, T_LIMITS, T_RETRY, T_SETTINGS,
       T_ALIASES /* issue 11 */,
       T_CLIENTS, T_USERS,  /* relay-smtpd */
       T_APIKEYS,           /* issue 13: relay-httpd (conf/apikeys.h) */
       T_SOURCE,            /* issue 15: source addresses (conf/source.h) */
       T_N };

struct rec {
	char *key, *val;
	unsigned line;
};

struct table {
	const char *name;
	struct rec *r;
	size_t n, cap;
	int owned;          /* uid, gid: the text file's, for the CDB */
	uid_t uid;
	gid_t gid;
};

struct run {
	const char *home;
	struct table t[T_N];
	unsigned errors, warnings;
	int syserr;
};

/* snprintf into a path buffer: -1 (ENAMETOOLONG) if it did not fit. */
int conf_pathf(char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Report a config error (counted in run->errors) or warning, as
 * "relay-config: error: etc/TABLE:LINE: text"; line 0: no line. */
void conf_error_at(struct run *run, const char *table, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void conf_warn_at(struct run *run, const char *table, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Report duplicate keys of table ti (dkim: duplicate domain and
 * selector). 0, or -1 out of memory. */
int conf_check_duplicates(struct run *run, int ti);
/* Routes to pools that exist, a default route, auth/tls/limits entries
 * for relays that are pool members. 0, or -1 (ENOMEM). */
int conf_cross_checks(struct run *run);
#endif
