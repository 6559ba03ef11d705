#include "send/job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/diag.h"
#include "queue/dsnrec.h"
#include "send/fdpass.h"

#define JOB_MAX (256 * 1024)

static int rec(struct buf *b, char type, const char *s, size_t n)
{
	if (memchr(s, 0, n)) {
		errno = EINVAL;
		return -1;
	}
	if (buf_addc(b, type) < 0 || buf_add(b, s, n) < 0 || buf_addc(b, 0) < 0)
		return -1;
	return 0;
}

static int recs(struct buf *b, char type, const char *s)
{
	return rec(b, type, s ? s : "", s ? strlen(s) : 0);
}

static int recn(struct buf *b, char type, unsigned long v)
{
	char t[32];
	snprintf(t, sizeof t, "%lu", v);
	return recs(b, type, t);
}

int job_send(int sock, const struct job *j, int msgfd)
{
	struct buf b = BUF_INIT;
	int fds[2] = { msgfd, j->jfd };
	size_t i;
	int r = 0;
	r |= recn(&b, 'J', j->id);
	r |= recn(&b, 'M', (unsigned long)j->mx);
	r |= recs(&b, 'H', j->host);
	r |= recn(&b, 'P', j->port);
	r |= recn(&b, 'L', (unsigned long)j->tls);
	r |= recn(&b, 'I', (unsigned long)j->implicit_tls);
	r |= recs(&b, 'A', j->ca);
	r |= recs(&b, 'U', j->user);
	r |= recs(&b, 'W', j->pass);
	r |= recn(&b, 'X', (unsigned long)j->auth_plaintext_ok);
	r |= recs(&b, 'E', j->helo);
	r |= recs(&b, 'N', j->dns_config);
	r |= recs(&b, 'K', j->sts_dir ? j->sts_dir : "");
	r |= recs(&b, 'B', j->bind ? j->bind : "");
	r |= recn(&b, 'G', (unsigned long)j->family);
	r |= recs(&b, 'C', j->sts_ca ? j->sts_ca : "");
	r |= recn(&b, 'O', j->body_off);
	r |= recn(&b, 'Z', (unsigned long)j->timeout_ms);
	r |= rec(&b, 'S', j->prefix ? j->prefix : "", j->prefix ? j->prefix_len : 0);
	r |= recs(&b, 'F', j->sender);
	if (j->ret)
		r |= recs(&b, 'R', j->ret);
	if (j->envid)
		r |= recs(&b, 'V', j->envid);
	/* the worker's journal (send/journal.h) as the second fd, with the
	 * message's queue id (m), the relay (D) and each recipient's queue
	 * index (x): what it needs for its D lines if the scheduler dies */
	if (j->relay && j->msgid && j->jfd >= 0) {
		r |= recs(&b, 'm', j->msgid);
		r |= recs(&b, 'D', j->relay);
	}
	for (i = 0; i < j->n; i++) {
		/* a recipient's NOTIFY (Y), ORCPT (Q) and index (x) come before its T */
		if (j->notify[i])
			r |= recs(&b, 'Y', j->notify[i]);
		if (j->orcpt[i])
			r |= recs(&b, 'Q', j->orcpt[i]);
		if (j->relay && j->msgid && j->jfd >= 0)
			r |= recn(&b, 'x', (unsigned long)j->idx[i]);
		r |= recs(&b, 'T', j->rcpt[i]);
	}
	if (r || b.len > JOB_MAX) {
		buf_free(&b);
		errno = r ? errno : EMSGSIZE;
		return -1;
	}
	r = fdpass_send(sock, b.p, b.len, fds, j->relay && j->msgid && j->jfd >= 0 ? 2 : 1);
	buf_free(&b);
	return r;
}

int job_recv(int sock, struct job *j, int *msgfd, struct buf *store)
{
	int fds[2];
	ssize_t n;
	size_t pos = 0;
	const char *notify = NULL, *orcpt = NULL, *idx = NULL;
	*msgfd = -1;
	memset(j, 0, sizeof *j);
	j->jfd = -1;
	if (buf_reserve(store, JOB_MAX) < 0)
		return -1;
	n = fdpass_recv(sock, store->p, JOB_MAX, fds, 2, 0);
	if (n < 0 && errno == EPROTO)
		goto bad;
	if (n < 0)
		return -1;
	*msgfd = fds[0];
	j->jfd = fds[1];
	if (n == 0 && fds[0] < 0)
		return 0;
	store->len = (size_t)n;
	if (*msgfd < 0 || n == 0 || store->p[n - 1] != 0)
		goto bad;
	while (pos < (size_t)n) {
		char *s = store->p + pos, type = *s++;
		size_t l = strlen(s);
		pos += l + 2;
		switch (type) {
		case 'J': j->id = strtoul(s, NULL, 10); break;
		case 'M': j->mx = atoi(s); break;
		case 'H': j->host = s; break;
		case 'P': j->port = (unsigned)strtoul(s, NULL, 10); break;
		case 'L': j->tls = atoi(s); break;
		case 'I': j->implicit_tls = atoi(s); break;
		case 'A': j->ca = s; break;
		case 'U': j->user = s; break;
		case 'W': j->pass = s; break;
		case 'X': j->auth_plaintext_ok = atoi(s); break;
		case 'E': j->helo = s; break;
		case 'N': j->dns_config = s; break;
		case 'K': j->sts_dir = s; break;
		case 'B': j->bind = s; break;
		case 'G': j->family = atoi(s); break;
		case 'C': j->sts_ca = s; break;
		case 'O': j->body_off = strtoul(s, NULL, 10); break;
		case 'Z': j->timeout_ms = atoi(s); break;
		case 'S': j->prefix = s; j->prefix_len = l; break;
		case 'F': j->sender = s; break;
		case 'R': j->ret = s; break;
		case 'V': j->envid = s; break;
		case 'Y': notify = s; break;
		case 'Q': orcpt = s; break;
		case 'D': j->relay = s; break;
		case 'm': j->msgid = s; break;
		case 'x': idx = s; break;
		case 'T':
			if (j->n >= JOB_RCPT_MAX)
				goto bad;
			j->notify[j->n] = notify;
			j->orcpt[j->n] = orcpt;
			if (j->relay && !idx)
				goto bad;	/* every recipient has its index then */
			j->idx[j->n] = idx ? strtoul(idx, NULL, 10) : 0;
			notify = orcpt = idx = NULL;
			j->rcpt[j->n++] = s;
			break;
		default:
			goto bad;
		}
	}
	if (!j->host || !j->sender || j->n == 0 || notify || orcpt || idx)
		goto bad;
	if (!!j->relay != !!j->msgid)
		goto bad;
	if (!j->relay && j->jfd >= 0) {
		close(j->jfd);	/* nothing to record: not kept */
		j->jfd = -1;
	}
	if (j->relay && j->jfd < 0)
		j->relay = j->msgid = NULL;
	return 1;
bad:
	if (j->jfd >= 0)
		close(j->jfd);
	j->jfd = -1;
	errno = EPROTO;
	return -1;
}

int job_result_send(int sock, const struct job_result *r)
{
	size_t len = offsetof(struct job_result, r) + r->n * sizeof r->r[0];
	ssize_t w;
	while ((w = send(sock, r, len, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return w == (ssize_t)len ? 0 : -1;
}

static void terminate(struct smtp_result *s)
{
	s->enh[sizeof s->enh - 1] = 0;
	s->text[sizeof s->text - 1] = 0;
	s->stage[sizeof s->stage - 1] = 0;
	/* the worker is less trusted: keep the text safe whatever it sent */
	safe_text(s->text, sizeof s->text, s->text, strlen(s->text));
	safe_text(s->enh, sizeof s->enh, s->enh, strlen(s->enh));
	safe_text(s->stage, sizeof s->stage, s->stage, strlen(s->stage));
	if (s->code < 0 || s->code > 599)
		s->code = 0;
}

int job_result_recv(int sock, struct job_result *r)
{
	ssize_t n;
	size_t i;
	while ((n = recv(sock, r, sizeof *r, 0)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return (int)n;
	if ((size_t)n < offsetof(struct job_result, r) || r->n > JOB_RCPT_MAX ||
	    (size_t)n != offsetof(struct job_result, r) + r->n * sizeof r->r[0]) {
		errno = EPROTO;
		return -1;
	}
	r->tls[sizeof r->tls - 1] = 0;
	r->peer[sizeof r->peer - 1] = 0;
	safe_text(r->peer, sizeof r->peer, r->peer, strlen(r->peer));
	safe_text(r->tls, sizeof r->tls, r->tls, strlen(r->tls));
	terminate(&r->conn);
	for (i = 0; i < r->n; i++)
		terminate(&r->r[i]);
	return 1;
}

void job_dsn_fill(struct job *j, const char *env, const struct queue_env *e, const size_t *idx)
{
	struct dsnrec_msg m;
	size_t k;
	dsnrec_msg_read(env, e, &m);
	j->ret = m.ret;
	j->envid = m.envid;
	for (k = 0; k < j->n; k++)
		dsnrec_rcpt_read(env, e, idx[k], &j->notify[k], &j->orcpt[k]);
}

void job_dsn(const struct job *j, struct smtp_dsn *d)
{
	d->ret = j->ret;
	d->envid = j->envid;
	d->notify = j->notify;
	d->orcpt = j->orcpt;
}
