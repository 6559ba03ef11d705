/* The suppression list as relay-bounce suppress list shows it
 * (bounce/suppress.h: suppress_format). */
#include "bounce/suppress.h"

#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/json.h"

static int add_time(struct buf *out, const char *name, time_t t)
{
	struct tm tm;
	char s[64];
	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return buf_printf(out, " %s=%lld", name, (long long)t);
	return buf_printf(out, " %s=%s", name, s);
}

int suppress_format(struct buf *out, const struct suppress_entry *e, int json, time_t now)
{
	int expired = e->expires && e->expires <= now;
	if (json) {
		if (buf_adds(out, "{\"address\":") < 0 ||
		    json_str(out, e->addr, strlen(e->addr)) < 0 ||
		    buf_printf(out, ",\"first_seen\":%lld,\"last_seen\":%lld,\"expires\":%lld,"
		               "\"expired\":%s,\"reason\":", (long long)e->first,
		               (long long)e->last, (long long)e->expires,
		               expired ? "true" : "false") < 0 ||
		    json_str(out, e->reason, strlen(e->reason)) < 0)
			return -1;
		return buf_addc(out, '}');
	}
	if (buf_adds(out, e->addr) < 0 || add_time(out, "first", e->first) < 0 ||
	    add_time(out, "last", e->last) < 0)
		return -1;
	if (e->expires ? add_time(out, "expires", e->expires) < 0
	               : buf_adds(out, " expires=never") < 0)
		return -1;
	return buf_printf(out, "%s reason=%s\n", expired ? " (expired)" : "", e->reason);
}
