#include "send/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intake/addr.h"
#include "base/buf.h"
#include "base/diag.h"
#include "net/dns.h"
#include "send/dline.h"
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

/* The worker's end of the job socket is watched with O_ASYNC: SIGIO
 * comes when the scheduler shuts its end (SIGTERM: no more jobs) or is
 * gone (kill -9). A transaction that has not had its 354 holds nothing
 * that could be delivered twice: it is dropped at once (the relay sees
 * the connection close before any data). From the 354 on the worker
 * finishes: it reads the reply to the final dot (bounded by the data
 * timeouts), cannot send its result and journals its deliveries
 * (pend_journal), and ends. The only state a signal handler
 * may see is here. */
static struct {
	volatile sig_atomic_t in_txn;     /* a job is being worked on */
	volatile sig_atomic_t committed;  /* its data may reach the relay */
	int sock;
} job_now = { 0, 0, -1 };

static int scheduler_gone(int sock)
{
	struct pollfd p = { sock, POLLIN | POLLRDHUP, 0 };
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

static void on_sigio(int signo)
{
	int e = errno;
	(void)signo;
	if (job_now.in_txn && !job_now.committed && job_now.sock >= 0 && scheduler_gone(job_now.sock))
		_exit(0);
	errno = e;
}

/* on_step: the 354 to DATA: from here the message may be delivered */
static void on_step(void *arg, struct smtp_session *s, const struct smtp_step *st)
{
	(void)arg;
	(void)s;
	if (st->id == SMTP_STEP_DATA && st->code == 354)
		job_now.committed = 1;
}

static void watch_scheduler(int sock)
{
	struct sigaction sa;
	int fl;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigio;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	job_now.sock = sock;
	if (sigaction(SIGIO, &sa, NULL) < 0 || fcntl(sock, F_SETOWN, getpid()) < 0 ||
	    (fl = fcntl(sock, F_GETFL)) < 0 || fcntl(sock, F_SETFL, fl | O_ASYNC) < 0)
		warn_sys("worker: unable to watch the scheduler (a stop waits for the session)");
}

/* prod (issue 10): the deliveries of the last job, until the scheduler
 * has surely taken its result. A result sent may still be unread when
 * the scheduler is killed, so the worker keeps the D lines of the
 * recipients it delivered, "<queue id> D<index> <time> <relay>", with
 * the queue file (its lock, taken by the scheduler, keeps the next one
 * off the message) and the slot's journal, until the next job comes
 * (the scheduler sends one only to a worker whose result it took) or it
 * is idle for PEND_MS. If it finds the scheduler gone meanwhile (its
 * result cannot be sent, or the socket closes) it writes them to the
 * journal in one write, synced, under its lock; the next scheduler
 * applies them (send/journal.h). */
#define PEND_MS 1000
static struct {
	struct buf lines;
	int fd, jfd;
} pend = { BUF_INIT, -1, -1 };

static void pend_release(void)
{
	if (pend.fd >= 0)
		close(pend.fd);
	if (pend.jfd >= 0)
		close(pend.jfd);
	pend.fd = pend.jfd = -1;
	pend.lines.len = 0;
}

/* The scheduler is gone: the lines to the journal, then let go. */
static void pend_journal(void)
{
	if (pend.lines.len && pend.jfd >= 0) {
		while (flock(pend.jfd, LOCK_EX) < 0 && errno == EINTR)
			;
		if (dline_append(pend.jfd, pend.lines.p, pend.lines.len, 1) < 0)
			warn_sys("worker: unable to journal deliveries (they may be sent again)");
		flock(pend.jfd, LOCK_UN);
	}
	pend_release();
}

/* Keep the job's deliveries (and its fd, jfd) pending; nothing
 * delivered: both closed. */
static void pend_keep(const struct job *j, const struct job_result *res, int fd)
{
	long long now = (long long)time(NULL);
	size_t i;
	pend.lines.len = 0;
	if (j->relay && j->msgid && j->jfd >= 0 && !res->conn_failed)
		for (i = 0; i < res->n && i < j->n; i++)
			if (res->r[i].code / 100 == 2 &&
			    (buf_printf(&pend.lines, "%s ", j->msgid) < 0 ||
			     dline_add(&pend.lines, j->idx[i], now, j->relay) < 0)) {
				warn_("worker: out of memory: deliveries of %s not kept", j->msgid);
				pend.lines.len = 0;
				break;
			}
	pend.fd = fd;
	pend.jfd = j->jfd;
	if (!pend.lines.len)
		pend_release();
}

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
	o->on_step = on_step;
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
	watch_scheduler(sock);
	for (;;) {
		struct pollfd p = { sock, POLLIN, 0 };
		struct job j;
		struct job_result *res;
		struct stat st;
		int fd, r;
		r = poll(&p, 1, pend.fd >= 0 ? PEND_MS : w.s ? WORKER_IDLE_MS : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			if (pend.fd >= 0)
				pend_release();	/* its result long taken */
			else
				close_session(&w);
			continue;
		}
		r = job_recv(sock, &j, &fd, &store);
		if (r == 0) {
			pend_journal();	/* the scheduler gone, or done: true either way */
			break;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			warn_sys("worker: bad job");
			pend_journal();
			if (fd >= 0)
				close(fd);
			break;
		}
		pend_release();	/* a job: the last result was taken */
		/* from here a stop drops the job unless its data is going out;
		 * a stop that came before is seen now */
		job_now.committed = 0;
		job_now.in_txn = 1;
		if (scheduler_gone(sock)) {
			close(fd);
			if (j.jfd >= 0)
				close(j.jfd);
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
		if (msg.cap > 4 * 1024 * 1024)
			buf_free(&msg);	/* do not keep a huge buffer for small mail */
		/* prod (issue 10): kept until the result is surely taken */
		pend_keep(&j, res, fd);
		if (job_result_send(sock, res) < 0) {
			pend_journal();	/* the scheduler is gone (kill -9) */
			free(res);
			break;
		}
		free(res);
		job_now.in_txn = 0;
		job_now.committed = 0;
	}
	close_session(&w);
	_exit(0);
}
