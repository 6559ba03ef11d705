/* libFuzzer harness for the 24 h history files (health/history.h, issue
 * 13): history_parse of any bytes, as relay-httpd reads a torn, truncated
 * or foreign state/history/ file. Built and run by scripts/fuzz-run
 * history. Every slot comes back either missing (zero) or within the 24
 * hours and in its place. */
#include "health/history.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct history_slot out[HISTORY_SLOTS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const long long now = 29000160 + (size ? data[0] : 0);   /* 29000160 % 1440 == 0 */
	size_t i, n, ok = 0;
	n = history_parse((const char *)data, size, now, out);
	for (i = 0; i < HISTORY_SLOTS; i++) {
		if (out[i].minute != now - (HISTORY_SLOTS - 1) + (long long)i)
			abort();
		if (!out[i].ok) {
			if (out[i].v[0] || out[i].v[1] || out[i].v[2])
				abort();
			continue;
		}
		ok++;
		if (out[i].v[0] > HISTORY_COUNT_MAX || out[i].v[1] > HISTORY_COUNT_MAX || out[i].v[2] > HISTORY_COUNT_MAX)
			abort();
	}
	if (ok != n)
		abort();
	return 0;
}
