/* xtext and the DSN parameter values (base/xtext.h). */
#include "base/xtext.h"

#include <string.h>
#include <strings.h>

static int hexup(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'A' + 10;
}

int xtext_valid(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			if (i + 2 >= n || !hexup(s[i + 1]) || !hexup(s[i + 2]))
				return 0;
			i += 2;
		} else if (c < 33 || c > 126 || c == '=')
			return 0;
	}
	return 1;
}

int xtext_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	if (!xtext_valid(s, n))
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
			if (c == 0)
				return -1;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	if (o >= cap)
		return -1;
	out[o] = 0;
	return (int)o;
}

int xtext_encode(const char *s, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126 || c == '+' || c == '=') {
			if (o + 3 >= cap)
				return -1;
			out[o++] = '+';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)c;
		}
	}
	if (o >= cap)
		return -1;
	out[o] = 0;
	return (int)o;
}

static int no(const char **why, const char *w)
{
	if (why)
		*why = w;
	return 0;
}

/* The decoded form of xtext s is printable US-ASCII (RFC 3461 4.2, 4.4). */
static int printable_xtext(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (s[i] == '+') {
			int c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
			if (c < 0x20 || c > 0x7e)
				return 0;
			i += 2;
		}
	return 1;
}

int dsn_ret_norm(const char *v, size_t n, char out[5], const char **why)
{
	if (n != 4 || (strncasecmp(v, "FULL", 4) != 0 && strncasecmp(v, "HDRS", 4) != 0))
		return no(why, "RET must be FULL or HDRS");
	memcpy(out, (v[0] | 0x20) == 'f' ? "FULL" : "HDRS", 5);
	return 1;
}

int dsn_envid_valid(const char *v, size_t n, const char **why)
{
	if (n == 0 || n > DSN_ENVID_MAX)
		return no(why, "ENVID empty or longer than 100 octets");
	if (!xtext_valid(v, n))
		return no(why, "ENVID is not xtext");
	if (!printable_xtext(v, n))
		return no(why, "ENVID decodes to a control or non-ASCII byte");
	return 1;
}

int dsn_notify_norm(const char *v, size_t n, char out[DSN_NOTIFY_MAX + 1], const char **why)
{
	static const char *const word[] = {"SUCCESS", "FAILURE", "DELAY"};
	unsigned seen = 0;
	size_t i = 0, o = 0;
	if (n == 5 && strncasecmp(v, "NEVER", 5) == 0) {
		memcpy(out, "NEVER", 6);
		return 1;
	}
	if (n == 0)
		return no(why, "NOTIFY is empty");
	while (i <= n) {
		size_t k = i, w;
		while (k < n && v[k] != ',')
			k++;
		for (w = 0; w < 3; w++)
			if (k - i == strlen(word[w]) && strncasecmp(v + i, word[w], k - i) == 0)
				break;
		if (w == 3)
			return no(why, "NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY");
		if (seen & (1u << w))
			return no(why, "NOTIFY names a keyword twice");
		seen |= 1u << w;
		if (k == n)
			break;
		i = k + 1;
		if (i == n)
			return no(why, "NOTIFY ends with a comma");
	}
	/* stored in one order: SUCCESS,FAILURE,DELAY */
	for (i = 0; i < 3; i++)
		if (seen & (1u << i)) {
			if (o)
				out[o++] = ',';
			memcpy(out + o, word[i], strlen(word[i]));
			o += strlen(word[i]);
		}
	out[o] = 0;
	return 1;
}

/* RFC 5322 atext, for the addr-type atom */
static int atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

int dsn_orcpt_valid(const char *v, size_t n, const char **why)
{
	const char *semi = memchr(v, ';', n);
	size_t i, tl;
	if (n > DSN_ORCPT_MAX)
		return no(why, "ORCPT longer than 500 octets");
	if (!semi || semi == v)
		return no(why, "ORCPT must be addr-type;xtext");
	tl = (size_t)(semi - v);
	if (tl > DSN_ADDRTYPE_MAX)
		return no(why, "ORCPT address type too long");
	for (i = 0; i < tl; i++)
		if (!atext(v[i]))
			return no(why, "ORCPT address type is not an atom");
	if (semi + 1 == v + n)
		return no(why, "ORCPT address is empty");
	if (!xtext_valid(semi + 1, n - tl - 1))
		return no(why, "ORCPT address is not xtext");
	if (!printable_xtext(semi + 1, n - tl - 1))
		return no(why, "ORCPT address decodes to a control or non-ASCII byte");
	return 1;
}

unsigned dsn_notify_bits(const char *v)
{
	unsigned b = 0;
	if (!v || !*v)
		return 0;
	if (strcmp(v, "NEVER") == 0)
		return DSN_N_NEVER;
	if (strstr(v, "SUCCESS"))
		b |= DSN_N_SUCCESS;
	if (strstr(v, "FAILURE"))
		b |= DSN_N_FAILURE;
	if (strstr(v, "DELAY"))
		b |= DSN_N_DELAY;
	return b;
}
