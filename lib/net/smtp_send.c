/* The SMTP client's transaction: MAIL, RCPT (pipelined when offered),
 * DATA and the dot (dot.h encodes), RSET; and relay-health's MAIL
 * FROM:<> then RSET. See smtp.h for the contract. */
#include "net/smtp_session.h"
#include "base/buf.h"

#include <stdio.h>
#include <string.h>

static int addr_ok(const char *a)
{
	size_t n = strlen(a), i;
	if (n > ADDR_PATH_MAX - 2)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		if (c < 0x21 || c == 0x7f || c == '<' || c == '>')
			return 0;
	}
	return 1;
}

static int has_8bit(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

static void fill_all(struct smtp_result *res, size_t n, const struct smtp_result *r)
{
	size_t i;
	for (i = 0; i < n; i++)
		res[i] = *r;
}

static void local_refusal(struct smtp_result *r, int code, const char *enh, const char *fmt, const char *a)
{
	sess_res_set(r, "mail", code, enh, 0, 0, fmt, a);
	r->local = 1;
}

/* After the dot: a lost connection or a timeout may hide a delivery. */
static void dup_risk(struct smtp_result *r, const struct smtp_result *why)
{
	char t[512];
	snprintf(t, sizeof t, "%s", why->text);
	sess_res_set(r, "dot", 451, "4.4.2", 1, 1, "%s after data, possible duplicate (%s)",
		strstr(t, "timeout") || strstr(t, "deadline") ? "timeout" : "connection lost", t);
	r->possible_dup = 1;
}

int sess_rset(struct smtp_session *s, struct smtp_result *r)
{
	struct smtp_reply rep;
	struct smtp_result tmp;
	int64_t t = sess_now();
	if (!r)
		r = &tmp;
	rep.on_line = NULL;
	rep.arg = NULL;
	if (sess_command(s, "rset", "RSET", s->to.rset, &rep, r) < 0) {
		sess_step(s, SMTP_STEP_RSET, t, 0, 0);
		s->broken = 1;
		return -1;
	}
	sess_step(s, SMTP_STEP_RSET, t, rep.code / 100 == 2, rep.code);
	sess_res_reply(r, "rset", &rep);
	if (rep.code / 100 != 2) {
		r->member_fault = r->temp = 1;
		s->broken = 1;
		return -1;
	}
	return 0;
}

/* The refusals made here without asking the server: 1 and r filled
 * (local=1), or 0. */
static int refuse_locally(struct smtp_session *s, const char *from, const char *const *rcpt,
	size_t n, size_t len, int eightbit, int smtputf8, struct smtp_result *r)
{
	size_t i;
	r->code = 0;
	if (!addr_ok(from))
		local_refusal(r, 553, "5.1.7", "sender address %s cannot be sent", "unusable");
	for (i = 0; i < n && !r->code; i++)
		if (!addr_ok(rcpt[i]))
			local_refusal(r, 553, "5.1.3", "recipient address %s cannot be sent", "unusable");
	if (!r->code && smtputf8 && !(s->caps & SMTP_CAP_SMTPUTF8))
		local_refusal(r, 553, "5.6.7", "%s", "SMTPUTF8 needed but not offered by the server");
	if (!r->code && eightbit && !(s->caps & SMTP_CAP_8BITMIME))
		local_refusal(r, 554, "5.6.3", "%s", "8-bit message but 8BITMIME not offered by the server");
	if (!r->code && s->size_max && len > s->size_max)
		local_refusal(r, 552, "5.3.4", "%s", "message larger than the server's SIZE limit");
	return r->code != 0;
}

/* MAIL and the RCPTs: with PIPELINING in groups of about 4 KB (so that
 * neither side blocks writing while the other writes), else one by one.
 * Fills rcpt_res, sets *mail_ok and *accepted. 0, or -1 with r filled
 * (the session is dead). */
/* A DSN parameter value that may go on the wire: present, "!".."~". */
static int dsn_val(const char *v)
{
	if (!v || !*v)
		return 0;
	for (; *v; v++)
		if ((unsigned char)*v < 0x21 || (unsigned char)*v > 0x7e)
			return 0;
	return 1;
}

/* " NAME=value" after a command, when the value may be sent. */
static int dsn_param(char *line, size_t cap, int k, const char *name, const char *v)
{
	if (!dsn_val(v) || k < 0 || (size_t)k >= cap)
		return k;
	return k + snprintf(line + k, cap - (size_t)k, " %s=%s", name, v);
}

static int envelope(struct smtp_session *s, const char *from, const char *const *rcpt, size_t n,
	size_t len, int eightbit, int smtputf8, const struct smtp_dsn *dsn, struct smtp_result *rcpt_res,
	int *mail_ok, size_t *accepted, struct smtp_result *r)
{
	struct smtp_reply rep;
	struct buf cmds = BUF_INIT;
	char line[1400], err[256];
	size_t i, sent = 0, replied = 0;
	int pipelining = (s->caps & SMTP_CAP_PIPELINING) != 0;
	enum smtp_step_id step = SMTP_STEP_MAIL;
	int64_t t = sess_now();

	rep.on_line = NULL;
	rep.arg = NULL;
	*mail_ok = 0;
	*accepted = 0;
	if (sess_check_quiet(s, "mail", r) < 0)
		goto dead;
	for (i = 0; i <= n; i++) {
		if (i == 0) {
			int k = snprintf(line, sizeof line, "MAIL FROM:<%s>", from);
			if (s->caps & SMTP_CAP_SIZE)
				k += snprintf(line + k, sizeof line - (size_t)k, " SIZE=%zu", len);
			if (eightbit && (s->caps & SMTP_CAP_8BITMIME))
				k += snprintf(line + k, sizeof line - (size_t)k, " BODY=8BITMIME");
			if (smtputf8)
				k += snprintf(line + k, sizeof line - (size_t)k, " SMTPUTF8");
			if (dsn) {
				k = dsn_param(line, sizeof line, k, "RET", dsn->ret);
				k = dsn_param(line, sizeof line, k, "ENVID", dsn->envid);
				if (dsn->requiretls && (s->caps & SMTP_CAP_REQUIRETLS) && k >= 0 &&
				    (size_t)k < sizeof line)   /* requiretls */
					snprintf(line + k, sizeof line - (size_t)k, " REQUIRETLS");
			}
		} else {
			int k = snprintf(line, sizeof line, "RCPT TO:<%s>", rcpt[i - 1]);
			if (dsn && dsn->notify)
				k = dsn_param(line, sizeof line, k, "NOTIFY", dsn->notify[i - 1]);
			if (dsn && dsn->orcpt)
				dsn_param(line, sizeof line, k, "ORCPT", dsn->orcpt[i - 1]);
		}
		if (buf_adds(&cmds, line) < 0 || buf_add(&cmds, "\r\n", 2) < 0) {
			sess_res_set(r, "mail", 0, "", 1, 0, "out of memory");
			goto dead;
		}
		sent++;
		if (pipelining && i < n && cmds.len < 4096)
			continue;
		if (!pipelining && i > 0 && !*mail_ok)
			break; /* MAIL refused: no RCPT */
		step = replied == 0 ? SMTP_STEP_MAIL : SMTP_STEP_RCPT;
		if (sess_write(s, cmds.p, cmds.len, i == 0 ? s->to.mail : s->to.rcpt, err, sizeof err) < 0) {
			sess_res_set(r, i == 0 ? "mail" : "rcpt", 0, "", 1, 1, "write error: %s", err);
			goto dead;
		}
		cmds.len = 0;
		for (; replied < sent; replied++) {
			const char *st = replied == 0 ? "mail" : "rcpt";
			step = replied == 0 ? SMTP_STEP_MAIL : SMTP_STEP_RCPT;
			if (sess_read_reply(s, st, replied == 0 ? s->to.mail : s->to.rcpt, &rep, r) < 0)
				goto dead;
			if (rep.code == 421) {
				sess_res_reply(r, st, &rep);
				goto dead;
			}
			sess_step(s, step, t, rep.code / 100 == 2, rep.code);
			t = sess_now();
			if (replied == 0) {
				*mail_ok = rep.code / 100 == 2;
				if (!*mail_ok) {
					sess_res_reply(r, "mail", &rep);
					fill_all(rcpt_res, n, r);
				}
			} else if (*mail_ok) {
				sess_res_reply(&rcpt_res[replied - 1], "rcpt", &rep);
				if (rep.code / 100 == 2)
					++*accepted;
			}
		}
		if (!pipelining && !*mail_ok)
			break;
	}
	buf_free(&cmds);
	return 0;
dead:
	sess_step(s, step, t, 0, r->code);
	buf_free(&cmds);
	s->broken = 1;
	return -1;
}

/* The message, dot-stuffed, in pieces; then the reply to the dot.
 * 0 with txn the dot reply (the session may go on), -1 (it may not). */
static int data(struct smtp_session *s, const char *msg, size_t len, struct smtp_result *txn)
{
	struct smtp_reply rep;
	struct smtp_result r;
	struct smtp_dot d;
	struct buf out = BUF_INIT;
	size_t off = 0, chunk = 65536;
	char err[256];
	int64_t t = sess_now();

	rep.on_line = NULL;
	rep.arg = NULL;
	smtp_dot_init(&d);
	do {
		size_t k = len - off < chunk ? len - off : chunk;
		out.len = 0;
		if (smtp_dot_add(&d, &out, msg + off, k) < 0 ||
		    (off + k == len && smtp_dot_end(&d, &out) < 0)) {
			buf_free(&out);
			s->broken = 1;
			sess_res_set(txn, "data", 0, "", 1, 0, "out of memory");
			sess_step(s, SMTP_STEP_DOT, t, 0, 0);
			return -1;
		}
		off += k;
		/* No reply may come before the final dot (a "250" right after
		 * the 354 is not the message's fate): before the piece that
		 * ends the data, anything from the server is a protocol error,
		 * temporary, and the dot is never sent. */
		if (off == len && sess_check_quiet(s, "data", &r) < 0) {
			buf_free(&out);
			s->broken = 1;
			*txn = r;
			if (!strstr(txn->text, "protocol error"))
				snprintf(txn->text, sizeof txn->text, "protocol error: %.200s before the end of the data",
				         r.text);
			sess_step(s, SMTP_STEP_DOT, t, 0, 0);
			return -1;
		}
		if (sess_write(s, out.p, out.len, s->to.data_block, err, sizeof err) < 0) {
			buf_free(&out);
			s->broken = 1;
			/* not all data left: the server cannot have the message */
			sess_res_set(txn, "data", 0, "", 1, 1, "connection lost during data: %s", err);
			sess_step(s, SMTP_STEP_DOT, t, 0, 0);
			return -1;
		}
	} while (off < len);
	buf_free(&out);
	if (sess_read_reply(s, "dot", s->to.dot, &rep, &r) < 0) {
		dup_risk(txn, &r);
		sess_step(s, SMTP_STEP_DOT, t, 0, 0);
		return -1;
	}
	sess_step(s, SMTP_STEP_DOT, t, rep.code / 100 == 2, rep.code);
	sess_res_reply(txn, "dot", &rep);
	if (rep.code == 421) {
		s->broken = 1;
		return -1;
	}
	return 0;
}

int smtp_send(struct smtp_session *s, const char *from, const char *const *rcpt, size_t n,
	const char *msg, size_t len, int eightbit, int smtputf8,
	struct smtp_result *rcpt_res, struct smtp_result *txn)
{
	return smtp_send_dsn(s, from, rcpt, n, msg, len, eightbit, smtputf8, NULL, rcpt_res, txn);
}

int smtp_send_dsn(struct smtp_session *s, const char *from, const char *const *rcpt, size_t n,
	const char *msg, size_t len, int eightbit, int smtputf8, const struct smtp_dsn *dsn,
	struct smtp_result *rcpt_res, struct smtp_result *txn)
{
	struct smtp_result r;
	struct smtp_reply rep;
	size_t i, accepted;
	int mail_ok;
	int64_t t;

	rep.on_line = NULL;
	rep.arg = NULL;
	memset(txn, 0, sizeof *txn);
	if (n == 0) {
		sess_res_set(txn, "rcpt", 0, "", 0, 0, "no recipients");
		txn->local = 1;
		return s->broken ? -1 : 0;
	}
	if (s->broken) {
		sess_res_set(&r, "mail", 0, "", 1, 1, "session unusable after an earlier failure");
		fill_all(rcpt_res, n, &r);
		*txn = r;
		return -1;
	}
	/* Local refusals: nothing sent, session stays clean. */
	if (!eightbit)
		eightbit = has_8bit(msg, len);
	if (refuse_locally(s, from, rcpt, n, len, eightbit, smtputf8, &r)) {
		fill_all(rcpt_res, n, &r);
		*txn = r;
		return 0;
	}
	for (i = 0; i < n; i++)
		sess_res_set(&rcpt_res[i], "rcpt", 0, "", 1, 1, "not attempted");

	/* requiretls (issue 15): REQUIRETLS goes on without the DSN parameters */
	struct smtp_dsn rt_only = { NULL, NULL, NULL, NULL, 1 };
	if (!(s->caps & SMTP_CAP_DSN))
		dsn = dsn && dsn->requiretls ? &rt_only : NULL;   /* never to a server that does not offer DSN */
	if (envelope(s, from, rcpt, n, len, eightbit, smtputf8, dsn, rcpt_res, &mail_ok, &accepted, &r) < 0) {
		/* recipients not yet answered, or accepted but never given the data */
		for (i = 0; i < n; i++)
			if (rcpt_res[i].code == 0 || rcpt_res[i].code / 100 == 2)
				rcpt_res[i] = r;
		*txn = r;
		return -1;
	}
	if (!accepted) {
		sess_res_set(txn, mail_ok ? "rcpt" : "mail", 0, "", 0, 0, "no recipients accepted");
		return sess_rset(s, NULL);
	}

	t = sess_now();
	if (sess_command(s, "data", "DATA", s->to.data_init, &rep, &r) < 0) {
		sess_step(s, SMTP_STEP_DATA, t, 0, 0);
		*txn = r;
		s->broken = 1;
		return -1;
	}
	sess_step(s, SMTP_STEP_DATA, t, rep.code == 354, rep.code);
	if (rep.code != 354) {
		sess_res_reply(txn, "data", &rep);
		if (rep.code == 421 || rep.code / 100 == 2 || rep.code / 100 == 3) {
			/* 421, or a reply that makes no sense here */
			if (rep.code != 421) {
				txn->member_fault = txn->temp = 1;
				snprintf(txn->text, sizeof txn->text, "protocol error: unexpected reply %d to DATA", rep.code);
				txn->code = 0;
			}
			s->broken = 1;
			return -1;
		}
		return sess_rset(s, NULL);
	}
	return data(s, msg, len, txn);
}

int smtp_reset(struct smtp_session *s)
{
	if (!s || s->broken)
		return -1;
	return sess_rset(s, NULL);
}

int smtp_try_mail(struct smtp_session *s, const char *from, struct smtp_result *r)
{
	struct smtp_reply rep;
	char line[ADDR_PATH_MAX + 16];
	int64_t t = sess_now();
	rep.on_line = NULL;
	rep.arg = NULL;
	if (!addr_ok(from)) {
		sess_res_set(r, "mail", 0, "", 1, 1, "sender address cannot be sent");
		sess_step(s, SMTP_STEP_MAIL, t, 0, 0);
		return -1;
	}
	snprintf(line, sizeof line, "MAIL FROM:<%s>", from);
	if (sess_command(s, "mail", line, s->to.mail, &rep, r) < 0) {
		sess_step(s, SMTP_STEP_MAIL, t, 0, 0);
		return -1;
	}
	sess_step(s, SMTP_STEP_MAIL, t, rep.code / 100 == 2, rep.code);
	if (rep.code / 100 != 2) {
		sess_res_reply(r, "mail", &rep);
		r->member_fault = r->temp = 1;
		if (rep.code == 421)
			s->broken = 1;
		return -1;
	}
	return sess_rset(s, r);
}
