#include "intake/addr.h"

#include <string.h>

#include "base/bounds.h"

static int is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1; /* UTF-8 (RFC 6531); checked for form separately */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Length of a valid UTF-8 sequence starting at s (max n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) { len = 2; cp = s[0] & 0x1f; }
	else if (s[0] >= 0xe0 && s[0] <= 0xef) { len = 3; cp = s[0] & 0x0f; }
	else if (s[0] >= 0xf0 && s[0] <= 0xf4) { len = 4; cp = s[0] & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int utf8_valid(const char *a, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq((const unsigned char *)a + i, n - i);
		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

static int check_literal(const char *d, size_t n)
{
	/* "[" ... "]": IPv4 dotted quad or "IPv6:" hex/colon/dots. */
	size_t i;
	if (n < 3 || d[0] != '[' || d[n - 1] != ']')
		return 0;
	d++; n -= 2;
	if (n > 5 && strncmp(d, "IPv6:", 5) == 0) {
		for (i = 5; i < n; i++)
			if (!strchr("0123456789abcdefABCDEF:.", d[i]))
				return 0;
		return 1;
	}
	{
		int parts = 0, digits = 0, val = 0;
		for (i = 0; i <= n; i++) {
			if (i == n || d[i] == '.') {
				if (!digits || val > 255)
					return 0;
				parts++; digits = 0; val = 0;
			} else if (d[i] >= '0' && d[i] <= '9' && digits < 3) {
				val = val * 10 + (d[i] - '0'); digits++;
			} else
				return 0;
		}
		return parts == 4;
	}
}

static int check_domain(const char *d, size_t n, const char **why)
{
	size_t i, lab = 0;
	if (n == 0) { *why = "empty domain"; return ADDR_BAD; }
	if (n > ADDR_DOMAIN_MAX) { *why = "domain longer than 255 octets"; return ADDR_TOOLONG; }
	if (d[0] == '[') {
		if (!check_literal(d, n)) { *why = "bad address literal"; return ADDR_BAD; }
		return ADDR_OK;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			if (lab == 0 || d[i - 1] == '-') { *why = "empty or bad label in domain"; return ADDR_BAD; }
			lab = 0;
			continue;
		}
		if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c == '-' && lab > 0)) {
			if (++lab > 63) { *why = "domain label longer than 63 octets"; return ADDR_BAD; }
			continue;
		}
		*why = "bad character in domain";
		return ADDR_BAD;
	}
	if (lab == 0 || d[n - 1] == '-') { *why = "domain ends with a dot or hyphen"; return ADDR_BAD; }
	return ADDR_OK;
}

int addr_check(const char *a, size_t n, int flags, const char **why)
{
	size_t i, at = (size_t)-1;
	*why = "ok";
	if (n == 0) {
		if (flags & ADDR_ALLOW_EMPTY)
			return ADDR_OK;
		*why = "empty address";
		return ADDR_BAD;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c == 0 || c == '\r' || c == '\n') { *why = "control character in address"; return ADDR_BAD; }
	}
	if (n + 2 > ADDR_PATH_MAX) { *why = "address longer than 254 octets"; return ADDR_TOOLONG; }
	if (!utf8_valid(a, n)) { *why = "malformed UTF-8 in address"; return ADDR_BAD; }
	/* local part */
	if (a[0] == '"') {
		for (i = 1; i < n; i++) {
			unsigned char c = (unsigned char)a[i];
			if (c == '\\') {
				if (i + 1 >= n || (unsigned char)a[i + 1] < 32 || a[i + 1] == 127) {
					*why = "bad quoted pair"; return ADDR_BAD;
				}
				i++;
				c = (unsigned char)a[i];
			} else if (c == '"')
				break;
			else if (c < 32 || c == 127) {
				*why = "control character in quoted local part"; return ADDR_BAD;
			}
			/* RFC 5321 allows them, but relay-send's MAIL and RCPT (and
			 * many servers) do not: refused here, where the submitter
			 * learns it, never accepted and lost later (issue 10) */
			if (c == ' ' || c == '<' || c == '>') {
				*why = "space or angle bracket in a quoted local part (cannot be sent)";
				return ADDR_BAD;
			}
		}
		if (i >= n) { *why = "unterminated quoted local part"; return ADDR_BAD; }
		at = i + 1;
		if (at < n && a[at] != '@') { *why = "text after quoted local part"; return ADDR_BAD; }
	} else {
		for (i = 0; i < n && a[i] != '@'; i++) {
			if (a[i] == '.') {
				if (i == 0 || a[i - 1] == '.' || i + 1 == n || a[i + 1] == '@') {
					*why = "empty atom in local part"; return ADDR_BAD;
				}
			} else if (!is_atext((unsigned char)a[i])) {
				*why = "bad character in local part (quote it)"; return ADDR_BAD;
			}
		}
		at = i;
	}
	if (at == 0) { *why = "empty local part"; return ADDR_BAD; }
	if (at > ADDR_LOCAL_MAX) { *why = "local part longer than 64 octets"; return ADDR_TOOLONG; }
	if (at >= n) {
		if (flags & ADDR_ALLOW_NODOMAIN)
			return ADDR_OK;
		*why = "address has no domain";
		return ADDR_BAD;
	}
	return check_domain(a + at + 1, n - at - 1, why);
}

int addr_strip(const char *in, size_t n, char *out, size_t cap)
{
	size_t b = 0, e = n, i, start;
	int inq = 0;
	while (b < e && (in[b] == ' ' || in[b] == '\t'))
		b++;
	while (e > b && (in[e - 1] == ' ' || in[e - 1] == '\t'))
		e--;
	if (b < e && in[b] == '<') {
		if (in[e - 1] != '>')
			return -1;
		b++; e--;
	} else if (b < e && in[e - 1] == '>')
		return -1;
	/* source route "@a,@b:" before the mailbox: keep the final hop */
	start = b;
	if (b < e && in[b] == '@') {
		for (i = b; i < e; i++) {
			if (in[i] == '"')
				inq = !inq;
			if (!inq && in[i] == ':') {
				start = i + 1;
				break;
			}
		}
		if (i == e)
			return -1;
	}
	if (e - start + 1 > cap)
		return -1;
	memcpy(out, in + start, e - start);
	out[e - start] = 0;
	return (int)(e - start);
}

int addr_is_utf8(const char *a, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] >= 0x80)
			return 1;
	return 0;
}

const char *addr_domain(const char *a)
{
	const char *at = NULL;
	int inq = 0;
	for (; *a; a++) {
		if (*a == '\\' && inq && a[1]) { a++; continue; }
		if (*a == '"') inq = !inq;
		else if (*a == '@' && !inq) at = a;
	}
	return at ? at + 1 : NULL;
}
