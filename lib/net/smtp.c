/* The SMTP client session: open (greeting, EHLO, STARTTLS, AUTH), NOOP,
 * close, and what a caller may ask of an open session. See smtp.h for
 * the contract; the I/O is in smtp_io.c, the connect in smtp_connect.c,
 * AUTH in smtp_auth.c, the transaction in smtp_send.c. */
#include "net/smtp_session.h"
#include "base/diag.h"
#include "net/tls.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int tmo(int v, int def)
{
	return v > 0 ? v : def;
}

static void timeouts_default(struct smtp_timeouts *t, const struct smtp_timeouts *in)
{
	t->connect = tmo(in->connect, 30000);
	t->greeting = tmo(in->greeting, 300000);
	t->ehlo = tmo(in->ehlo, 300000);
	t->starttls = tmo(in->starttls, 120000);
	t->tls = tmo(in->tls, 60000);
	t->auth = tmo(in->auth, 120000);
	t->mail = tmo(in->mail, 300000);
	t->rcpt = tmo(in->rcpt, 300000);
	t->data_init = tmo(in->data_init, 120000);
	t->data_block = tmo(in->data_block, 180000);
	t->dot = tmo(in->dot, 600000);
	t->rset = tmo(in->rset, 120000);
	t->quit = tmo(in->quit, 5000);
	t->reply_max = in->reply_max > 0 ? in->reply_max : 0;
	t->session = in->session > 0 ? in->session : 0;
}

/* ------------------------------------------------------------------ EHLO */

static void ehlo_line(void *arg, const char *t, size_t n)
{
	struct smtp_session *s = arg;
	char w[64];
	size_t i, k;
	if (!s->npeer[0]) {
		/* first line: the server's name */
		for (i = 0; i < n && t[i] != ' '; i++)
			;
		safe_text(s->npeer, sizeof s->npeer, t, i);
		if (!s->npeer[0])
			snprintf(s->npeer, sizeof s->npeer, "?");
		return;
	}
	for (i = 0; i < n && t[i] != ' ' && t[i] != '=' && i + 1 < sizeof w; i++)
		w[i] = t[i];
	w[i] = 0;
	if (!strcasecmp(w, "PIPELINING"))
		s->ncaps |= SMTP_CAP_PIPELINING;
	else if (!strcasecmp(w, "8BITMIME"))
		s->ncaps |= SMTP_CAP_8BITMIME;
	else if (!strcasecmp(w, "SMTPUTF8"))
		s->ncaps |= SMTP_CAP_SMTPUTF8;
	else if (!strcasecmp(w, "STARTTLS"))
		s->ncaps |= SMTP_CAP_STARTTLS;
	else if (!strcasecmp(w, "DSN"))   /* dsn: RFC 3461 (smtp_send_dsn) */
		s->ncaps |= SMTP_CAP_DSN;
	else if (!strcasecmp(w, "REQUIRETLS"))   /* requiretls (issue 15) */
		s->ncaps |= SMTP_CAP_REQUIRETLS;
	else if (!strcasecmp(w, "SIZE")) {
		unsigned long v = 0;
		s->ncaps |= SMTP_CAP_SIZE;
		for (k = i; k < n && t[k] == ' '; k++)
			;
		for (; k < n && t[k] >= '0' && t[k] <= '9'; k++) {
			if (v > (ULONG_MAX - 9) / 10) {
				v = 0; /* absurd: treat as no limit */
				break;
			}
			v = v * 10 + (unsigned long)(t[k] - '0');
		}
		s->nsize = v;
	} else if (!strcasecmp(w, "AUTH")) {
		/* "AUTH PLAIN LOGIN" or the old "AUTH=PLAIN LOGIN" */
		k = i + 1;
		while (k < n) {
			size_t st = k, l;
			while (k < n && t[k] != ' ')
				k++;
			l = k - st;
			if (l == 5 && !strncasecmp(t + st, "PLAIN", 5))
				s->ncaps |= SMTP_CAP_AUTH_PLAIN;
			if (l == 5 && !strncasecmp(t + st, "LOGIN", 5))
				s->ncaps |= SMTP_CAP_AUTH_LOGIN;
			k++;
		}
	}
}

/* EHLO, or HELO when EHLO gets 5xx. Capabilities replace the old ones.
 * 0, or -1 with r filled. */
static int ehlo_exchange(struct smtp_session *s, struct smtp_reply *rep, struct smtp_result *r)
{
	char line[300];
	rep->on_line = ehlo_line;
	rep->arg = s;
	s->ncaps = 0;
	s->nsize = 0;
	s->npeer[0] = 0;
	snprintf(line, sizeof line, "EHLO %s", s->helo);
	if (sess_command(s, "ehlo", line, s->to.ehlo, rep, r) < 0)
		return -1;
	if (rep->code / 100 == 2) {
		s->caps = s->ncaps | SMTP_CAP_ESMTP;
		s->size_max = s->nsize;
		memcpy(s->peer_name, s->npeer, sizeof s->peer_name);
		return 0;
	}
	if (rep->code / 100 != 5 || rep->code == 421) {
		sess_res_reply(r, "ehlo", rep);
		r->member_fault = r->temp = 1;
		return -1;
	}
	snprintf(line, sizeof line, "HELO %s", s->helo);
	s->npeer[0] = 0;
	if (sess_command(s, "ehlo", line, s->to.ehlo, rep, r) < 0)
		return -1;
	if (rep->code / 100 != 2) {
		sess_res_reply(r, "ehlo", rep);
		r->member_fault = r->temp = 1;
		return -1;
	}
	s->caps = 0;
	s->size_max = 0;
	memcpy(s->peer_name, s->npeer, sizeof s->peer_name);
	return 0;
}

static int ehlo(struct smtp_session *s, struct smtp_result *r)
{
	struct smtp_reply rep;
	int64_t t0 = sess_now();
	int rc = ehlo_exchange(s, &rep, r);
	sess_step(s, SMTP_STEP_EHLO, t0, rc == 0, rc == 0 ? rep.code : r->code);
	return rc;
}

/* ------------------------------------------------------------------- TLS */

static int handshake_failed(struct smtp_session *s, int64_t t0)
{
	s->broken = 1;
	sess_step(s, SMTP_STEP_TLS, t0, 0, 0);
	return -1;
}

static int handshake(struct smtp_session *s, const struct smtp_opts *o, enum conf_tls_mode policy,
	struct smtp_result *r)
{
	char err[300] = "";
	const char *name = o->tls_name && *o->tls_name ? o->tls_name : o->host;
	char nb[256];
	int64_t t0 = sess_now(), deadline = sess_until(s, s->to.tls);
	size_t n = strlen(name);
	/* "[1.2.3.4]" names the address 1.2.3.4 */
	if (n >= 2 && n < sizeof nb && name[0] == '[' && name[n - 1] == ']') {
		memcpy(nb, name + 1, n - 2);
		nb[n - 2] = 0;
		name = nb;
	}
	s->fail = SMTP_END_ERROR;
	if (tls_new(&s->tls, s->fd, policy, o->ca_file, name, err, sizeof err) < 0 ||
	    (o->dane && tls_dane(s->tls, name, o->dane, err, sizeof err) < 0)) {
		sess_res_set(r, "tls", 0, "", 1, 1, "%s", err);
		return handshake_failed(s, t0);
	}
	for (;;) {
		int rc = tls_handshake(s->tls, err, sizeof err);
		if (rc == TLS_OK && o->dane && tls_dane_authority(s->tls, NULL) < 0) {
			/* cannot happen with SSL_VERIFY_PEER; never trust it did not */
			sess_res_set(r, "tls", 0, "", 1, 1, "peer not authenticated by its TLSA records");
			return handshake_failed(s, t0);
		}
		if (rc == TLS_OK) {
			sess_step(s, SMTP_STEP_TLS, t0, 1, 0);
			return 0;
		}
		if (rc == TLS_ERR || rc == TLS_EOF) {
			sess_res_set(r, "tls", 0, "", 1, 1, "%s", err[0] ? err : "TLS handshake failed");
			return handshake_failed(s, t0);
		}
		if (sess_wait(s->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT, deadline) < 0) {
			if (errno == ETIMEDOUT)
				s->fail = SMTP_END_TIMEOUT;
			sess_res_set(r, "tls", 0, "", 1, 1, "TLS handshake %s",
				errno == ETIMEDOUT ? "timed out" : strerror(errno));
			return handshake_failed(s, t0);
		}
	}
}

/* STARTTLS per policy (not none), the handshake and EHLO again. 0, or
 * -1 with r filled. */
static int starttls(struct smtp_session *s, const struct smtp_opts *o, enum conf_tls_mode policy,
	struct smtp_result *r)
{
	struct smtp_reply rep;
	int64_t t0 = sess_now();
	rep.on_line = NULL;
	rep.arg = NULL;
	if (!(s->caps & SMTP_CAP_STARTTLS)) {
		if (policy == CONF_TLS_MAY)
			return 0;
		sess_res_set(r, "starttls", 0, "", 1, 1, "TLS required but STARTTLS not offered");
		return -1;
	}
	if (sess_command(s, "starttls", "STARTTLS", s->to.starttls, &rep, r) < 0) {
		sess_step(s, SMTP_STEP_STARTTLS, t0, 0, 0);
		return -1;
	}
	sess_step(s, SMTP_STEP_STARTTLS, t0, rep.code == 220, rep.code);
	if (rep.code != 220) {
		if (policy == CONF_TLS_MAY && rep.code != 421)
			return 0; /* may: nothing negotiated yet, go on in plaintext */
		sess_res_reply(r, "starttls", &rep);
		r->member_fault = r->temp = 1;
		return -1;
	}
	/* Plaintext after the 220 is an injection (CVE-2011-0411): drop it
	 * before the handshake. */
	s->rpos = s->rlen = 0;
	if (handshake(s, o, policy, r) < 0)
		return -1;
	s->caps = 0;
	s->size_max = 0;
	return ehlo(s, r);
}

/* ------------------------------------------------------------------ open */

int smtp_open(struct smtp_session **sp, const struct smtp_opts *o, struct smtp_result *r)
{
	struct smtp_session *s;
	struct smtp_reply rep;
	int port = o->port > 0 ? o->port : (o->implicit_tls ? 465 : 25);
	enum conf_tls_mode policy = o->tls;
	int64_t t0;

	*sp = NULL;
	memset(r, 0, sizeof *r);
	if (!o->host) {
		sess_res_set(r, "connect", 0, "", 1, 1, "no host");
		return -1;
	}
	/* dane and dane-only are made concrete by the caller for each host
	 * (o->dane set: TLS required and authenticated by TLSA records);
	 * left as they are (relay-health's probes), they mean may and
	 * encrypt: never weaker than what they ask without TLSA records */
	if (o->dane || policy == CONF_TLS_DANE_ONLY)
		policy = CONF_TLS_ENCRYPT;
	else if (policy == CONF_TLS_DANE)
		policy = CONF_TLS_MAY;
	if (o->implicit_tls && policy < CONF_TLS_ENCRYPT)
		policy = CONF_TLS_ENCRYPT;
	s = calloc(1, sizeof *s);
	if (!s) {
		sess_res_set(r, "connect", 0, "", 1, 0, "out of memory");
		return -1;
	}
	s->fd = -1;
	timeouts_default(&s->to, &o->to);
	s->end = s->to.session ? sess_now() + s->to.session : 0;
	s->on_step = o->on_step;
	s->step_arg = o->step_arg;
	s->fail = SMTP_END_ERROR;
	snprintf(s->helo, sizeof s->helo, "%s", o->helo && *o->helo ? o->helo : "localhost");
	if (strpbrk(s->helo, " \r\n\t")) {
		free(s);
		sess_res_set(r, "connect", 0, "", 1, 0, "bad helo name");
		return -1;
	}
	if (sess_connect(s, o, port, r) < 0)
		goto fail;
	rep.on_line = NULL;
	rep.arg = NULL;
	if (o->implicit_tls && handshake(s, o, policy, r) < 0)
		goto fail;
	t0 = sess_now();
	if (sess_read_reply(s, "greeting", s->to.greeting, &rep, r) < 0) {
		sess_step(s, SMTP_STEP_GREETING, t0, 0, 0);
		goto fail;
	}
	sess_step(s, SMTP_STEP_GREETING, t0, rep.code == 220, rep.code);
	if (rep.code != 220) {
		/* 421, 554 or anything else: this member cannot take mail now */
		sess_res_reply(r, "greeting", &rep);
		r->member_fault = r->temp = 1;
		goto fail;
	}
	if (ehlo(s, r) < 0)
		goto fail;
	if (!s->tls && policy != CONF_TLS_NONE && starttls(s, o, policy, r) < 0)
		goto fail;
	if (o->auth_user && sess_auth(s, o, r) < 0)
		goto fail;
	if (sess_check_quiet(s, "ehlo", r) < 0)
		goto fail;
	*sp = s;
	return 0;
fail:
	smtp_close(s);
	return -1;
}

/* ------------------------------------------------------- NOOP and close */

int smtp_noop(struct smtp_session *s, struct smtp_result *r)
{
	struct smtp_reply rep;
	int64_t t0 = sess_now();
	rep.on_line = NULL;
	rep.arg = NULL;
	if (sess_command(s, "noop", "NOOP", s->to.rset, &rep, r) < 0) {
		sess_step(s, SMTP_STEP_NOOP, t0, 0, 0);
		return -1;
	}
	sess_step(s, SMTP_STEP_NOOP, t0, rep.code / 100 == 2, rep.code);
	sess_res_reply(r, "noop", &rep);
	if (rep.code / 100 != 2) {
		r->member_fault = r->temp = 1;
		if (rep.code == 421)
			s->broken = 1;
		return -1;
	}
	return 0;
}

void smtp_close(struct smtp_session *s)
{
	if (!s)
		return;
	if (s->fd >= 0 && !s->broken) {
		struct smtp_reply rep;
		struct smtp_result r;
		int64_t t0 = sess_now();
		rep.on_line = NULL;
		rep.arg = NULL;
		/* the QUIT reply does not matter (delivery is decided by the dot reply) */
		if (sess_send_cmd(s, "quit", "QUIT", s->to.quit, &r) == 0 &&
		    sess_read_reply(s, "quit", s->to.quit, &rep, &r) == 0)
			sess_step(s, SMTP_STEP_QUIT, t0, rep.code / 100 == 2, rep.code);
		else
			sess_step(s, SMTP_STEP_QUIT, t0, 0, 0);
	}
	if (s->tls)
		tls_free(s->tls);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

/* -------------------------------------------------------------- queries */

const char *smtp_tls_version(struct smtp_session *s)
{
	return s && s->tls ? tls_version(s->tls) : NULL;
}

int smtp_tls_not_after(struct smtp_session *s, time_t *when)
{
	return s && s->tls ? tls_not_after(s->tls, when) : 0;
}

const char *smtp_peer(struct smtp_session *s)
{
	return s->peer;
}

const char *smtp_peer_name(struct smtp_session *s)
{
	return s->peer_name;
}

unsigned smtp_caps(struct smtp_session *s)
{
	return s->caps;
}

unsigned long smtp_size_limit(struct smtp_session *s)
{
	return s->size_max;
}
