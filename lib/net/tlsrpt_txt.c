/* The _smtp._tls TXT record of TLS-RPT: see net/tlsrpt_txt.h. */
#include "net/tlsrpt_txt.h"

#include <string.h>
#include <strings.h>

static int uri_ok(const char *u, size_t n)
{
	size_t i;
	if (n == 0 || n > TLSRPT_URI_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
			return 0;
	return (n > 7 && strncasecmp(u, "mailto:", 7) == 0) || (n > 8 && strncasecmp(u, "https://", 8) == 0);
}

static void trim(const char **a, const char **b)
{
	while (*a < *b && (**a == ' ' || **a == '\t'))
		(*a)++;
	while (*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t'))
		(*b)--;
}

int tlsrpt_txt_parse(const char *txt, size_t n, struct tlsrpt_txt *out)
{
	const char *p = txt, *end = txt + n;
	int first = 1, have_rua = 0;
	memset(out, 0, sizeof *out);
	if (memchr(txt, 0, n))
		return -1;
	while (p < end) {
		const char *f = p, *fe = memchr(p, ';', (size_t)(end - p)), *eq;
		if (!fe)
			fe = end;
		p = fe < end ? fe + 1 : end;
		trim(&f, &fe);
		if (f == fe) {
			if (first)
				return -1;
			continue;   /* a trailing ';' */
		}
		if (!(eq = memchr(f, '=', (size_t)(fe - f))))
			return -1;
		{
			const char *k = f, *ke = eq, *v = eq + 1, *ve = fe;
			trim(&k, &ke);
			trim(&v, &ve);
			if (first) {
				if (!(ke - k == 1 && *k == 'v' && ve - v == 8 && memcmp(v, "TLSRPTv1", 8) == 0))
					return -1;
				first = 0;
				continue;
			}
			if (ke - k == 3 && strncasecmp(k, "rua", 3) == 0) {
				if (have_rua)
					return -1;
				have_rua = 1;
				while (v < ve) {
					const char *u = v, *ue = memchr(v, ',', (size_t)(ve - v));
					if (!ue)
						ue = ve;
					v = ue < ve ? ue + 1 : ve;
					trim(&u, &ue);
					if (uri_ok(u, (size_t)(ue - u)) && out->n < TLSRPT_RUA_MAX) {
						memcpy(out->rua[out->n], u, (size_t)(ue - u));
						out->rua[out->n][ue - u] = 0;
						out->n++;
					}
				}
			}
		}
	}
	return !first && out->n ? 0 : -1;
}

