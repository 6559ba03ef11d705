#ifndef RELAY_TLSRPT_TXT_H
#define RELAY_TLSRPT_TXT_H
/* The TLS-RPT policy record (RFC 8460 3, issue 15), from DNS: outside
 * input, fuzzed (fuzz/fuzz_tlsrpt.c). send/tlsrpt.h uses it. */
#include <stddef.h>

#define TLSRPT_RUA_MAX 8
#define TLSRPT_URI_MAX 400

/* The _smtp._tls TXT record (RFC 8460 3): "v=TLSRPTv1;" first, then
 * fields NAME=VALUE separated by ';' (white space around them allowed);
 * rua= once, a comma-separated list of mailto: and https: URIs (others
 * are skipped; at most TLSRPT_RUA_MAX); unknown fields are ignored.
 * 0 with out filled (n >= 1), -1 not a valid record. */
struct tlsrpt_txt {
	size_t n;
	char rua[TLSRPT_RUA_MAX][TLSRPT_URI_MAX + 1];
};
int tlsrpt_txt_parse(const char *txt, size_t n, struct tlsrpt_txt *out);
#endif
