/* The From: check of an authenticated submitter (intake/fromcheck.h). */
#include "intake/fromcheck.h"

#include <stdio.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/diag.h"
#include "intake/addr.h"

/* msg_addrlist's callback over From: values: any address not allowed
 * refuses the message. */
struct from_check {
	const struct conf_user *u;
	int bad;
	char who[ADDR_PATH_MAX + 1];
};

static int from_one(const char *a, size_t n, void *arg)
{
	struct from_check *fc = arg;
	char bare[ADDR_PATH_MAX + 1];
	int l = addr_strip(a, n, bare, sizeof bare);
	if (l < 0 || !conf_user_from_ok(fc->u, bare)) {
		fc->bad = 1;
		safe_text(fc->who, sizeof fc->who, a, n);
		return -1;
	}
	return 0;
}

int from_header_ok(const struct conf_user *u, const char *m, const struct msg_headers *h,
                   char *who, size_t cap)
{
	struct buf v = BUF_INIT;
	long k = -1;
	int ok = 1;
	if (!u->from[0])
		return 1;
	while ((k = msg_find(m, h, "From", (size_t)(k + 1))) >= 0) {
		struct from_check fc = { u, 0, "" };
		v.len = 0;
		if (msg_value(m, &h->f[k], &v) < 0 ||
		    msg_addrlist(v.p ? v.p : "", v.len, from_one, &fc) < 0 || fc.bad) {
			snprintf(who, cap, "%s", fc.who[0] ? fc.who : "an address it cannot read");
			ok = 0;
			break;
		}
	}
	buf_free(&v);
	return ok;
}
