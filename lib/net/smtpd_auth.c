/* AUTH PLAIN and LOGIN (RFC 4954) of the SMTP server session, with the
 * tarpit (net/smtpd.h, net/smtpd_state.h). */
#include "net/smtpd_priv.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/diag.h"
#include "net/smtpd_state.h"

/* One base64 line of an AUTH dialogue (after a 334): 1 and out, 0
 * cancelled or bad (replied), -1 the session ends. */
static int auth_line(struct smtpd_session *s, const char *prompt, struct buf *out)
{
	int r;
	smtpd_io_reply(s->io, "334 %s", prompt);
	if ((r = smtpd_read_line(s)) <= 0) {
		smtpd_set_end(s, r);
		return -1;
	}
	if (s->line.bad || (s->line.len == 1 && s->line.p[0] == '*')) {
		smtpd_reply(s, 501, "5.0.0 authentication cancelled");
		return 0;
	}
	out->len = 0;
	if (base64_decode(out, s->line.p, s->line.len) < 0) {
		smtpd_reply(s, 501, "5.5.2 bad base64");
		return 0;
	}
	return 1;
}

void smtpd_auth(struct smtpd_session *s, const struct smtpd_cmd *c)
{
	const struct smtpd_conf *cf = s->cf;
	struct buf a = BUF_INIT, b = BUF_INIT;
	char mech[16], user[CONF_USER_MAX + 1], su[CONF_USER_MAX * 4 + 1];
	const char *ir = NULL, *pass = NULL;
	size_t passlen = 0, ml = 0;
	int r, v;

	if (s->authed) {
		smtpd_reply(s, 503, "5.5.1 already authenticated");
		return;
	}
	if (s->state != ST_HELO) {
		smtpd_reply(s, 503, s->state == ST_START ? "5.5.1 EHLO first" : "5.5.1 not inside a transaction");
		return;
	}
	if (!s->io->ssl && !cf->auth_plain_ok) {
		smtpd_reply(s, 538, "5.7.11 encryption required: STARTTLS first");
		return;
	}
	while (c->arg[ml] && c->arg[ml] != ' ' && ml + 1 < sizeof mech) {
		mech[ml] = c->arg[ml];
		ml++;
	}
	mech[ml] = 0;
	if (c->arg[ml] == ' ')
		ir = c->arg + ml + 1;
	user[0] = 0;
	if (strcasecmp(mech, "PLAIN") == 0) {
		const char *z1, *z2;
		if (ir && *ir) {
			if (strcmp(ir, "=") != 0 && base64_decode(&a, ir, strlen(ir)) < 0) {
				smtpd_reply(s, 501, "5.5.2 bad base64");
				goto out;
			}
		} else if ((r = auth_line(s, "", &a)) <= 0) {
			goto out;
		}
		/* authzid NUL authcid NUL passwd */
		z1 = a.p ? memchr(a.p, 0, a.len) : NULL;
		z2 = z1 ? memchr(z1 + 1, 0, a.len - (size_t)(z1 + 1 - a.p)) : NULL;
		if (!z2 || (size_t)(z2 - z1 - 1) > CONF_USER_MAX ||
		    (z1 != a.p && ((size_t)(z1 - a.p) != (size_t)(z2 - z1 - 1) ||
		                   memcmp(a.p, z1 + 1, (size_t)(z1 - a.p))))) {
			smtpd_reply(s, 501, "5.5.2 bad AUTH PLAIN response");
			goto out;
		}
		memcpy(user, z1 + 1, (size_t)(z2 - z1 - 1));
		user[z2 - z1 - 1] = 0;
		pass = z2 + 1;
		passlen = a.len - (size_t)(z2 + 1 - a.p);
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		if (ir && *ir) {
			if (base64_decode(&a, ir, strlen(ir)) < 0) {
				smtpd_reply(s, 501, "5.5.2 bad base64");
				goto out;
			}
		} else if ((r = auth_line(s, "VXNlcm5hbWU6", &a)) <= 0) {
			goto out;
		}
		if (a.len == 0 || a.len > CONF_USER_MAX || memchr(a.p, 0, a.len)) {
			smtpd_reply(s, 501, "5.5.2 bad user name");
			goto out;
		}
		memcpy(user, a.p, a.len);
		user[a.len] = 0;
		if ((r = auth_line(s, "UGFzc3dvcmQ6", &b)) <= 0)
			goto out;
		pass = b.p ? b.p : "";
		passlen = b.len;
	} else {
		smtpd_reply(s, 504, "5.5.4 unrecognized authentication type (PLAIN and LOGIN are offered)");
		goto out;
	}

	r = conf_user_lookup(cf->users, user, &s->account);
	if (r < 0) {
		warn_sys("unable to read etc/users.cdb");
		smtpd_io_reply(s->io, "454 4.7.0 temporary authentication failure");
		goto out;
	}
	v = conf_user_verify(r ? &s->account : NULL, pass, passlen);
	if (v < 0) {
		smtpd_io_reply(s->io, "454 4.7.0 temporary authentication failure");
		goto out;
	}
	if (v == 0) {
		unsigned d = cf->auth_delay, k, n;
		int tn = 0;
		n = ++s->auth_fails;
		/* the tarpit: the address's failures across sessions; without
		 * its state, this session's count (logged) */
		if (cf->state_dir && (tn = smtpd_tarpit_fail(cf->state_dir, cf->client, time(NULL))) < 0)
			warn_sys("unable to update %s/tarpit: the delay counts this session only",
			         cf->state_dir);
		if (tn > 0 && (unsigned)tn > n)
			n = (unsigned)tn;
		for (k = 1; k < n && d < 30; k++)
			d *= 2;
		if (d > 30)
			d = 30;
		fprintf(stderr, "%s: auth failed client=%s user=%s mechanism=%s failures=%u "
		        "tarpit=%d delay=%us\n", progname, cf->client, smtpd_safe(user, su, sizeof su), mech,
		        s->auth_fails, tn, d);
		if (d) {
			smtpd_io_flush(s->io);
			sleep(d);
		}
		memset(&s->account, 0, sizeof s->account);
		smtpd_reply(s, 535, "5.7.8 authentication credentials invalid");
		goto out;
	}
	s->authed = 1;
	conf_lower(user);
	snprintf(s->user, sizeof s->user, "%s", user);
	fprintf(stderr, "%s: auth ok client=%s user=%s mechanism=%s\n", progname, cf->client,
	        smtpd_safe(user, su, sizeof su), mech);
	smtpd_io_reply(s->io, "235 2.7.0 authentication successful");
out:
	if (a.p)
		memset(a.p, 0, a.len);
	if (b.p)
		memset(b.p, 0, b.len);
	buf_free(&a);
	buf_free(&b);
}

