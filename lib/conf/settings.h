#ifndef RELAY_SETTINGS_H
#define RELAY_SETTINGS_H
/* etc/settings: the one reader of home/etc/settings.cdb, for every
 * program (conf/conf.h includes this header). Each call opens the CDB
 * once (a read-only mapping, no parsing of other tables), so it is cheap
 * enough for relay-inject and relay-queue, which run once per message.
 * The known settings, their types and defaults are in settings.c and
 * doc/relay-config.8. Lookups are three-way: 1 found, 0 absent, -1
 * error (errno; EPROTO: not a CDB of ours). */
#include <stddef.h>
#include "base/buf.h"

/* What a program should use: the configured value, else the documented
 * default: hostname → gethostname() (lowercased), helo → hostname,
 * postmaster → postmaster@hostname, others → conf_setting_default. 1 a
 * value in val, 0 none (dns_config unset), -1 error. */
int conf_setting_value(const char *home, const char *key, struct buf *val);
/* The same for a numeric setting: maxsize, concurrency and the other
 * counts as numbers, durations in seconds, yes/no as 1/0. 1, 0 (none), -1 error
 * (EINVAL: not a numeric setting; EPROTO: a value relay-config would not
 * have written). */
int conf_setting_number(const char *home, const char *key, unsigned long *v);
/* The built-in value of a known setting, or NULL if it has none
 * (hostname: none, use gethostname; helo: none, use hostname). */
const char *conf_setting_default(const char *key);

/* relay-config: check one "key value" pair; the canonical value goes to
 * out. Unknown keys are errors. 0, or -1 with a reason in err. */
int conf_parse_setting(const char *key, const char *value, struct buf *out,
                       char *err, size_t errcap);

/* The configured value only, no default: 1 found, 0 absent, -1 error.
 * For a caller to whom "not set" means something (relay-bounce drops a
 * double bounce when no postmaster is set); everything else uses
 * conf_setting_value. */
int conf_setting(const char *home, const char *key, struct buf *val);
#endif
