/* libFuzzer harness for the shaping parsers of outside input: the retry
 * hint in a remote reply's text (send/shape.h shape_retry_hint), an
 * etc/limits value (conf_parse_limits, whose canonical form must parse
 * again to the same form) and an etc/classify rule with a throttle
 * (classify_parse_line), and state/shaping as relay-send reads it back
 * (shape_restore_text: bounded, no crash, only future throttles kept).
 * Built by scripts/fuzz-shape. */
#include "base/bounds.h"
#include "base/buf.h"
#include "bounce/classify.h"
#include "conf/conf.h"
#include "send/shape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1), err[256];
	struct conf_limits l, l2;
	struct classify_rule r;
	struct buf a = BUF_INIT, b = BUF_INIT;
	if (!s)
		return 0;
	memcpy(s, d, n);
	s[n] = 0;
	if (shape_retry_hint(s) > 86400)
		abort();
	if (strlen(s) <= CONF_LINE_MAX && conf_parse_limits(s, &l, err, sizeof err) == 0) {
		if (conf_format_limits(&l, &a) < 0 || conf_parse_limits(a.p, &l2, err, sizeof err) < 0 ||
		    conf_format_limits(&l2, &b) < 0 || strcmp(a.p, b.p) != 0)
			abort();
	}
	if (classify_parse_line(s, &r, err, sizeof err) == 1 && r.thr.action &&
	    (r.thr.after == 0 || r.thr.dur == 0 || r.thr.window == 0))
		abort();
	{
		static struct shape st;   /* 32 KiB of buckets: not on the stack */
		size_t i;
		shape_init(&st);
		shape_restore_text(&st, (const char *)d, n, 1000, 2000000000);
		if (st.n > SHAPE_DESTS_MAX)
			abort();
		for (i = 0; i < SHAPE_BUCKETS; i++) {
			const struct shape_dest *x;
			for (x = st.tab[i]; x; x = x->next)
				if ((x->throttle != THROTTLE_NONE && x->throttle_until <= 1000) ||
				    x->throttle_until > 1000 + SHAPE_REMAIN_MAX || x->cool_until > 1000 + 3600)
					abort();
		}
		shape_free(&st);
	}
	buf_free(&a);
	buf_free(&b);
	free(s);
	return 0;
}
