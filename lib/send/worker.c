#include "send/worker.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intake/addr.h"
#include "base/buf.h"
#include "base/diag.h"
#include "net/dns.h"
#include "send/job.h"
#include "send/sts.h"
#include "send/tlspolicy.h"
#include "send/tlsrpt.h"   /* tls-rpt (issue 15) */
#include "net/smtp.h"

#define MX_TRY_MAX 5  /* hosts per attempt, like Postfix smtp_mx_address_limit */

struct wstate {
	struct smtp_session *s;
	char key[600];          /* destination of the open session */
	char tls_policy[16];    /* its TLS policy (tlspolicy.h) */
	unsigned msgs;
	struct dns_ctx *dns;
	char dns_config[1100];
	struct msgtls mt;       /* requiretls (issue 15): the job's message (send/msgtls.h) */
	int verified;           /* requiretls: the open session's peer is verified */
};

static void set_result(struct smtp_result *r, int code, const char *enh, const char *stage,
		       int temp, int mf, const char *text)
{
	memset(r, 0, sizeof *r);
	r->code = code;
	snprintf(r->enh, sizeof r->enh, "%s", enh);
	snprintf(r->stage, sizeof r->stage, "%s", stage);
	r->temp = temp;
	r->member_fault = mf;
	snprintf(r->text, sizeof r->text, "%s", text);
}

static void close_session(struct wstate *w)
{
	if (w->s)
		smtp_close(w->s);
	w->s = NULL;
	w->key[0] = 0;
	w->tls_policy[0] = 0;
	w->msgs = 0;
	w->verified = 0;
}

static void fill_opts(struct smtp_opts *o, const struct job *j, const char *host, struct wstate *w)
{
	memset(o, 0, sizeof *o);
	o->host = host;
	o->port = (int)j->port;
	o->helo = j->helo && *j->helo ? j->helo : NULL;
	o->tls = j->tls;
	o->implicit_tls = j->implicit_tls;
	o->ca_file = j->ca && *j->ca ? j->ca : NULL;
	o->auth_user = j->user && *j->user ? j->user : NULL;
	o->auth_pass = o->auth_user ? j->pass : NULL;
	o->auth_plaintext_ok = j->auth_plaintext_ok;
	o->dns = w->dns;
	o->bind = j->bind && *j->bind ? j->bind : NULL;
	o->family = j->family;
	if (j->timeout_ms > 0) {
		int t = j->timeout_ms;
		o->to.connect = o->to.greeting = o->to.ehlo = o->to.starttls = o->to.tls = t;
		o->to.auth = o->to.mail = o->to.rcpt = o->to.data_init = o->to.data_block = t;
		o->to.dot = o->to.rset = t;
		o->to.reply_max = t;
	}
}

static int need_dns(struct wstate *w, const struct job *j, struct smtp_result *err)
{
	char e[256];
	const char *cfg = j->dns_config && *j->dns_config ? j->dns_config : NULL;
	if (w->dns && strcmp(w->dns_config, cfg ? cfg : "") == 0)
		return 0;
	if (w->dns)
		dns_free(w->dns);
	w->dns = dns_new(cfg, e, sizeof e);
	snprintf(w->dns_config, sizeof w->dns_config, "%s", cfg ? cfg : "");
	if (!w->dns) {
		set_result(err, 0, "4.4.3", "connect", 1, 0, e);
		return -1;
	}
	return 0;
}

/* Open a session to host unless one to the same key is open. The TLS
 * policy is made concrete for host first (dane: its TLSA records);
 * names_secure: the MX answer that named host was validated. */
static int session(struct wstate *w, const struct job *j, const char *host, const char *key,
		   int names_secure, const struct mtasts_policy *sts, struct smtp_result *err)
{
	struct smtp_opts o;
	struct tls_pick *tp;
	char e[400];
	int rc;
	if (w->s && strcmp(w->key, key) == 0 && w->msgs < WORKER_CONN_MSGS)
		return 0;
	close_session(w);
	/* relay names too go through dns_config's resolver when one is set */
	if ((j->tls == CONF_TLS_DANE || j->tls == CONF_TLS_DANE_ONLY ||
	     (j->dns_config && *j->dns_config)) && need_dns(w, j, err) < 0)
		return -1;
	fill_opts(&o, j, host, w);
	if (!(tp = malloc(sizeof *tp))) {
		set_result(err, 0, "4.3.0", "connect", 1, 0, "out of memory");
		return -1;
	}
	if ((rc = tlspolicy_pick(w->dns, (enum conf_tls_mode)j->tls, host, j->port ? j->port : 25,
	                         names_secure, sts, j->sts_ca, &w->mt, tp, e, sizeof e)) < 0) {
		/* not this host now; never a weaker policy instead (requiretls:
		 * -2, this host cannot meet the message's REQUIRETLS) */
		if (rc == -2)
			set_result(err, 550, "5.7.30", "tls", 0, 0, e);
		else
			set_result(err, 0, "4.7.5", "tls", 1, 1, e);
		if (j->mx && rc == -1)   /* tls-rpt: a TLSA lookup or dane-only failure */
			tlsrpt_note(j->sts_dir, j->host, "dane", host, NULL, err, time(NULL));
		free(tp);
		return rc == -2 ? -2 : -1;
	}
	o.tls = tp->mode;
	o.dane = tp->dane;
	if (tp->ca)
		o.ca_file = tp->ca;
	rc = smtp_open(&w->s, &o, err);
	/* tls-rpt (issue 15): the session's TLS outcome by policy domain (send/tlsrpt.h) */
	if (j->mx)
		tlsrpt_note(j->sts_dir, j->host, tp->policy, host, rc == 0 ? smtp_peer(w->s) : NULL,
		            rc == 0 ? NULL : err, time(NULL));
	if (rc < 0) {
		w->s = NULL;
		free(tp);
		return -1;
	}
	/* requiretls (issue 15): only to a next hop that offers REQUIRETLS (RFC 8689 4.2.1) */
	if (w->mt.requiretls && !(smtp_caps(w->s) & SMTP_CAP_REQUIRETLS)) {
		snprintf(e, sizeof e, "REQUIRETLS: %s does not offer REQUIRETLS", host);
		set_result(err, 550, "5.7.30", "ehlo", 0, 0, e);
		smtp_close(w->s);
		w->s = NULL;
		free(tp);
		return -2;
	}
	w->verified = tlspolicy_verified(tp, names_secure);
	snprintf(w->key, sizeof w->key, "%s", key);
	snprintf(w->tls_policy, sizeof w->tls_policy, "%s", tp->policy);
	free(tp);
	return 0;
}

/* requiretls (issue 15): no host could meet the message's REQUIRETLS: its
 * recipients fail for good with that reason (5.7.30), not the member */
static void requiretls_fail(const struct job *j, struct job_result *res)
{
	size_t i;
	for (i = 0; i < j->n; i++)
		res->r[i] = res->conn;
	res->n = j->n;
	res->conn_failed = 0;
}

/* The recipient domain's MTA-STS policy when it may apply (mta_sts on;
 * etc/tls may, encrypt or dane for the domain), else NULL. */
static const struct mtasts_policy *mx_sts(struct wstate *w, const struct job *j,
					  struct mtasts_policy *p)
{
	char note[400];
	if (w->mt.tls_optional)   /* requiretls (issue 15): TLS-Required: No */
		return NULL;
	if (!j->sts_dir || !*j->sts_dir ||
	    (j->tls != CONF_TLS_MAY && j->tls != CONF_TLS_ENCRYPT && j->tls != CONF_TLS_DANE))
		return NULL;
	return sts_policy(w->dns, j->sts_dir, j->sts_ca && *j->sts_ca ? j->sts_ca : NULL, j->host,
			  time(NULL), p, note, sizeof note) == 1 ? p : NULL;
}

static void deliver_on(struct wstate *w, const struct job *j, const char *msg, size_t len,
		       struct job_result *res)
{
	struct smtp_result rr[JOB_RCPT_MAX], txn;
	char key[600];
	size_t i, k;
	int eightbit = 0, utf8 = addr_is_utf8(j->sender, strlen(j->sender));
	for (i = 0; i < len && !eightbit; i++)
		eightbit = (unsigned char)msg[i] >= 0x80;
	for (i = 0; i < j->n; i++)
		utf8 |= addr_is_utf8(j->rcpt[i], strlen(j->rcpt[i]));
	/* requiretls (issue 15): a cached session is reused only when it meets REQUIRETLS */
	if (w->mt.requiretls && w->s && !(w->verified && (smtp_caps(w->s) & SMTP_CAP_REQUIRETLS)))
		close_session(w);

	if (!j->mx) {
		/* shape2 (issue 12): a session is reused only with the same AUTH
		 * identity (etc/auth by sender: two tenants, one smarthost) */
		snprintf(key, sizeof key, "%s:%u%s%.256s", j->host, j->port,
		         j->user && *j->user ? " auth=" : "", j->user ? j->user : "");
		int rc = session(w, j, j->host, key, 1, NULL, &res->conn);
		if (rc < 0) {
			res->conn_failed = 1;
			if (rc == -2)   /* requiretls */
				requiretls_fail(j, res);
			return;
		}
	} else {
		/* direct delivery: the MX hosts of the domain, in preference order */
		struct mx_list mx;
		struct mtasts_policy stsp;
		const struct mtasts_policy *sts;
		char e[256];
		size_t tried;
		int rc, rtls_only = 1;   /* requiretls: every host failed REQUIRETLS */
		snprintf(key, sizeof key, "mx:%s", j->host);
		if (!(w->s && strcmp(w->key, key) == 0 && w->msgs < WORKER_CONN_MSGS)) {
			if (need_dns(w, j, &res->conn) < 0) {
				res->conn_failed = 1;
				return;
			}
			rc = dns_mx(w->dns, j->host, &mx, e, sizeof e);
			if (rc != DNS_OK) {
				/* permanent DNS answers fail the recipients, not the member */
				int perm = rc != DNS_TEMP;
				for (i = 0; i < j->n; i++)
					set_result(&res->r[i], perm ? 550 : 0, dns_status_enh(rc), "dns",
						   !perm, 0, e);
				res->n = j->n;
				return;
			}
			close_session(w);
			sts = mx_sts(w, j, &stsp);
			for (k = 0, tried = 0; k < mx.n && tried < MX_TRY_MAX; k++) {
				/* an enforced MTA-STS policy names the MX hosts to use */
				if (sts && sts->mode == MTASTS_ENFORCE && !mtasts_mx_match(sts, mx.h[k].name))
					continue;
				tried++;
				if ((rc = session(w, j, mx.h[k].name, key, mx.secure, sts, &res->conn)) == 0)
					break;
				rtls_only &= rc == -2;
			}
			if (!tried)
				set_result(&res->conn, 0, "4.7.5", "tls", 1, 1,
					   "no MX host matches the domain's MTA-STS policy (enforce)");
			if (!w->s) {
				res->conn_failed = 1;
				if (tried && rtls_only && w->mt.requiretls)   /* requiretls */
					requiretls_fail(j, res);
				return;
			}
		}
	}
	/* dsn: RET ENVID NOTIFY ORCPT to a next hop that offers DSN (send/job.h) */
	struct smtp_dsn dsn;
	job_dsn(j, &dsn);
	dsn.requiretls = w->mt.requiretls;   /* requiretls (issue 15) */
	res->dsn = (smtp_caps(w->s) & SMTP_CAP_DSN) != 0;
	if (smtp_send_dsn(w->s, j->sender, j->rcpt, j->n, msg, len, eightbit, utf8, &dsn, rr, &txn) < 0) {
		snprintf(res->peer, sizeof res->peer, "%s", smtp_peer(w->s) ? smtp_peer(w->s) : "");
		snprintf(res->tls, sizeof res->tls, "%s", smtp_tls_version(w->s) ? smtp_tls_version(w->s) : "");
		snprintf(res->tls_policy, sizeof res->tls_policy, "%s", w->tls_policy);
		close_session(w);
	} else {
		w->msgs++;
		snprintf(res->peer, sizeof res->peer, "%s", smtp_peer(w->s) ? smtp_peer(w->s) : "");
		snprintf(res->tls, sizeof res->tls, "%s", smtp_tls_version(w->s) ? smtp_tls_version(w->s) : "");
		snprintf(res->tls_policy, sizeof res->tls_policy, "%s", w->tls_policy);
	}
	for (i = 0; i < j->n; i++)
		res->r[i] = rr[i].code / 100 == 2 ? txn : rr[i];
	res->n = j->n;
}

/* The cached session to this job's destination, if one is open. */
static int cached(const struct wstate *w, const struct job *j)
{
	char key[600];
	if (j->mx)
		snprintf(key, sizeof key, "mx:%s", j->host);
	else
		snprintf(key, sizeof key, "%s:%u", j->host, j->port);
	return w->s && strcmp(w->key, key) == 0 && w->msgs < WORKER_CONN_MSGS;
}

/* The transaction failed at its first command, before any byte of it
 * could be taken (smtp_send checks that a reused session is quiet before
 * MAIL: EOF or unsolicited bytes fail there), or with a 421 to MAIL: the
 * relay closed the connection meanwhile (a restart, its idle timeout). */
static int stale(const struct job_result *res)
{
	size_t i;
	if (res->conn_failed || res->n == 0)
		return 0;
	for (i = 0; i < res->n; i++) {
		const struct smtp_result *r = &res->r[i];
		if (strcmp(r->stage, "mail") != 0 || !r->member_fault || (r->code != 0 && r->code != 421))
			return 0;
	}
	return 1;
}

/* One job. A cached session that turns out dead is replaced once by a
 * new connection, within the same job: not an attempt, not a failover. */
static void deliver(struct wstate *w, const struct job *j, const char *msg, size_t len,
		    struct job_result *res)
{
	int reused = cached(w, j);
	unsigned long id = res->id;
	deliver_on(w, j, msg, len, res);
	if (reused && stale(res)) {
		close_session(w);
		memset(res, 0, sizeof *res);
		res->id = id;
		deliver_on(w, j, msg, len, res);
	}
}

void worker_run(int sock)
{
	struct wstate w;
	struct buf store = BUF_INIT, msg = BUF_INIT;
	memset(&w, 0, sizeof w);
	for (;;) {
		struct pollfd p = { sock, POLLIN, 0 };
		struct job j;
		struct job_result *res;
		struct stat st;
		int fd, r;
		r = poll(&p, 1, w.s ? WORKER_IDLE_MS : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			close_session(&w);
			continue;
		}
		r = job_recv(sock, &j, &fd, &store);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			warn_sys("worker: bad job");
			if (fd >= 0)
				close(fd);
			break;
		}
		res = calloc(1, sizeof *res);
		if (!res)
			_exit(EXIT_TEMP);
		res->id = j.id;
		msg.len = 0;
		if (fstat(fd, &st) < 0 || (unsigned long long)st.st_size < j.body_off ||
		    buf_reserve(&msg, j.prefix_len + (size_t)st.st_size) < 0 ||
		    buf_add(&msg, j.prefix, j.prefix_len) < 0 ||
		    pread(fd, msg.p + msg.len, (size_t)st.st_size - j.body_off, (off_t)j.body_off) !=
			    (ssize_t)((size_t)st.st_size - j.body_off)) {
			size_t i;
			for (i = 0; i < j.n; i++)
				set_result(&res->r[i], 0, "4.3.0", "local", 1, 0, "unable to read the queued message");
			res->n = j.n;
		} else {
			msg.len += (size_t)st.st_size - j.body_off;
			/* requiretls (issue 15): the message's own word on TLS; unread, no send */
			if (msgtls_read(fd, j.body_off, msg.p, msg.len, &w.mt) < 0) {
				size_t i;
				for (i = 0; i < j.n; i++)
					set_result(&res->r[i], 0, "4.3.0", "local", 1, 0,
					           "unable to read the queued envelope");
				res->n = j.n;
			} else
				deliver(&w, &j, msg.p, msg.len, res);
		}
		close(fd);
		if (msg.cap > 4 * 1024 * 1024)
			buf_free(&msg);	/* do not keep a huge buffer for small mail */
		if (job_result_send(sock, res) < 0) {
			free(res);
			break;
		}
		free(res);
	}
	close_session(&w);
	_exit(0);
}
