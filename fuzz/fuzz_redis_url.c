/* libFuzzer harness for the Redis URL of setting shared
 * (conf/redis_url.h), pure. Built and run by scripts/fuzz-run redis_url.
 * For any input: a URL taken has NUL-terminated fields within their
 * bounds, a port 1..65535 and a database 0..15; what redis_url_show
 * makes of it (the password and rediss:// files left out) parses again to
 * the same place; ca=, cert=, key= only on rediss://, absolute. */
#include "conf/redis_url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct redis_url u, v;
	char s[REDIS_URL_MAX + 2], shown[REDIS_URL_MAX + 64], err[256];
	if (n > REDIS_URL_MAX + 1)
		return 0;
	memcpy(s, d, n);
	s[n] = 0;
	if (redis_url_parse(s, &u, err, sizeof err) < 0) {
		if (!memchr(err, 0, sizeof err))
			abort();
		return 0;
	}
	if (!memchr(u.host, 0, sizeof u.host) || !memchr(u.path, 0, sizeof u.path) ||
	    !memchr(u.pass, 0, sizeof u.pass) || !memchr(u.user, 0, sizeof u.user) ||
	    !memchr(u.ca, 0, sizeof u.ca) || !memchr(u.cert, 0, sizeof u.cert) || !memchr(u.key, 0, sizeof u.key))
		abort();
	/* ca=, cert=, key=: rediss:// only, absolute, key= only with cert= */
	if ((u.ca[0] || u.cert[0]) && !u.tls)
		abort();
	if ((u.ca[0] && u.ca[0] != '/') || (u.cert[0] && u.cert[0] != '/') || (u.key[0] && !u.cert[0]))
		abort();
	if (u.db > 15 || (!u.unix_sock && (u.port < 1 || u.port > 65535)) || (u.unix_sock && u.path[0] != '/'))
		abort();
	redis_url_show(&u, shown, sizeof shown);
	if (redis_url_parse(shown, &v, err, sizeof err) < 0)
		abort();
	if (v.unix_sock != u.unix_sock || v.db != u.db || v.tls != u.tls || strcmp(v.host, u.host) ||
	    strcmp(v.path, u.path) || (!u.unix_sock && v.port != u.port))
		abort();
	return 0;
}
