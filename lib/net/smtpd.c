/* The SMTP server session (net/smtpd.h). */
#include "net/smtpd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "net/smtpd_priv.h"
#include "net/smtpd_state.h"


const char *smtpd_safe(const char *s, char *out, size_t cap)
{
	safe_text(out, cap, s, strlen(s));
	return out;
}

static const char *tls_of(const struct smtpd_session *s)
{
	return s->io->ssl ? s->io->tls_version : "none";
}

/* A reply; 5xx replies count as errors. */
void smtpd_reply(struct smtpd_session *s, int code, const char *text)
{
	smtpd_io_reply(s->io, "%d %s", code, text);
	if (code >= 500)
		s->errors++;
}

/* A transaction that took one of the user's rate= and queued nothing
 * gives it back; a failure to do so is logged (the count stays: more
 * conservative, never less). */
static void rate_giveback(struct smtpd_session *s)
{
	if (!s->rate_held)
		return;
	s->rate_held = 0;
	if (smtpd_rate_take(s->cf->state_dir, s->user, s->account.rate, s->account.rate_per,
	                    time(NULL), -1, s->rate_when) < 0)
		warn_sys("unable to give back a message of user %s's rate in %s", s->user,
		         s->cf->state_dir);
}

void smtpd_reset_txn(struct smtpd_session *s)
{
	rate_giveback(s);
	if (s->state == ST_MAIL)
		s->state = ST_HELO;
	s->sender[0] = 0;
	s->nrcpt = s->rcpt_over = 0;
	s->bdat = 0;
	s->msg.len = 0;
	memset(&s->mail, 0, sizeof s->mail);
	if (s->h->reset)
		s->h->reset(s->h->arg);
}

/* The next command line: 1, 0 end of input, -1 error, -2 timeout. */
int smtpd_read_line(struct smtpd_session *s)
{
	smtpd_line_init(&s->line);
	for (;;) {
		struct smtpd_io *io = s->io;
		if (io->off < io->len) {
			size_t used = 0;
			int done = smtpd_line_feed(&s->line, io->in + io->off, io->len - io->off, &used);
			io->off += used;
			if (done)
				return 1;
			continue;
		}
		int r = smtpd_io_fill(io);
		if (r <= 0)
			return r;
	}
}

void smtpd_set_end(struct smtpd_session *s, int r)
{
	snprintf(s->end, sizeof s->end, "%s",
	         r == 0 ? "eof" : r == -2 ? "timeout" : "read error");
	if (r == -2) {
		smtpd_io_reply(s->io, "421 4.4.2 %s timeout, closing", s->cf->hostname);
		smtpd_io_flush(s->io);
	}
}

static void ehlo(struct smtpd_session *s, const struct smtpd_cmd *c, int esmtp)
{
	const struct smtpd_conf *cf = s->cf;
	int tls = s->io->ssl != NULL;
	safe_text(s->helo, sizeof s->helo, c->arg, strlen(c->arg));
	smtpd_reset_txn(s);
	s->state = ST_HELO;
	s->esmtp = esmtp;
	if (!esmtp) {
		smtpd_io_reply(s->io, "250 %s", cf->hostname);
		return;
	}
	smtpd_io_reply(s->io, "250-%s", cf->hostname);
	smtpd_io_reply(s->io, "250-PIPELINING");
	smtpd_io_reply(s->io, "250-SIZE %llu", cf->maxsize);
	smtpd_io_reply(s->io, "250-8BITMIME");
	smtpd_io_reply(s->io, "250-SMTPUTF8");
	smtpd_io_reply(s->io, "250-DSN");
	smtpd_io_reply(s->io, "250-CHUNKING");
	if (tls)   /* requiretls (issue 15): only over TLS (RFC 8689 4) */
		smtpd_io_reply(s->io, "250-REQUIRETLS");
	if (cf->tls_ok && !tls)
		smtpd_io_reply(s->io, "250-STARTTLS");
	if (!s->authed && (tls || cf->auth_plain_ok))
		smtpd_io_reply(s->io, "250-AUTH PLAIN LOGIN");
	smtpd_io_reply(s->io, "250 ENHANCEDSTATUSCODES");
}

static int may_relay(const struct smtpd_session *s)
{
	return s->authed || s->cf->action == CLIENT_RELAY;
}

static void mail(struct smtpd_session *s, const struct smtpd_cmd *c)
{
	char r[512];
	int code;
	if (s->state == ST_START) {
		smtpd_reply(s, 503, "5.5.1 EHLO or HELO first");
		return;
	}
	if (s->state == ST_MAIL) {
		smtpd_reply(s, 503, "5.5.1 nested MAIL command");
		return;
	}
	if (!may_relay(s)) {
		smtpd_reply(s, 530, "5.7.0 authentication required");
		return;
	}
	if (c->prm.has_size && c->prm.size > s->cf->maxsize) {
		smtpd_reply(s, 552, "5.3.4 message size exceeds the fixed limit");
		return;
	}
	if (c->prm.requiretls && !s->io->ssl) {   /* requiretls: not offered in plaintext */
		smtpd_reply(s, 555, "5.5.4 REQUIRETLS is offered over TLS only");
		return;
	}
	smtpd_reset_txn(s);
	if (s->authed && s->account.rate && s->cf->state_dir) {
		/* etc/users rate=: shared by every session of the user; a
		 * state that cannot be read or written fails closed */
		time_t now = time(NULL);
		int rr = smtpd_rate_take(s->cf->state_dir, s->user, s->account.rate,
		                         s->account.rate_per, now, 1, 0);
		if (rr <= 0) {
			if (rr < 0)
				warn_sys("unable to check user %s's rate in %s: 451", s->user, s->cf->state_dir);
			else
				fprintf(stderr, "%s: rate exceeded client=%s user=%s rate=%u/%s\n", progname,
				        s->cf->client, s->user, s->account.rate,
				        s->account.rate_per == 60 ? "m" : s->account.rate_per == 3600 ? "h" : "d");
			smtpd_io_reply(s->io, rr < 0 ? "451 4.3.0 unable to check the sending rate, try later" :
			               "451 4.7.0 sending rate exceeded (etc/users rate=), try later");
			return;
		}
		s->rate_held = 1;
		s->rate_when = now;
	}
	code = s->h->mail(s->h->arg, s, c, r, sizeof r);
	if (code >= 300)
		rate_giveback(s);
	if (code < 300) {
		s->state = ST_MAIL;
		snprintf(s->sender, sizeof s->sender, "%s", c->path);
		s->mail = c->prm;
	}
	smtpd_reply(s, code, r);
}

static void rcpt(struct smtpd_session *s, const struct smtpd_cmd *c)
{
	char r[512];
	int code;
	if (s->state != ST_MAIL) {
		smtpd_reply(s, 503, "5.5.1 MAIL first");
		return;
	}
	if (!may_relay(s)) {   /* never reached today: MAIL checks; kept on purpose */
		smtpd_reply(s, 530, "5.7.0 authentication required");
		return;
	}
	if (s->nrcpt >= s->cf->max_rcpt) {
		s->rcpt_over++;
		snprintf(r, sizeof r, "5.5.3 too many recipients (at most %u); this message will be refused",
		         s->cf->max_rcpt);
		smtpd_reply(s, 552, r);
		return;
	}
	code = s->h->rcpt(s->h->arg, s, c, r, sizeof r);
	if (code < 300)
		s->nrcpt++;
	smtpd_reply(s, code, r);
}

static void log_message(const struct smtpd_session *s, size_t size, int code, const char *r)
{
	char snd[ADDR_PATH_MAX * 4 + 1], rs[600];
	fprintf(stderr, "%s: message client=%s tls=%s user=%s sender=<%s> rcpts=%u size=%zu "
	        "result=%s reply=\"%d %s\"\n", progname, s->cf->client, tls_of(s),
	        s->authed ? s->user : "-", smtpd_safe(s->sender, snd, sizeof snd), s->nrcpt, size,
	        code < 300 ? "queued" : code < 500 ? "deferred" : "refused", code,
	        smtpd_safe(r, rs, sizeof rs));
}

/* DATA: 1 go on, 0 the session ends. */
static int data(struct smtpd_session *s)
{
	struct smtpd_data d;
	if (s->state != ST_MAIL) {
		smtpd_reply(s, 503, "5.5.1 MAIL first");
		return 1;
	}
	if (s->bdat) {
		smtpd_reply(s, 503, "5.5.1 DATA after BDAT in one transaction");
		return 1;
	}
	if (s->nrcpt == 0) {
		smtpd_reply(s, 554, "5.5.1 no valid recipients");
		return 1;
	}
	smtpd_io_reply(s->io, "354 end data with <CR><LF>.<CR><LF>");
	smtpd_data_init(&d, &s->msg, s->cf->maxsize);
	for (;;) {
		struct smtpd_io *io = s->io;
		size_t used = 0;
		int fr;
		if (io->off < io->len) {
			fr = smtpd_data_feed(&d, io->in + io->off, io->len - io->off, &used);
			io->off += used;
			if (fr < 0) {
				smtpd_io_reply(io, "451 4.3.0 out of memory");
				snprintf(s->end, sizeof s->end, "out of memory");
				return 0;
			}
			if (fr == 1)
				break;
			continue;
		}
		if ((fr = smtpd_io_fill(io)) <= 0) {
			smtpd_set_end(s, fr);
			return 0;
		}
	}
	smtpd_finish(s, &d);
	return 1;
}

void smtpd_finish(struct smtpd_session *s, const struct smtpd_data *d)
{
	char r[512];
	int code;
	unsigned left;
	if (d->err) {
		const char *t = smtpd_data_reply(d->err);
		code = atoi(t);
		snprintf(r, sizeof r, "%s", t + 4);
	} else if (s->rcpt_over) {
		code = 554;
		snprintf(r, sizeof r, "5.5.3 too many recipients (at most %u): nothing queued",
		         s->cf->max_rcpt);
	} else {
		/* the commit is not cut short by the session's alarm */
		left = alarm(0);
		code = s->h->data(s->h->arg, s, &s->msg, r, sizeof r);
		if (left)
			alarm(left);
	}
	log_message(s, (size_t)d->total, code, r);
	if (code < 300)
		s->rate_held = 0;   /* queued: it counts */
	if (code < 300)
		s->messages++;
	else
		s->refused++;
	smtpd_reply(s, code, r);
	s->msg.len = 0;
	smtpd_reset_txn(s);
}

static int starttls(struct smtpd_session *s)
{
	char err[300];
	if (s->io->ssl) {
		smtpd_reply(s, 503, "5.5.1 TLS already active");
		return 1;
	}
	if (!s->cf->tls_ok) {
		smtpd_reply(s, 502, "5.5.1 STARTTLS not available");
		return 1;
	}
	if (s->state == ST_MAIL) {
		smtpd_reply(s, 503, "5.5.1 not inside a transaction");
		return 1;
	}
	smtpd_io_reply(s->io, "220 2.0.0 ready to start TLS");
	if (smtpd_io_flush(s->io) < 0) {
		snprintf(s->end, sizeof s->end, "write error");
		return 0;
	}
	/* whatever the client sent after STARTTLS in the clear is not
	 * taken as commands inside TLS (CVE-2011-0411, CVE-2021-38371) */
	if (s->io->off < s->io->len)
		fprintf(stderr, "%s: warning: client=%s sent %zu bytes after STARTTLS: discarded\n",
		        progname, s->cf->client, s->io->len - s->io->off);
	smtpd_io_discard(s->io);
	if (smtpd_tls_start(s->io, err, sizeof err) < 0) {
		fprintf(stderr, "%s: warning: client=%s %s\n", progname, s->cf->client, err);
		snprintf(s->end, sizeof s->end, "tls failed");
		return 0;
	}
	/* back to the start: the client says EHLO again (RFC 3207 4.2) */
	smtpd_reset_txn(s);
	s->state = ST_START;
	s->helo[0] = 0;
	s->esmtp = 0;
	return 1;
}

static int command(struct smtpd_session *s)
{
	struct smtpd_cmd c;
	const char *why = NULL;
	char t[600];
	if (s->line.bad) {
		smtpd_reply(s, 500, s->line.bad == SMTPD_LINE_LONG ? "5.5.2 line too long" :
		             "5.5.2 bare CR or NUL in the command line");
		return 1;
	}
	if (smtpd_cmd_parse(s->line.p, s->line.len, &c, &why) < 0) {
		if (c.verb == SMTPD_UNKNOWN) {
			smtpd_reply(s, 500, why);
			return 1;
		}
		snprintf(t, sizeof t, "%s", why);
		smtpd_reply(s, c.verb == SMTPD_MAIL || c.verb == SMTPD_RCPT ?
		      (why[2] == '1' ? 553 : why[4] == '4' ? 555 : 501) : 501, t);
		if (c.verb == SMTPD_BDAT) {
			/* without its size the chunk's bytes cannot be told
			 * from commands: never read them as commands */
			snprintf(s->end, sizeof s->end, "dropped: BDAT without a valid size");
			return 0;
		}
		return 1;
	}
	/* RFC 2920: EHLO, HELO and DATA end a group, and nothing is
	 * pipelined before PIPELINING is offered (after EHLO). Input
	 * already here before the reply is a client that did not wait. */
	if (s->cf->strict_sync && s->io->off < s->io->len && c.verb != SMTPD_QUIT &&
	    (c.verb == SMTPD_HELO || c.verb == SMTPD_EHLO || c.verb == SMTPD_DATA || !s->esmtp)) {
		char v[16];
		snprintf(v, sizeof v, "%.*s", (int)(strcspn(s->line.p, " ") < 10 ? strcspn(s->line.p, " ") : 10),
		         s->line.p);
		fprintf(stderr, "%s: warning: client=%s sent %zu bytes before the reply to %s: "
		        "unauthorized pipelining\n", progname, s->cf->client, s->io->len - s->io->off,
		        smtpd_safe(v, t, sizeof t));
		smtpd_reply(s, 554, "5.5.0 SMTP protocol synchronization error: commands sent before the reply");
		snprintf(s->end, sizeof s->end, "dropped: unauthorized pipelining");
		return 0;
	}
	switch (c.verb) {
	case SMTPD_HELO: ehlo(s, &c, 0); break;
	case SMTPD_EHLO: ehlo(s, &c, 1); break;
	case SMTPD_MAIL: mail(s, &c); break;
	case SMTPD_RCPT: rcpt(s, &c); break;
	case SMTPD_DATA: return data(s);
	case SMTPD_RSET: smtpd_reset_txn(s); smtpd_io_reply(s->io, "250 2.0.0 ok"); break;
	case SMTPD_NOOP: smtpd_io_reply(s->io, "250 2.0.0 ok"); break;
	case SMTPD_VRFY:
		smtpd_io_reply(s->io, "252 2.5.2 cannot VRFY user, but will accept the message");
		break;
	case SMTPD_EXPN: smtpd_reply(s, 502, "5.5.1 EXPN not available"); break;
	case SMTPD_HELP: smtpd_io_reply(s->io, "214 2.0.0 see RFC 5321"); break;
	case SMTPD_STARTTLS: return starttls(s);
	case SMTPD_AUTH: smtpd_auth(s, &c); break;
	case SMTPD_BDAT: return smtpd_bdat(s, &c);
	case SMTPD_QUIT:
		smtpd_io_reply(s->io, "221 2.0.0 %s closing", s->cf->hostname);
		snprintf(s->end, sizeof s->end, "quit");
		return 0;
	case SMTPD_HTTP:
		snprintf(s->end, sizeof s->end, "dropped: HTTP request");
		return 0;
	case SMTPD_UNKNOWN: break;
	}
	return 1;
}

void smtpd_run(struct smtpd_session *s, const struct smtpd_conf *cf, struct smtpd_io *io,
               const struct smtpd_hooks *h)
{
	char hs[256 * 4];
	int r;
	memset(s, 0, sizeof *s);
	s->cf = cf;
	s->io = io;
	s->h = h;
	if (cf->local_user) {
		s->authed = 1;
		snprintf(s->user, sizeof s->user, "%s", cf->local_user);
	}
	if (cf->action == CLIENT_DENY) {
		smtpd_io_reply(io, "554 5.7.1 %s: connections from %s are refused", cf->hostname, cf->client);
		snprintf(s->end, sizeof s->end, "denied");
		goto done;
	}
	/* bytes already read (after a PROXY line) count as talking early */
	if (cf->greeting_delay && (io->off < io->len ? (r = 1) : (r = smtpd_io_talks(io, cf->greeting_delay))) != 0) {
		if (r > 0) {
			smtpd_io_reply(io, "554 5.5.0 %s: talked before the greeting", cf->hostname);
			snprintf(s->end, sizeof s->end, "dropped: early talker");
		} else {
			snprintf(s->end, sizeof s->end, "poll error");
		}
		goto done;
	}
	smtpd_io_reply(io, "220 %s ESMTP relay-smtpd", cf->hostname);
	for (;;) {
		if ((r = smtpd_read_line(s)) <= 0) {
			smtpd_set_end(s, r);
			break;
		}
		if (!command(s))
			break;
		if (io->werr) {
			snprintf(s->end, sizeof s->end, "write error");
			break;
		}
		if (s->errors > cf->max_errors) {
			smtpd_io_reply(io, "421 4.7.0 %s too many errors, closing", cf->hostname);
			snprintf(s->end, sizeof s->end, "dropped: too many errors");
			break;
		}
	}
done:
	rate_giveback(s);
	smtpd_io_flush(io);
	fprintf(stderr, "%s: session client=%s%s%s tls=%s cipher=%s user=%s helo=%s messages=%u "
	        "refused=%u errors=%u end=\"%s\"\n", progname, cf->client,
	        cf->proxy_peer ? " proxy=" : "", cf->proxy_peer ? cf->proxy_peer : "", tls_of(s),
	        io->ssl ? io->tls_cipher : "-", s->authed ? s->user : "-",
	        s->helo[0] ? smtpd_safe(s->helo, hs, sizeof hs) : "-", s->messages, s->refused, s->errors,
	        s->end);
	buf_free(&s->msg);
}
