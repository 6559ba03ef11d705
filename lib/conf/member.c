#include "conf/member.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"

int conf_member_policy(const char *home, struct conf *tls, struct conf *auth,
                       const char *key, unsigned port, int mx,
                       struct conf_member_policy *p, char *err, size_t errcap)
{
	char k[CONF_HOST_MAX + 16];
	struct buf v = BUF_INIT;
	int r, ret = -1;
	memset(p, 0, sizeof *p);
	if (snprintf(k, sizeof k, "%s", key) >= (int)sizeof k) {
		snprintf(err, errcap, "destination name too long");
		errno = EINVAL;
		return -1;
	}
	conf_lower(k);
	r = conf_get(tls, k, &v);
	if (r == 0 && mx)
		r = conf_get(tls, "*", &v);   /* the default for MX delivery */
	if (r < 0) {
		snprintf(err, errcap, "unable to read etc/tls.cdb: %s", strerror(errno));
		goto out;
	}
	if (r == 1) {
		if (conf_parse_tls(v.p, &p->tls, err, errcap) < 0) {
			errno = EINVAL;
			goto out;
		}
		p->tls_explicit = 1;
	} else
		conf_tls_default(port, &p->tls);
	if (p->tls.ca[0]) {
		struct buf cb = BUF_INIT;
		if (conf_path(home, p->tls.ca, &cb) < 0 || cb.len >= sizeof p->ca) {
			buf_free(&cb);
			snprintf(err, errcap, "ca=%s: path too long", p->tls.ca);
			errno = ENAMETOOLONG;
			goto out;
		}
		memcpy(p->ca, cb.p, cb.len + 1);
		buf_free(&cb);
	}
	if (!mx) {
		r = conf_get(auth, k, &v);
		if (r < 0) {
			snprintf(err, errcap, "unable to read etc/auth.cdb: %s", strerror(errno));
			goto out;
		}
		if (r == 1) {
			if (conf_parse_auth(v.p, &p->auth, err, errcap) < 0) {
				errno = EINVAL;
				goto out;
			}
			p->have_auth = 1;
			p->auth_plaintext_ok = p->tls_explicit && p->tls.mode == CONF_TLS_NONE;
		}
	}
	ret = 0;
out:
	if (v.p)
		memset(v.p, 0, v.cap); /* the auth value held a password */
	buf_free(&v);
	if (ret < 0)
		conf_member_policy_wipe(p);
	return ret;
}

void conf_member_policy_wipe(struct conf_member_policy *p)
{
	conf_auth_wipe(&p->auth);
	p->have_auth = 0;
}
