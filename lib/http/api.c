/* POST /v1/messages (http/api.h). */
#include "http/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "base/json.h"
#include "bounce/suppress.h"
#include "bounce/unsub.h"
#include "events/intake.h"   /* events (issue 14): the suppressed record */
#include "http/mime.h"
#include "intake/addr.h"
#include "intake/complete.h"
#include "intake/envelope.h"
#include "intake/fromcheck.h"
#include "intake/msg.h"
#include "intake/smtpin.h"   /* smtpin_commit_mode */
#include "intake/submit.h"
#include "queue/admin.h"
#include "queue/queue.h"

/* ---- the shared relay-queue -S sessions (api.h) ---- */

void api_sessions_init(struct api_sessions *p)
{
	pthread_mutex_init(&p->lock, NULL);
	p->mode = -1;
	p->n = 0;
}

/* An idle session, else a new one (submit_session starts it); NULL when
 * messages go one run each (or out of memory: then so does this one). */
static struct submit_session *session_take(const struct api_ctx *c)
{
	struct api_sessions *p = c->ss;
	struct submit_session *ss = NULL;
	int mode;
	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	if (p->mode < 0)
		p->mode = smtpin_commit_mode(c->home);
	mode = p->mode;
	if (mode && p->n)
		ss = p->idle[--p->n];
	pthread_mutex_unlock(&p->lock);
	if (mode && !ss && (ss = malloc(sizeof *ss)))
		submit_session_init(ss);
	return ss;
}

/* Back to the idle ones if it still runs and there is room; else ended. */
static void session_give(struct api_sessions *p, struct submit_session *ss)
{
	pthread_mutex_lock(&p->lock);
	if (ss->pid > 0 && p->n < API_SESSIONS_IDLE) {
		p->idle[p->n++] = ss;
		ss = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	if (ss) {
		submit_session_end(ss);
		free(ss);
	}
}

void api_sessions_end(struct api_sessions *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->n) {
		struct submit_session *ss = p->idle[--p->n];
		submit_session_end(ss);
		free(ss);
	}
	pthread_mutex_unlock(&p->lock);
}

int api_error(struct buf *a, int status, const char *field, const char *text)
{
	a->len = 0;
	if (buf_adds(a, "{\"error\": ") < 0 || json_str(a, text, strlen(text)) < 0 ||
	    (field && (buf_adds(a, ", \"field\": ") < 0 || json_str(a, field, strlen(field)) < 0)) ||
	    buf_adds(a, "}\n") < 0)
		return 500;
	return status;
}

/* The steps after the envelope and message are known: shared by both
 * content types. m is the message as built or given. */
static int finish(const struct api_ctx *c, const struct conf_apikey *key, const char *client,
                  struct envelope *e, const char *m0, size_t n0, struct buf *a)
{
	struct buf m = BUF_INIT, out = BUF_INIT, env = BUF_INIT;
	struct msg_headers h = {0};
	struct complete cp;
	struct submit s;
	struct submit_session *ss;
	char err[512], trace[300], cl[80], who[ADDR_PATH_MAX + 1];
	size_t i;
	int st, status;

	if (!conf_user_from_ok(&key->u, e->sender)) {
		snprintf(err, sizeof err, "from: the key %s may not send as <%s>", key->name, e->sender);
		status = api_error(a, 403, "from", err);
		goto out;
	}
	if ((st = complete_parse(m0, n0, 0, &m, &h, err, sizeof err)) != 0 ||
	    (st = complete_one_from(m.p, &h, err, sizeof err)) != 0) {
		status = st == EXIT_TEMP ? api_error(a, 503, NULL, "out of memory") : api_error(a, 400, "message", err);
		goto out;
	}
	if (!from_header_ok(&key->u, m.p, &h, who, sizeof who)) {   /* intake/fromcheck.c */
		snprintf(err, sizeof err, "From: %s is not an address the key %s may send as", who, key->name);
		status = api_error(a, 403, "from", err);
		goto out;
	}
	if (key->u.class[0])
		e->class = key->u.class;   /* the key's class wins, as a user's does */
	if ((st = envelope_header(e, m.p, &h, 0, err, sizeof err)) != 0 ||
	    (st = envelope_class_check(e, err, sizeof err)) != 0) {
		status = st == EXIT_TEMP ? api_error(a, 503, NULL, "out of memory") : api_error(a, 400, "class", err);
		goto out;
	}
	for (i = 0; i < e->nrcpt; i++) {
		struct suppress_entry se;
		int r = unsub_suppressed(c->home, e->rcpt[i], e->sender, &se);   /* scoped too (RFC 8058) */
		if (r < 0) {
			warn_sys("unable to read the suppression list");
			status = api_error(a, 503, NULL, "unable to read the suppression list");
			goto out;
		}
		if (r > 0) {
			/* events (issue 14): the suppressed record */
			events_suppressed(c->home, "relay-httpd", e->rcpt[i], e->sender, se.reason);
			snprintf(err, sizeof err, "<%s> is suppressed (%s)", e->rcpt[i], se.reason);
			status = api_error(a, 422, "to", err);
			goto out;
		}
	}
	safe_text(cl, sizeof cl, client, strlen(client));
	snprintf(trace, sizeof trace, "from [%s]\r\n\tby %s (relay-httpd) with HTTP\r\n\t(key %s)", cl,
	         c->host, key->name);
	cp = (struct complete){ .host = c->host, .sender = e->sender, .fullname = NULL, .trace = trace,
	                        .now = (long long)time(NULL), .maxsize = c->maxsize };
	if ((st = complete_message(&cp, m.p, m.len, &h, &out, err, sizeof err)) != 0) {
		status = st == EXIT_TEMP ? api_error(a, 503, NULL, err) : api_error(a, 413, "message", err);
		goto out;
	}
	if (envelope_records(e, &env) < 0) {
		status = api_error(a, 503, NULL, "out of memory");
		goto out;
	}
	/* a relay-queue -S session from the shared ones, as relay-smtpd keeps
	 * one per SMTP session (setting smtpd_commit: session unless "exec"
	 * or a queue filter in $RELAYQUEUE); the answer still waits for the
	 * fsync */
	if ((ss = session_take(c))) {
		st = submit_session(ss, &s, out.p, out.len, env.p, env.len);
		session_give(c->ss, ss);
	} else {
		st = submit(&s, out.p, out.len, env.p, env.len, 1);
	}
	if (st == 0) {
		a->len = 0;
		status = buf_adds(a, "{\"id\": ") < 0 || json_str(a, s.id, strlen(s.id)) < 0 ||
		         buf_adds(a, "}\n") < 0 ? 500 : 202;
		printf("relay-httpd: queued %s key %s from <%s> rcpts %zu size %zu\n", s.id, key->name,
		       e->sender, e->nrcpt, out.len);
		fflush(stdout);
	} else {
		submit_describe(&s, err, sizeof err);
		warn_("%s", err);
		status = st == EXIT_TEMP ? api_error(a, 503, NULL, "temporary queue failure, try again later")
		                         : api_error(a, 500, NULL, "the queue refused the message");
	}
out:
	msg_headers_free(&h);
	buf_free(&m);
	buf_free(&out);
	buf_free(&env);
	return status;
}

int api_post_json(const struct api_ctx *c, const struct conf_apikey *key, const char *client,
                  const char *body, size_t n, struct buf *a)
{
	struct envelope e;
	struct buf m = BUF_INIT;
	struct httpmsg_err err;
	char class[ENVELOPE_CLASS_MAX + 1];
	int r;
	envelope_init(&e, c->host);
	r = httpmsg_build(body, n, &e, class, sizeof class, &m, &err);
	if (r == -2)
		r = api_error(a, 503, NULL, "out of memory");
	else if (r < 0)
		r = api_error(a, 400, err.field, err.text);
	else {
		if (class[0]) {
			snprintf(e.class_buf, sizeof e.class_buf, "%s", class);
			e.class = e.class_buf;
		}
		r = finish(c, key, client, &e, m.p, m.len, a);
	}
	envelope_free(&e);
	buf_free(&m);
	return r;
}

int api_post_raw(const struct api_ctx *c, const struct conf_apikey *key, const char *client,
                 const char *from, char *const *to, size_t nto, const char *body, size_t n,
                 struct buf *a)
{
	struct envelope e;
	char err[512], given[ADDR_PATH_MAX + 3], f[32];
	size_t i;
	int r = 0;
	envelope_init(&e, c->host);
	if (!from || strlen(from) > ADDR_PATH_MAX || (snprintf(given, sizeof given, "<%s>", from),
	    envelope_sender(&e, given, NULL, err, sizeof err) != 0) || !e.sender[0])
		r = api_error(a, 400, "from", "from: missing or bad sender address");
	for (i = 0; !r && i < nto; i++) {
		snprintf(f, sizeof f, "to[%zu]", i);
		if (strlen(to[i]) > ADDR_PATH_MAX || !addr_domain(to[i]) ||
		    (snprintf(given, sizeof given, "<%s>", to[i]), envelope_rcpt_arg(&e, given, err, sizeof err) != 0))
			r = api_error(a, 400, f, "bad recipient address");
	}
	if (!r && e.nrcpt == 0)
		r = api_error(a, 400, "to", "no recipient (to= in the query)");
	if (!r)
		r = finish(c, key, client, &e, body, n, a);
	envelope_free(&e);
	return r;
}

int api_get_message(const struct api_ctx *c, const struct conf_apikey *key, const char *id,
                    struct buf *a)
{
	struct qadmin_entry e;
	struct qadmin_msg m = QADMIN_MSG_INIT;
	const char *why = NULL;
	size_t i;
	int r = 0, rc = 0, status;
	memset(&e, 0, sizeof e);
	if (!queue_id_valid(id))
		return api_error(a, 404, NULL, "no such message in the queue");
	snprintf(e.id, sizeof e.id, "%s", id);
	if (queue_path(e.path, sizeof e.path, "msg", id) < 0)
		return api_error(a, 404, NULL, "no such message in the queue");
	r = qadmin_read(&e, &m, &why);
	if (r == 0 && !why) {   /* not in msg/: perhaps held */
		e.held = 1;
		qadmin_msg_done(&m);
		if (queue_path_flat(e.path, sizeof e.path, "hold", id) < 0)
			return api_error(a, 404, NULL, "no such message in the queue");
		r = qadmin_read(&e, &m, &why);
	}
	if (r < 0 || (r == 0 && why)) {
		warn_sys("unable to read the queue entry %s", id);
		status = api_error(a, 503, NULL, "unable to read the queue");
	} else if (r == 0 || !conf_user_from_ok(&key->u, m.env.sender)) {
		status = api_error(a, 404, NULL, "no such message in the queue");
	} else {
		a->len = 0;
		rc |= buf_adds(a, "{\"id\": ");
		rc |= json_str(a, id, strlen(id));
		rc |= buf_printf(a, ", \"state\": \"%s\", \"sender\": ", e.held ? "held" : "queued");
		rc |= json_str(a, m.env.sender, strlen(m.env.sender));
		rc |= buf_adds(a, ", \"class\": ");
		rc |= json_str(a, m.env.class ? m.env.class : "default", strlen(m.env.class ? m.env.class : "default"));
		rc |= buf_printf(a, ", \"arrival\": %lld, \"attempts\": %d, \"next_attempt\": %lld, \"recipients\": [",
		                 (long long)m.env.arrival, m.info.attempts, m.info.next);
		for (i = 0; i < m.env.nrcpt; i++) {
			const struct queue_fail *f = m.info.fail && i < m.info.nfail ? &m.info.fail[i] : NULL;
			rc |= buf_adds(a, i ? ", {\"address\": " : "{\"address\": ");
			rc |= json_str(a, m.env.rcpt[i], strlen(m.env.rcpt[i]));
			rc |= buf_printf(a, ", \"state\": \"%s\"", qadmin_status(m.info.state ? m.info.state[i] : 0,
			                                                      m.info.attempts));
			if (f && f->text) {
				char t[600];
				snprintf(t, sizeof t, "%s%s%s", f->enh, f->enh[0] ? " " : "", f->text);
				rc |= buf_adds(a, ", \"last_reply\": ");
				rc |= json_str(a, t, strlen(t));
			}
			rc |= buf_addc(a, '}');
		}
		rc |= buf_adds(a, "]}\n");
		status = rc ? api_error(a, 503, NULL, "out of memory") : 200;
	}
	qadmin_msg_free(&m);
	return status;
}
