/* One health probe through the one SMTP client (net/smtp.h): the
 * session's step hook times each step, and its result becomes the
 * probe's verdict. See probe.h. */
#include "health/probe.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/diag.h"
#include "net/smtp.h"

const char *const probe_step_names[PROBE_NSTEPS] = {
	"connect", "banner", "ehlo", "tls", "auth", "mail", "send"
};

#define PROBE_DEADLINE_DEFAULT 20000 /* ms */
#define PROBE_QUIT_MS 2000           /* the QUIT reply is waited for at most this */

/* What the step hook gathers. Each session step counts in one probe
 * step: the greeting (and, with smtps, the handshake before it) in
 * banner; STARTTLS, its handshake and the second EHLO in tls; once the
 * session is open, everything in the phase under way (mail or send). */
struct probe_run {
	struct probe_result *r;
	int opened;          /* smtp_open returned: steps count in phase */
	int phase;           /* PROBE_MAIL or PROBE_SEND */
	int greeted, starttls;
	long ms[PROBE_NSTEPS];
	int ran[PROBE_NSTEPS];
	enum smtp_step_end last_end; /* how the last step ended */
	int last_pe;                 /* and why, when its reply was malformed */
};

static void fail(struct probe_result *r, const char *stage, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(struct probe_result *r, const char *stage, int code, const char *fmt, ...)
{
	va_list ap;
	char raw[512];
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	r->ok = 0;
	snprintf(r->stage, sizeof r->stage, "%s", stage);
	r->code = code;
	safe_text(r->reason, sizeof r->reason, raw, strlen(raw));
}

/* The probe step a session step (or a failure's stage) counts in. */
static int step_of(const struct probe_run *p, enum smtp_step_id id)
{
	if (p->opened)
		return p->phase;
	switch (id) {
	case SMTP_STEP_CONNECT:
		return PROBE_CONNECT;
	case SMTP_STEP_GREETING:
		return PROBE_BANNER;
	case SMTP_STEP_TLS:
		return p->greeted ? PROBE_TLS : PROBE_BANNER;
	case SMTP_STEP_STARTTLS:
		return PROBE_TLS;
	case SMTP_STEP_EHLO:
		return p->starttls ? PROBE_TLS : PROBE_EHLO;
	default:
		return PROBE_AUTH;
	}
}

static enum smtp_step_id stage_step(const char *stage)
{
	static const enum smtp_step_id ids[] = {
		SMTP_STEP_CONNECT, SMTP_STEP_GREETING, SMTP_STEP_TLS, SMTP_STEP_STARTTLS, SMTP_STEP_EHLO
	};
	size_t i;
	for (i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (!strcmp(stage, smtp_step_name(ids[i])))
			return ids[i];
	return SMTP_STEP_AUTH;
}

static void on_step(void *arg, struct smtp_session *s, const struct smtp_step *st)
{
	struct probe_run *p = arg;
	time_t na;
	int k;
	if (st->id == SMTP_STEP_QUIT)
		return; /* not a verdict, not timed */
	k = step_of(p, st->id);
	if (st->id == SMTP_STEP_GREETING)
		p->greeted = 1;
	if (st->id == SMTP_STEP_STARTTLS)
		p->starttls = 1;
	p->ms[k] += st->ms;
	p->ran[k] = 1;
	p->last_end = st->end;
	p->last_pe = st->pe;
	if (st->id == SMTP_STEP_TLS && st->end == SMTP_END_OK) {
		const char *v = smtp_tls_version(s);
		snprintf(p->r->tls_version, sizeof p->r->tls_version, "%s", v ? v : "");
		if (smtp_tls_not_after(s, &na)) {
			p->r->have_cert = 1;
			p->r->not_after = (long long)na;
		}
	}
}

/* The session failed with sr: the probe's verdict, and the time of
 * every step that passed (not the one that failed). */
static void failed(struct probe_run *p, const struct smtp_result *sr)
{
	int k = step_of(p, stage_step(sr->stage)), i;
	const char *stage = sr->stage; /* the session's name, but: */
	if (p->opened && p->phase == PROBE_SEND)
		stage = "send";   /* the test message is one step */
	else if (!p->opened && !strcmp(stage, "greeting"))
		stage = "banner";
	if (p->last_end == SMTP_END_TIMEOUT)
		fail(p->r, "timeout", 0, "timed out in %s", stage);
	else if (p->last_end == SMTP_END_CLOSED)
		fail(p->r, stage, 0, "read: connection closed");
	else if (p->last_end == SMTP_END_MALFORMED)
		fail(p->r, stage, 0, "malformed reply: %s", smtp_parse_error(p->last_pe));
	else if (sr->code)
		fail(p->r, stage, sr->code, "%d %s", sr->code, sr->text);
	else
		fail(p->r, stage, 0, "%s", sr->text);
	for (i = 0; i < PROBE_NSTEPS; i++)
		if (p->ran[i] && i != k)
			p->r->ms[i] = p->ms[i];
}

/* The test message through the session: 0, or -1 with sr the outcome
 * that failed it. */
static int send_test(struct smtp_session *s, struct probe_run *p, const struct probe_opts *o,
	struct smtp_result *sr)
{
	struct buf msg = BUF_INIT;
	struct smtp_result rr;
	const char *to[1] = { o->send_to };
	char date[64];
	time_t t = time(NULL);
	struct tm tm;
	int rc;
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_printf(&msg, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\nSubject: relay-health test through %s:%u\r\n"
	           "Auto-Submitted: auto-generated\r\n\r\nrelay-health sent this test message through %s port %u.\r\n",
	           o->send_from, o->send_to, date, o->host, o->port, o->host, o->port);
	if (!msg.p) {
		memset(sr, 0, sizeof *sr);
		snprintf(sr->stage, sizeof sr->stage, "send");
		snprintf(sr->text, sizeof sr->text, "out of memory");
		return -1;
	}
	rc = smtp_send(s, o->send_from, to, 1, msg.p, msg.len, 0, 0, &rr, sr);
	buf_free(&msg);
	if (!strcmp(sr->stage, "dot") && sr->code && !sr->possible_dup) {
		p->r->send_code = sr->code;
		safe_text(p->r->send_text, sizeof p->r->send_text, sr->text, strlen(sr->text));
	}
	if (rr.code / 100 != 2)
		*sr = rr; /* the outcome for the recipient (smtp.h) */
	return rc < 0 || sr->code / 100 != 2 ? -1 : 0;
}

static int bad_address(const char *a)
{
	return strpbrk(a, "\r\n<> ") || strlen(a) > 254;
}

int probe_run(const struct probe_opts *o, struct probe_result *r)
{
	struct probe_run p;
	struct smtp_opts so;
	struct smtp_session *s = NULL;
	struct smtp_result sr;
	int deadline = o->deadline_ms > 0 ? o->deadline_ms : PROBE_DEADLINE_DEFAULT, i, rc = -1;

	memset(r, 0, sizeof *r);
	for (i = 0; i < PROBE_NSTEPS; i++)
		r->ms[i] = -1;
	memset(&p, 0, sizeof p);
	p.r = r;
	if (o->send_to && (bad_address(o->send_to) || bad_address(o->send_from))) {
		fail(r, "send", 0, "bad test address");
		return -1;
	}

	memset(&so, 0, sizeof so);
	so.host = o->host;
	so.port = (int)o->port;
	so.helo = o->helo;
	so.tls = o->tls;
	so.implicit_tls = o->implicit_tls;
	so.ca_file = o->ca_file;
	so.auth_user = o->user && *o->user ? o->user : NULL;
	so.auth_pass = so.auth_user ? o->pass : NULL;
	so.auth_plaintext_ok = o->auth_plaintext_ok;
	/* one deadline for every step: each stage may take all that is left */
	so.to.connect = so.to.greeting = so.to.ehlo = so.to.starttls = so.to.tls = deadline;
	so.to.auth = so.to.mail = so.to.rcpt = so.to.data_init = so.to.data_block = deadline;
	so.to.dot = so.to.rset = deadline;
	so.to.quit = deadline < PROBE_QUIT_MS ? deadline : PROBE_QUIT_MS;
	so.to.session = deadline;
	so.on_step = on_step;
	so.step_arg = &p;

	if (smtp_open(&s, &so, &sr) < 0) {
		failed(&p, &sr);
		return -1;
	}
	p.opened = 1;
	p.phase = PROBE_MAIL;
	if (smtp_try_mail(s, "", &sr) < 0) {
		failed(&p, &sr);
		goto out;
	}
	if (o->send_to) {
		p.phase = PROBE_SEND;
		if (send_test(s, &p, o, &sr) < 0) {
			failed(&p, &sr);
			goto out;
		}
	}
	for (i = 0; i < PROBE_NSTEPS; i++)
		if (p.ran[i])
			r->ms[i] = p.ms[i];
	r->ok = 1;
	snprintf(r->reason, sizeof r->reason, "ok");
	rc = 0;
out:
	smtp_close(s); /* QUIT, within PROBE_QUIT_MS and the deadline */
	return rc;
}
