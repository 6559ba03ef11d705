/* libFuzzer harness for the cumulative counts files (health/totals.h,
 * issue 13 totals): totals_parse of any bytes for each kind, as
 * relay-httpd and relay-send read a torn, truncated or foreign
 * state/counters/totals/ file. Built and run by scripts/fuzz-run totals.
 * A file that parses prints back to the same bytes; one that does not
 * leaves the counts zero. */
#include "health/totals.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int k;
	for (k = 0; k < TOTALS_KINDS; k++) {
		struct totals t;
		char back[200];
		size_t i, n = totals_nfields((enum totals_kind)k), len = 4;
		if (totals_parse((enum totals_kind)k, (const char *)data, size, &t) < 0) {
			if (errno != EPROTO)
				abort();
			for (i = 0; i < TOTALS_NF; i++)
				if (t.v[i])
					abort();
			continue;
		}
		for (i = n; i < TOTALS_NF; i++)
			if (t.v[i])
				abort();
		memcpy(back, "RT1\n", 4);
		for (i = 0; i < n; i++)
			len += (size_t)snprintf(back + len, sizeof back - len, i ? " %llu" : "%llu", t.v[i]);
		back[len++] = '\n';
		/* what it prints parses again */
		if (totals_parse((enum totals_kind)k, back, len, &t) < 0)
			abort();
	}
	return 0;
}
