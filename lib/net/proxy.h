#ifndef RELAY_PROXY_H
#define RELAY_PROXY_H
/* The PROXY protocol header (HAProxy's proxy-protocol.txt, v1 text and
 * v2 binary) that a load balancer sends first on a connection, before
 * any SMTP. Pure and byte-fed: the caller hands it the bytes read so
 * far from the start of the connection; fuzzed by fuzz/fuzz_proxy.c.
 *
 * Strict on purpose (the receiver must not guess, the spec says):
 *   v1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN...\r\n",
 *       at most 107 octets with the CRLF, single spaces, addresses that
 *       inet_pton takes for the family, ports 0..65535 without leading
 *       zeros;
 *   v2: the 12-octet signature, version 2, command LOCAL or PROXY,
 *       family UNSPEC, TCP over IPv4 or TCP over IPv6, a length that
 *       holds the address block, at most PROXY_V2_MAX octets in all (the
 *       TLVs after the addresses are skipped, not read);
 *   anything else (UDP, UNIX sockets, another version or command, a
 *   header longer than the bound, bytes that are not a header) is
 *   malformed. LOCAL (v2), UNSPEC (v2) and UNKNOWN (v1) say "use the
 *   connection's own address" (health checks of the balancer). */
#include <stddef.h>

#define PROXY_V1_MAX 107            /* the spec's bound, CRLF included */
#define PROXY_V2_MAX (16 + 512)     /* header, addresses and TLVs */

struct proxy_hdr {
	int version;                    /* 1 or 2 */
	int local;                      /* 1: LOCAL, UNSPEC or UNKNOWN */
	char src[46], dst[46];          /* inet_ntop text, "" when local */
	unsigned sport, dport;
};

enum { PROXY_MORE = 0, PROXY_BAD = -1, PROXY_LONG = -2 };

/* Parse the header at the start of p[0..n). Returns its length (> 0;
 * the bytes after it are the client's), PROXY_MORE when more bytes are
 * needed, PROXY_BAD (malformed, *why says how) or PROXY_LONG (over the
 * bound). Never reads past n; the result does not depend on how the
 * bytes were cut. */
int proxy_parse(const unsigned char *p, size_t n, struct proxy_hdr *h, const char **why);

/* One v1 line without its CRLF: 1 and the source address in ip, 0 for
 * UNKNOWN, -1 malformed (the older interface of tests/c/t_smtpd_cmd.c). */
int smtpd_proxy_v1(const char *line, size_t len, char *ip, size_t cap);
#endif
