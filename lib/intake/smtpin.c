/* The SMTP intake (intake/smtpin.h). */
#include "intake/smtpin.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/diag.h"
#include "conf/settings.h"
#include "intake/addr.h"
#include "intake/complete.h"
#include "intake/fromcheck.h"
#include "intake/msg.h"

int smtpin_commit_mode(const char *home)
{
	struct buf v = BUF_INIT;
	int r, session;
	if (!submit_session_possible())
		return 0;   /* a filter: it speaks qmail-queue, one message a run */
	r = conf_setting_value(home, "smtpd_commit", &v);
	/* unset or "session": the session; "exec", or a settings file that
	 * cannot be read: one run per message, the mode that needs nothing new */
	session = r == 0 || (r > 0 && strcmp(v.p, "session") == 0);
	buf_free(&v);
	return session;
}

void smtpin_init(struct smtpin *in, const char *home, const char *host,
                 unsigned long long maxsize)
{
	memset(in, 0, sizeof *in);
	in->home = home;
	in->host = host;
	in->maxsize = maxsize;
	envelope_init(&in->e, host);
	submit_session_init(&in->ss);
	in->session = smtpin_commit_mode(home);
}

void smtpin_reset(struct smtpin *in)
{
	envelope_free(&in->e);
	envelope_init(&in->e, in->host);
	in->in_txn = 0;
}

void smtpin_free(struct smtpin *in)
{
	submit_session_end(&in->ss);
	envelope_free(&in->e);
}

static int rep(char *r, size_t cap, int code, const char *fmt, const char *arg)
{
	snprintf(r, cap, fmt, arg);
	return code;
}

int smtpin_mail(struct smtpin *in, const char *path, int smtputf8, char *r, size_t cap)
{
	char err[512], given[ADDR_PATH_MAX + 3];
	smtpin_reset(in);
	if (!smtputf8 && addr_is_utf8(path, strlen(path)))
		return rep(r, cap, 553, "5.6.7 a UTF-8 address needs the SMTPUTF8 parameter%s", "");
	snprintf(given, sizeof given, "<%s>", path);
	if (envelope_sender(&in->e, given, NULL, err, sizeof err) != 0)
		return rep(r, cap, 553, "5.1.7 %s", err);
	if (in->account && !conf_user_from_ok(in->account, in->e.sender))
		return rep(r, cap, 553, "5.7.1 you may not send as <%s>", in->e.sender);
	in->in_txn = 1;
	return rep(r, cap, 250, "2.1.0 ok%s", "");
}

int smtpin_rcpt(struct smtpin *in, const char *path, int smtputf8, char *r, size_t cap)
{
	char err[512], given[ADDR_PATH_MAX + 3], bare[ADDR_PATH_MAX + 1];
	const char *why;
	int l;
	if (!smtputf8 && addr_is_utf8(path, strlen(path)))
		return rep(r, cap, 553, "5.6.7 a UTF-8 address needs the SMTPUTF8 parameter%s", "");
	l = addr_strip(path, strlen(path), bare, sizeof bare);
	if (l <= 0 || addr_check(bare, (size_t)l, ADDR_ALLOW_NODOMAIN, &why) != ADDR_OK)
		return rep(r, cap, 553, "5.1.3 bad recipient address%s", "");
	if (!addr_domain(bare) && strcasecmp(bare, "postmaster") != 0)
		return rep(r, cap, 553, "5.1.3 a recipient needs a domain%s", "");
	snprintf(given, sizeof given, "<%s>", bare);
	if (envelope_rcpt_arg(&in->e, given, err, sizeof err) != 0)
		return rep(r, cap, 553, "5.1.3 %s", err);
	return rep(r, cap, 250, "2.1.5 ok%s", "");
}

/* Client text in a Received: line: letters, digits and . - : [ ] _ only. */
static void clean(char *out, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s && *s && i + 1 < cap && i < 64; s++) {
		char c = *s;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		         strchr(".-:[]_", c);
		out[i++] = ok ? c : '_';
	}
	out[i] = 0;
	if (!i)
		snprintf(out, cap, "unknown");
}

void smtpin_received(const struct smtpin_trace *t, const char *host, char *out, size_t cap)
{
	char helo[80], client[80], user[80], tls[200] = "";
	clean(helo, sizeof helo, t->helo);
	clean(client, sizeof client, t->client);
	clean(user, sizeof user, t->user);
	if (t->tls_version)
		snprintf(tls, sizeof tls, "\r\n\t(%s cipher %s)", t->tls_version,
		         t->tls_cipher ? t->tls_cipher : "unknown");
	snprintf(out, cap, "from %s (%s)\r\n\tby %s (relay-smtpd) with %s%s%s%s%s%s", helo,
	         strcmp(client, "local") == 0 ? "local" : client, host,
	         t->esmtp ? "ESMTP" : "SMTP", t->tls_version ? "S" : "", t->user ? "A" : "", tls,
	         t->user && !t->hide_user ? "\r\n\t(authenticated user " : "",
	         t->user && !t->hide_user ? user : "");
	if (t->user && !t->hide_user && strlen(out) + 2 < cap)
		strcat(out, ")");
}

/* the From: check: intake/fromcheck.c (shared with relay-httpd) */

int smtpin_data(struct smtpin *in, const struct smtpin_trace *t, const char *msg, size_t n,
                char *r, size_t cap)
{
	struct buf m = BUF_INIT, out = BUF_INIT, env = BUF_INIT;
	struct msg_headers h = {0};
	struct complete c;
	struct submit s;
	char err[512], trace[900], who[ADDR_PATH_MAX + 1];
	int st, code;

	if ((st = complete_parse(msg, n, 0, &m, &h, err, sizeof err)) != 0 ||
	    (st = complete_one_from(m.p, &h, err, sizeof err)) != 0) {
		code = st == EXIT_TEMP ? 451 : 554;
		snprintf(r, cap, "%s %s", code == 451 ? "4.3.0" : "5.6.0", err);
		goto out;
	}
	if (in->account && !from_header_ok(in->account, m.p, &h, who, sizeof who)) {
		code = 550;
		snprintf(r, cap, "5.7.1 From: %s is not an address you may send as", who);
		goto out;
	}
	if (in->account && in->account->class[0])
		in->e.class = in->account->class;
	if ((st = envelope_header(&in->e, m.p, &h, 0, err, sizeof err)) != 0 ||
	    (st = envelope_class_check(&in->e, err, sizeof err)) != 0) {
		code = st == EXIT_TEMP ? 451 : 554;
		snprintf(r, cap, "%s %s", code == 451 ? "4.3.0" : "5.6.0", err);
		goto out;
	}
	smtpin_received(t, in->host, trace, sizeof trace);
	c = (struct complete){ .host = in->host, .sender = in->e.sender, .fullname = NULL,
	                       .trace = trace, .now = (long long)time(NULL),
	                       .maxsize = in->maxsize };
	if ((st = complete_message(&c, m.p, m.len, &h, &out, err, sizeof err)) != 0) {
		code = st == EXIT_TEMP ? 451 : 552;
		snprintf(r, cap, "%s %s", code == 451 ? "4.3.0" : "5.3.4", err);
		goto out;
	}
	if (envelope_records(&in->e, &env) < 0) {
		code = 451;
		snprintf(r, cap, "4.3.0 out of memory");
		goto out;
	}
	st = in->session ? submit_session(&in->ss, &s, out.p, out.len, env.p, env.len)
	                 : submit(&s, out.p, out.len, env.p, env.len, 1);
	if (st == 0) {
		snprintf(in->id, sizeof in->id, "%s", s.id);
		code = 250;
		snprintf(r, cap, "2.0.0 ok: queued as %s", s.id[0] ? s.id : "(no id)");
	} else {
		submit_describe(&s, err, sizeof err);
		warn_("%s", err);
		code = st == EXIT_TEMP ? 451 : 554;
		/* the details (paths, exit codes) are for the log only */
		snprintf(r, cap, "%s", code == 451 ? "4.3.0 temporary queue failure, try again later" :
		         "5.3.0 the queue refused the message");
	}
out:
	msg_headers_free(&h);
	buf_free(&m);
	buf_free(&out);
	buf_free(&env);
	return code;
}
