/* libFuzzer harness for the priority lanes' parsers (send/lanes.h): the
 * class line at the head of a queue file (lanes_head_class: never reads
 * past the bytes given, the class it returns is 1..CONF_NAME_MAX bytes
 * without a newline) and an etc/retry value with priority= and reserve=
 * (conf_parse_retry, whose canonical form parses again to the same).
 * The first byte picks the parser. Built by scripts/fuzz-lanes. */
#include "base/buf.h"
#include "conf/conf.h"
#include "send/lanes.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s, err[256];
	struct conf_retry r, r2;
	struct buf b = BUF_INIT;
	err[0] = 0;
	if (n < 1)
		return 0;
	s = malloc(n);
	if (!s)
		return 0;
	memcpy(s, d + 1, n - 1);
	if (d[0] & 1) {
		/* exactly n - 1 bytes: ASan sees a read past them */
		char *c = lanes_head_class(s, n - 1);
		if (c && (c < s || c >= s + n - 1 || !*c || strlen(c) > CONF_NAME_MAX || strchr(c, '\n')))
			abort();
	} else {
		char *v = realloc(s, n);
		if (!v) {
			free(s);
			return 0;
		}
		s = v;
		s[n - 1] = 0;
		if (conf_parse_retry("x", s, &r, err, sizeof err) == 0) {
			if (r.priority > CONF_PRIORITY_MAX || (r.reserve_pct && r.reserve > 100) || r.reserve > CONF_RESERVE_MAX)
				abort();
			if (conf_format_retry(&r, &b) == 0 &&
			    (conf_parse_retry("x", b.p, &r2, err, sizeof err) != 0 || r2.priority != r.priority ||
			     r2.reserve != r.reserve || r2.reserve_pct != r.reserve_pct || r2.n != r.n ||
			     r2.lifetime != r.lifetime))
				abort();
		}
		if (strlen(err) >= sizeof err - 1 || strchr(err, '\n'))
			abort();
	}
	buf_free(&b);
	free(s);
	return 0;
}
