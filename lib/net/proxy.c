/* The PROXY protocol header, v1 and v2 (net/proxy.h). */
#include "net/proxy.h"

#include <arpa/inet.h>
#include <string.h>

static const unsigned char sig2[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A
};

static int bad(const char **why, const char *w)
{
	*why = w;
	return PROXY_BAD;
}

/* A port: 1..5 digits, no leading zero, at most 65535. */
static int port(const char *s, size_t n, unsigned *v)
{
	size_t i;
	unsigned long x = 0;
	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned long)(s[i] - '0');
	}
	if (x > 65535)
		return -1;
	*v = (unsigned)x;
	return 0;
}

/* An address of family af, as text of n octets, into out (canonical). */
static int addr_text(int af, const char *s, size_t n, char *out, size_t cap)
{
	char t[64];
	unsigned char a[16];
	if (n == 0 || n >= sizeof t)
		return -1;
	memcpy(t, s, n);
	t[n] = 0;
	if (inet_pton(af, t, a) != 1 || !inet_ntop(af, a, out, (socklen_t)cap))
		return -1;
	return 0;
}

static int v1(const unsigned char *p, size_t n, struct proxy_hdr *h, const char **why)
{
	const char *s = (const char *)p, *f[6];
	size_t fl[6], i, end = 0, nf = 0, start;
	int af;
	for (i = 0; i < n && i < PROXY_V1_MAX; i++) {
		if (i < 6 && p[i] != (unsigned char)"PROXY "[i])
			return bad(why, "not a PROXY header");
		if (p[i] == '\r') {
			if (i + 2 > PROXY_V1_MAX)
				return PROXY_LONG;
			if (i + 1 == n)
				return PROXY_MORE;
			if (p[i + 1] != '\n')
				return bad(why, "bare CR in the PROXY v1 line");
			end = i;
			break;
		}
		if (p[i] < 0x20 || p[i] > 0x7e)
			return bad(why, "a control or 8-bit octet in the PROXY v1 line");
	}
	if (!end)
		return i >= PROXY_V1_MAX ? PROXY_LONG : PROXY_MORE;
	h->version = 1;
	/* fields separated by single spaces; UNKNOWN ignores the rest */
	for (start = 0, i = 0; i <= end; i++) {
		if (i < end && s[i] != ' ')
			continue;
		if (i == start)
			return bad(why, "empty field in the PROXY v1 line");
		if (nf == 6)
			return bad(why, "too many fields in the PROXY v1 line");
		f[nf] = s + start;
		fl[nf++] = i - start;
		start = i + 1;
		if (nf == 2 && fl[1] == 7 && memcmp(f[1], "UNKNOWN", 7) == 0) {
			h->local = 1;
			return (int)end + 2;
		}
	}
	if (nf < 2 || fl[1] != 4 || (memcmp(f[1], "TCP4", 4) && memcmp(f[1], "TCP6", 4)))
		return bad(why, "PROXY v1: not TCP4, TCP6 or UNKNOWN");
	if (nf != 6)
		return bad(why, "PROXY v1: want SRC DST SPORT DPORT");
	af = f[1][3] == '4' ? AF_INET : AF_INET6;
	if (addr_text(af, f[2], fl[2], h->src, sizeof h->src) < 0 ||
	    addr_text(af, f[3], fl[3], h->dst, sizeof h->dst) < 0)
		return bad(why, "PROXY v1: an address not of the family");
	if (port(f[4], fl[4], &h->sport) < 0 || port(f[5], fl[5], &h->dport) < 0)
		return bad(why, "PROXY v1: a bad port");
	return (int)end + 2;
}

static int v2(const unsigned char *p, size_t n, struct proxy_hdr *h, const char **why)
{
	size_t i, len;
	unsigned cmd, fam;
	for (i = 0; i < n && i < sizeof sig2; i++)
		if (p[i] != sig2[i])
			return bad(why, "not a PROXY header");
	if (n < 16)
		return PROXY_MORE;
	if ((p[12] >> 4) != 2)
		return bad(why, "PROXY v2: not version 2");
	cmd = p[12] & 0x0f;
	fam = p[13];
	len = (size_t)p[14] << 8 | p[15];
	if (cmd > 1)
		return bad(why, "PROXY v2: neither LOCAL nor PROXY");
	if (16 + len > PROXY_V2_MAX)
		return PROXY_LONG;
	if (n < 16 + len)
		return PROXY_MORE;
	h->version = 2;
	if (cmd == 0 || fam == 0x00) {   /* LOCAL, or PROXY over UNSPEC */
		h->local = 1;
		return (int)(16 + len);
	}
	if (fam == 0x11) {               /* TCP over IPv4 */
		if (len < 12)
			return bad(why, "PROXY v2: the IPv4 block is short");
		inet_ntop(AF_INET, p + 16, h->src, sizeof h->src);
		inet_ntop(AF_INET, p + 20, h->dst, sizeof h->dst);
		h->sport = (unsigned)p[24] << 8 | p[25];
		h->dport = (unsigned)p[26] << 8 | p[27];
	} else if (fam == 0x21) {        /* TCP over IPv6 */
		if (len < 36)
			return bad(why, "PROXY v2: the IPv6 block is short");
		inet_ntop(AF_INET6, p + 16, h->src, sizeof h->src);
		inet_ntop(AF_INET6, p + 32, h->dst, sizeof h->dst);
		h->sport = (unsigned)p[48] << 8 | p[49];
		h->dport = (unsigned)p[50] << 8 | p[51];
	} else {
		return bad(why, "PROXY v2: not TCP over IPv4 or IPv6");
	}
	return (int)(16 + len);
}

int proxy_parse(const unsigned char *p, size_t n, struct proxy_hdr *h, const char **why)
{
	memset(h, 0, sizeof *h);
	*why = "";
	if (n == 0)
		return PROXY_MORE;
	if (p[0] == 'P')
		return v1(p, n, h, why);
	if (p[0] == 0x0D)
		return v2(p, n, h, why);
	return bad(why, "not a PROXY header");
}

int smtpd_proxy_v1(const char *line, size_t len, char *ip, size_t cap)
{
	unsigned char t[PROXY_V1_MAX + 2];
	struct proxy_hdr h;
	const char *why;
	if (len + 2 > PROXY_V1_MAX || len == 0 || line[0] != 'P')
		return -1;
	memcpy(t, line, len);
	memcpy(t + len, "\r\n", 2);
	if (proxy_parse(t, len + 2, &h, &why) != (int)len + 2 || strlen(h.src) >= cap)
		return -1;
	if (h.local)
		return 0;
	memcpy(ip, h.src, strlen(h.src) + 1);
	return 1;
}
