/* The SMTP client's AUTH (RFC 4954): PLAIN when offered, else LOGIN.
 * See smtp.h for the contract. Credentials are wiped from every buffer
 * that held them and never appear in a result. */
#include "net/smtp_session.h"
#include "base/base64.h"
#include "base/buf.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define AUTH_RAW_MAX 256   /* NUL user NUL pass, before base64 */
#define AUTH_LINE_CAP 512  /* "AUTH PLAIN " and the base64 of AUTH_RAW_MAX bytes */

/* A 334 challenge must be valid base64 (RFC 4954 4). */
static int challenge_ok(const char *t)
{
	struct buf d = BUF_INIT;
	int ok = !strchr(t, ' ') && base64_decode(&d, t, strlen(t)) == 0;
	buf_free(&d);
	return ok;
}

static void auth_fail(struct smtp_result *r, const struct smtp_reply *rep)
{
	sess_res_reply(r, "auth", rep);
	r->member_fault = 1; /* 535 too: defer and fail over, never bounce */
	r->temp = 1;
}

/* Send prefix and the base64 of in[0..n) as one command. line was
 * reserved whole beforehand, so no copy of a credential is left in freed
 * memory. 0 with rep, or -1 with r filled. */
static int send_b64(struct smtp_session *s, struct buf *line, const char *prefix, const void *in,
	size_t n, struct smtp_reply *rep, struct smtp_result *r)
{
	line->len = 0;
	if (buf_adds(line, prefix) < 0 || base64_encode(line, in, n) < 0) {
		sess_res_set(r, "auth", 0, "", 1, 0, "out of memory");
		return -1;
	}
	return sess_command(s, "auth", line->p, s->to.auth, rep, r);
}

/* The reply that ends the exchange: 0 for 235, else -1 with r filled. */
static int accepted(const struct smtp_reply *rep, struct smtp_result *r)
{
	if (rep->code == 235)
		return 0;
	auth_fail(r, rep);
	return -1;
}

static int login(struct smtp_session *s, const struct smtp_opts *o, struct buf *line,
	struct smtp_reply *rep, struct smtp_result *r)
{
	const char *vals[2] = { o->auth_user, o->auth_pass ? o->auth_pass : "" };
	int i;
	if (sess_command(s, "auth", "AUTH LOGIN", s->to.auth, rep, r) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if (rep->code != 334) {
			auth_fail(r, rep);
			return -1;
		}
		if (!challenge_ok(rep->text)) {
			/* cancel the exchange (RFC 4954 4) and give up */
			if (sess_send_cmd(s, "auth", "*", s->to.auth, r) == 0)
				sess_read_reply(s, "auth", s->to.auth, rep, r);
			s->broken = 1;
			s->fail = SMTP_END_ERROR;
			sess_res_set(r, "auth", 0, "", 1, 1, "AUTH LOGIN: malformed challenge");
			return -1;
		}
		if (send_b64(s, line, "", vals[i], strlen(vals[i]), rep, r) < 0)
			return -1;
	}
	return accepted(rep, r);
}

static int auth(struct smtp_session *s, const struct smtp_opts *o, struct buf *line,
	struct smtp_reply *rep, struct smtp_result *r)
{
	char raw[AUTH_RAW_MAX];
	size_t ul = strlen(o->auth_user), pl = o->auth_pass ? strlen(o->auth_pass) : 0;
	int rc;
	/* plaintext AUTH only when the policy is explicitly none: under
	 * "may" a stripped STARTTLS must not expose the password */
	if (!s->tls && !(o->auth_plaintext_ok && o->tls == CONF_TLS_NONE)) {
		sess_res_set(r, "auth", 0, "", 1, 1, "refusing to send AUTH credentials without TLS");
		return -1;
	}
	if (ul + pl + 2 > AUTH_RAW_MAX || strpbrk(o->auth_user, "\r\n") ||
	    (o->auth_pass && strpbrk(o->auth_pass, "\r\n"))) {
		sess_res_set(r, "auth", 0, "", 1, 1, "AUTH credentials too long or malformed");
		return -1;
	}
	if (buf_reserve(line, AUTH_LINE_CAP) < 0) {
		sess_res_set(r, "auth", 0, "", 1, 0, "out of memory");
		return -1;
	}
	if (s->caps & SMTP_CAP_AUTH_LOGIN && !(s->caps & SMTP_CAP_AUTH_PLAIN))
		return login(s, o, line, rep, r);
	if (!(s->caps & SMTP_CAP_AUTH_PLAIN)) {
		sess_res_set(r, "auth", 0, "", 1, 1, "credentials configured but the server offers no AUTH PLAIN or LOGIN");
		return -1;
	}
	raw[0] = 0;
	memcpy(raw + 1, o->auth_user, ul);
	raw[1 + ul] = 0;
	if (pl)
		memcpy(raw + 2 + ul, o->auth_pass, pl);
	rc = send_b64(s, line, "AUTH PLAIN ", raw, ul + pl + 2, rep, r);
	sodium_memzero(raw, sizeof raw);
	return rc < 0 ? -1 : accepted(rep, r);
}

int sess_auth(struct smtp_session *s, const struct smtp_opts *o, struct smtp_result *r)
{
	struct smtp_reply rep;
	struct buf line = BUF_INIT;
	int64_t t0 = sess_now();
	int rc;
	rep.on_line = NULL;
	rep.arg = NULL;
	rep.code = 0;
	rc = auth(s, o, &line, &rep, r);
	if (line.p)
		sodium_memzero(line.p, line.cap);
	buf_free(&line);
	sess_step(s, SMTP_STEP_AUTH, t0, rc == 0, rc == 0 ? rep.code : r->code);
	return rc;
}
