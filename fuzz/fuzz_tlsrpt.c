/* libFuzzer harness for the TLS-RPT policy record (net/tlsrpt_txt.h,
 * RFC 8460 3: the _smtp._tls TXT record, from DNS). Every rua kept must
 * be a mailto: or https: URI of printable ASCII, NUL-terminated within
 * its slot. Run by scripts/fuzz-run tlsrpt. */
#include "net/tlsrpt_txt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsrpt_txt t;
	size_t i, k;
	if (tlsrpt_txt_parse((const char *)data, size, &t) != 0)
		return 0;
	if (t.n == 0 || t.n > TLSRPT_RUA_MAX)
		abort();
	for (i = 0; i < t.n; i++) {
		size_t l = strnlen(t.rua[i], sizeof t.rua[i]);
		if (l == sizeof t.rua[i] || l > TLSRPT_URI_MAX)
			abort();
		if (strncasecmp(t.rua[i], "mailto:", 7) && strncasecmp(t.rua[i], "https://", 8))
			abort();
		for (k = 0; k < l; k++)
			if ((unsigned char)t.rua[i][k] <= 0x20 || (unsigned char)t.rua[i][k] >= 0x7f ||
			    t.rua[i][k] == ',' || t.rua[i][k] == ';')
				abort();
	}
	return 0;
}
