#ifndef RELAY_CONF_SOURCE_H
#define RELAY_CONF_SOURCE_H
/* etc/source (issue 15): where a member's connections come from.
 *   KEY [bind=ADDR[*W],...] [helo=NAME] [family=inet|inet6|any]
 * KEY is a relay member (host:port) or mx (direct delivery). bind gives
 * the source addresses (IPv4 or IPv6 literals, an egress-IP pool: used in
 * turn, ADDR*W W times as often); helo the EHLO name for them; family
 * pins IPv4 or IPv6 (any: both, the default). At least one field. */
#include <stddef.h>

#include "base/buf.h"

#define CONF_BIND_MAX 8

struct conf_source {
	size_t n;
	char bind[CONF_BIND_MAX][48];
	unsigned weight[CONF_BIND_MAX];
	char helo[256];
	int family;               /* 0 any, 4 inet, 6 inet6 */
};

int conf_parse_source(const char *value, struct conf_source *s, char *err, size_t errcap);
int conf_format_source(const struct conf_source *s, struct buf *out);
/* The bind address for the seq-th connection (weights taken in turn), or
 * NULL when there is none. */
const char *conf_source_bind(const struct conf_source *s, unsigned long seq);
#endif
