/* libFuzzer harness for the TLSA RDATA check (net/dns.h dns_tlsa_rdata):
 * what an answer's TLSA records become before OpenSSL sees them. The
 * input is cut into records by a length byte each; the checks below must
 * hold for any input. Run by scripts/fuzz-run tlsa. */
#include "net/dns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_tlsa_set set;
	size_t i = 0, seen = 0, k;
	memset(&set, 0, sizeof set);
	while (i < size) {
		size_t n = data[i++];
		if (n > size - i)
			n = size - i;
		/* a copy of exactly n bytes, so ASan sees any read past it */
		unsigned char *p = malloc(n ? n : 1);
		if (!p)
			return 0;
		memcpy(p, data + i, n);
		dns_tlsa_rdata(p, n, &set);
		free(p);
		i += n;
		seen++;
	}
	if (set.n > DNS_TLSA_MAX || set.n + set.unusable != seen)
		abort();
	for (k = 0; k < set.n; k++) {
		const struct dns_tlsa *t = &set.r[k];
		if ((t->usage != 2 && t->usage != 3) || t->selector > 1 || t->mtype > 2 ||
		    t->len == 0 || t->len > sizeof t->data ||
		    (t->mtype == 1 && t->len != 32) || (t->mtype == 2 && t->len != 64))
			abort();
	}
	return 0;
}
