#include "conf/member.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"

int conf_parse_auth_key(const char *key, char *out, size_t cap, char *err, size_t errcap)
{
	char h[CONF_HOST_MAX + 1], snd[CONF_AUTH_KEY_MAX];
	const char *at, *slash;
	unsigned port;
	size_t n;
	if (strncasecmp(key, "from:", 5) != 0) {
		if (conf_parse_hostport(key, 1, h, sizeof h, &port, err, errcap) < 0)
			return -1;
		if (snprintf(out, cap, "%s:%u", h, port) >= (int)cap)
			goto long_;
		return 0;
	}
	/* a host:port never holds '@', so the scope starts after the last one */
	at = strrchr(key, '@');
	slash = at ? strchr(at, '/') : NULL;
	n = slash ? (size_t)(slash - key) : strlen(key);
	if (n >= sizeof snd)
		goto long_;
	memcpy(snd, key, n);
	snd[n] = 0;
	if (conf_parse_route_key(snd, out, cap, err, errcap) < 0)
		return -1;
	if (!slash)
		return 0;
	if (conf_parse_hostport(slash + 1, 1, h, sizeof h, &port, err, errcap) < 0)
		return -1;
	n = strlen(out);
	if (snprintf(out + n, cap - n, "/%s:%u", h, port) >= (int)(cap - n))
		goto long_;
	return 0;
long_:
	snprintf(err, errcap, "auth key too long");
	return -1;
}

/* Try one etc/auth key: 1 found (parsed into p), 0 absent, -1 error. */
static int auth_try(struct conf *auth, const char *k, struct buf *v,
                    struct conf_member_policy *p, char *err, size_t errcap)
{
	int r = conf_get(auth, k, v);
	if (r < 0) {
		snprintf(err, errcap, "unable to read etc/auth.cdb: %s", strerror(errno));
		return -1;
	}
	if (r == 0)
		return 0;
	if (conf_parse_auth(v->p, &p->auth, err, errcap) < 0) {
		errno = EINVAL;
		return -1;
	}
	snprintf(p->auth_key, sizeof p->auth_key, "%s", k);
	return 1;
}

/* etc/auth for relay k and sender: the most specific key first. */
static int auth_lookup(struct conf *auth, const char *k, const char *sender, struct buf *v,
                       struct conf_member_policy *p, char *err, size_t errcap)
{
	char sk[CONF_AUTH_KEY_MAX + 16];
	const char *at = sender ? strrchr(sender, '@') : NULL;
	const char *s[2];
	int i, r, ns = 0;
	if (sender && *sender)
		s[ns++] = sender;
	if (at && at != sender)
		s[ns++] = at;
	for (i = 0; i < ns; i++) {
		int scoped;
		for (scoped = 1; scoped >= 0; scoped--) {
			if (snprintf(sk, sizeof sk, "from:%s%s%s", s[i], scoped ? "/" : "",
			             scoped ? k : "") >= (int)sizeof sk)
				continue;  /* longer than any key etc/auth can hold */
			conf_lower(sk);
			if ((r = auth_try(auth, sk, v, p, err, errcap)) != 0)
				return r;
		}
	}
	return auth_try(auth, k, v, p, err, errcap);
}

int conf_member_policy(const char *home, struct conf *tls, struct conf *auth,
                       const char *key, unsigned port, int mx,
                       struct conf_member_policy *p, char *err, size_t errcap)
{
	return conf_member_policy_from(home, tls, auth, key, port, mx, NULL, p, err, errcap);
}

int conf_member_policy_from(const char *home, struct conf *tls, struct conf *auth,
                            const char *key, unsigned port, int mx, const char *sender,
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
		r = auth_lookup(auth, k, sender, &v, p, err, errcap);
		if (r < 0)
			goto out;
		if (r == 1) {
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
	p->auth_key[0] = 0;
}
