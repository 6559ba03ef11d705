/* DKIM key records from DNS through libunbound. */
#include "dkim/dkim.h"

#include <stdio.h>
#include <string.h>
#include <unbound.h>

#define TXT_MAX 4096 /* one key record; a 4096-bit key needs ~800 bytes */

int dkim_dns_key(void *ctx_unused, const char *selector, const char *domain, struct buf *out)
{
	struct ub_ctx *ctx = ub_ctx_create();
	struct ub_result *res = NULL;
	char name[600];
	int r = DKIM_TEMP, i, found = 0;
	if (!ctx)
		return DKIM_TEMP;
	if (snprintf(name, sizeof name, "%s._domainkey.%s", selector, domain) >= (int)sizeof name)
		goto done_perm;
	if (ub_ctx_resolvconf(ctx, NULL) != 0 || ub_ctx_hosts(ctx, NULL) != 0)
		goto done;
	if (ub_resolve(ctx, name, 16 /* TXT */, 1 /* IN */, &res) != 0 || !res)
		goto done;
	if (res->rcode == 3 /* NXDOMAIN */ || (res->rcode == 0 && !res->havedata))
		goto done_perm;
	if (res->rcode != 0 || res->bogus)
		goto done;
	for (i = 0; res->data[i]; i++) {
		/* TXT rdata: <len><bytes>..., the strings are joined */
		const unsigned char *p = (const unsigned char *)res->data[i];
		int n = res->len[i], k = 0;
		size_t start = out->len;
		while (k < n) {
			int sl = p[k++];
			if (sl > n - k || out->len - start + (size_t)sl > TXT_MAX)
				break;
			if (memchr(p + k, 0, (size_t)sl) == NULL)
				buf_add(out, p + k, (size_t)sl);
			k += sl;
		}
		if (buf_addc(out, 0) < 0)
			goto done;
		found++;
	}
	r = found ? DKIM_OK : DKIM_PERM;
	goto done;
done_perm:
	r = DKIM_PERM;
done:
	if (res)
		ub_resolve_free(res);
	ub_ctx_delete(ctx);
	return r;
}
