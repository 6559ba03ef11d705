/* The scheduler <-> worker protocol (send/job.h) over a real
 * SOCK_SEQPACKET socketpair: a job goes across with its fd and every
 * field both ways; a result comes back with its strings made safe; a
 * malformed job or result is refused (EPROTO), never half-taken. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "send/job.h"

static void pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		exit(2);
	}
}

/* A job datagram written by hand (records "Tvalue\0"...), with fd. */
static int send_raw(int sock, const char *data, size_t len, int fd)
{
	struct msghdr mh;
	struct iovec iov;
	union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	struct cmsghdr *c;
	memset(&mh, 0, sizeof mh);
	iov.iov_base = (void *)data;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof u.buf;
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, 0) == (ssize_t)len ? 0 : -1;
}

/* job_recv on a hand-made datagram: its return value (errno kept). */
static int recv_raw(const char *data, size_t len, int with_fd)
{
	int sv[2], fd, got = -1, r;
	struct job j;
	struct buf store = BUF_INIT;
	pair(sv);
	fd = with_fd ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
	if (send_raw(sv[0], data, len, fd) < 0) {
		perror("sendmsg");
		exit(2);
	}
	r = job_recv(sv[1], &j, &got, &store);
	if (got >= 0)
		close(got);
	if (fd >= 0)
		close(fd);
	close(sv[0]);
	close(sv[1]);
	buf_free(&store);
	return r;
}

static void job_both_ways(void)
{
	int sv[2], msgfd, got = -1;
	char path[] = "/tmp/t_job.XXXXXX", back[8] = {0};
	static const char prefix[] = "DKIM-Signature: v=1\r\n";
	struct job j, r;
	struct buf store = BUF_INIT;
	struct stat a, b;

	pair(sv);
	msgfd = mkstemp(path);
	CHECK(msgfd >= 0 && write(msgfd, "message", 7) == 7);
	unlink(path);
	memset(&j, 0, sizeof j);
	j.id = 4242;
	j.mx = 1;
	j.host = "example.org";
	j.port = 2525;
	j.tls = 3;
	j.implicit_tls = 1;
	j.ca = "/etc/ca.pem";
	j.user = "user";
	j.pass = "secret";
	j.auth_plaintext_ok = 1;
	j.helo = "relay.example";
	j.dns_config = "/etc/unbound.conf";
	j.body_off = 123;
	j.prefix = prefix;
	j.prefix_len = sizeof prefix - 1;
	j.timeout_ms = 5000;
	j.sender = "a@example.com";
	j.rcpt[0] = "b@example.org";
	j.rcpt[1] = "c@example.org";
	j.n = 2;
	CHECK(job_send(sv[0], &j, msgfd) == 0);
	CHECK(job_recv(sv[1], &r, &got, &store) == 1);
	CHECK(r.id == 4242 && r.mx == 1 && r.port == 2525 && r.tls == 3 && r.implicit_tls == 1);
	CHECK(r.auth_plaintext_ok == 1 && r.body_off == 123 && r.timeout_ms == 5000 && r.n == 2);
	CHECK_STR(r.host, "example.org");
	CHECK_STR(r.ca, "/etc/ca.pem");
	CHECK_STR(r.user, "user");
	CHECK_STR(r.pass, "secret");
	CHECK_STR(r.helo, "relay.example");
	CHECK_STR(r.dns_config, "/etc/unbound.conf");
	CHECK_MEM(r.prefix, r.prefix_len, prefix, sizeof prefix - 1);
	CHECK_STR(r.sender, "a@example.com");
	CHECK_STR(r.rcpt[0], "b@example.org");
	CHECK_STR(r.rcpt[1], "c@example.org");
	/* the fd that arrives is the same open file, read-only or not */
	CHECK(got >= 0 && got != msgfd);
	CHECK(fstat(got, &a) == 0 && fstat(msgfd, &b) == 0 && a.st_ino == b.st_ino);
	CHECK(pread(got, back, 7, 0) == 7 && !strcmp(back, "message"));
	close(got);

	/* empty strings and no prefix cross as empty */
	j.mx = 0;
	j.ca = j.user = j.pass = j.dns_config = "";
	j.prefix = NULL;
	j.prefix_len = 0;
	j.n = 1;
	CHECK(job_send(sv[0], &j, msgfd) == 0);
	CHECK(job_recv(sv[1], &r, &got, &store) == 1);
	CHECK(r.mx == 0 && r.n == 1 && r.prefix_len == 0);
	CHECK_STR(r.user, "");
	CHECK_STR(r.prefix, "");
	close(got);

	/* a NUL inside a field cannot be encoded */
	j.prefix = "a\0b";
	j.prefix_len = 3;
	errno = 0;
	CHECK(job_send(sv[0], &j, msgfd) == -1 && errno == EINVAL);

	/* the peer closed: 0 */
	close(sv[0]);
	CHECK(job_recv(sv[1], &r, &got, &store) == 0);
	close(sv[1]);
	close(msgfd);
	buf_free(&store);
}

static void malformed_jobs(void)
{
	static const char good[] = "J1\0Hh\0Fs@x\0Tr@y\0";
	static const char unknown[] = "J1\0Hh\0Fs@x\0Tr@y\0Qq\0";
	static const char nohost[] = "J1\0Fs@x\0Tr@y\0";
	static const char nosender[] = "J1\0Hh\0Tr@y\0";
	static const char norcpt[] = "J1\0Hh\0Fs@x\0";
	static const char unterminated[] = "J1\0Hh\0Fs@x\0Tr@y";
	struct buf many = BUF_INIT;
	int i;

	CHECK(recv_raw(good, sizeof good - 1, 1) == 1);
	errno = 0;
	CHECK(recv_raw(good, sizeof good - 1, 0) == -1 && errno == EPROTO);   /* no message fd */
	errno = 0;
	CHECK(recv_raw(unknown, sizeof unknown - 1, 1) == -1 && errno == EPROTO);
	errno = 0;
	CHECK(recv_raw(nohost, sizeof nohost - 1, 1) == -1 && errno == EPROTO);
	errno = 0;
	CHECK(recv_raw(nosender, sizeof nosender - 1, 1) == -1 && errno == EPROTO);
	errno = 0;
	CHECK(recv_raw(norcpt, sizeof norcpt - 1, 1) == -1 && errno == EPROTO);
	errno = 0;
	CHECK(recv_raw(unterminated, sizeof unterminated - 1, 1) == -1 && errno == EPROTO);
	/* one recipient more than a transaction may carry */
	buf_add(&many, "J1\0Hh\0Fs@x\0", 11);
	for (i = 0; i <= JOB_RCPT_MAX; i++)
		buf_add(&many, "Tr@y\0", 5);
	errno = 0;
	CHECK(recv_raw(many.p, many.len, 1) == -1 && errno == EPROTO);
	buf_free(&many);
}

static void result_both_ways(void)
{
	int sv[2];
	struct job_result *s = calloc(1, sizeof *s), *r = calloc(1, sizeof *r);
	pair(sv);
	s->id = 7;
	s->n = 2;
	snprintf(s->tls, sizeof s->tls, "TLSv1.3");
	snprintf(s->peer, sizeof s->peer, "192.0.2.1");
	s->r[0].code = 250;
	snprintf(s->r[0].text, sizeof s->r[0].text, "ok");
	snprintf(s->r[0].stage, sizeof s->r[0].stage, "dot");
	s->r[1].code = 550;
	snprintf(s->r[1].enh, sizeof s->r[1].enh, "5.1.1");
	snprintf(s->r[1].text, sizeof s->r[1].text, "no such user\r\nX-Injected: yes");
	snprintf(s->r[1].stage, sizeof s->r[1].stage, "rcpt");
	CHECK(job_result_send(sv[0], s) == 0);
	CHECK(job_result_recv(sv[1], r) == 1);
	CHECK(r->id == 7 && r->n == 2 && r->r[0].code == 250 && r->r[1].code == 550);
	CHECK_STR(r->tls, "TLSv1.3");
	CHECK_STR(r->peer, "192.0.2.1");
	CHECK_STR(r->r[1].enh, "5.1.1");
	CHECK_STR(r->r[1].stage, "rcpt");
	/* the worker is less trusted: no line break survives into the log */
	CHECK(strchr(r->r[1].text, '\n') == NULL && strchr(r->r[1].text, '\r') == NULL);
	CHECK(strstr(r->r[1].text, "no such user") == r->r[1].text);

	/* a code out of range becomes 0; unterminated strings are cut */
	s->n = 1;
	s->r[0].code = 1000;
	memset(s->r[0].text, 'a', sizeof s->r[0].text);
	memset(s->tls, 'b', sizeof s->tls);
	CHECK(job_result_send(sv[0], s) == 0);
	CHECK(job_result_recv(sv[1], r) == 1);
	CHECK(r->r[0].code == 0);
	CHECK(strlen(r->r[0].text) < sizeof r->r[0].text && strlen(r->tls) < sizeof r->tls);

	/* malformed: shorter than the header, too many recipients, a size
	 * that does not match the count */
	errno = 0;
	CHECK(send(sv[0], s, 4, 0) == 4);
	CHECK(job_result_recv(sv[1], r) == -1 && errno == EPROTO);
	s->n = JOB_RCPT_MAX + 1;
	CHECK(send(sv[0], s, offsetof(struct job_result, r), 0) == (ssize_t)offsetof(struct job_result, r));
	errno = 0;
	CHECK(job_result_recv(sv[1], r) == -1 && errno == EPROTO);
	s->n = 2;
	CHECK(send(sv[0], s, offsetof(struct job_result, r) + sizeof s->r[0], 0) > 0);
	errno = 0;
	CHECK(job_result_recv(sv[1], r) == -1 && errno == EPROTO);

	close(sv[0]);
	CHECK(job_result_recv(sv[1], r) == 0);
	close(sv[1]);
	free(s);
	free(r);
}

/* The worker's journal (issue 10): it crosses as a second fd,
 * append-only, with the message's queue id, the relay name and each
 * recipient's queue index; without a relay name no second fd is sent;
 * a relay name without the queue id, or an index missing, is refused. */
static void job_info_fd(void)
{
	int sv[2], msgfd, jfd, got;
	char path[] = "/tmp/t_job_infoXXXXXX", back[64] = "";
	struct job j, r;
	struct buf store = BUF_INIT;
	struct job_result *res = calloc(1, sizeof *res), *in = calloc(1, sizeof *in);
	pair(sv);
	CHECK(res && in);
	msgfd = open("/dev/null", O_RDONLY);
	jfd = mkstemp(path);
	CHECK(msgfd >= 0 && jfd >= 0);
	unlink(path);
	memset(&j, 0, sizeof j);
	j.id = 7;
	j.host = "h";
	j.sender = "s@x";
	j.rcpt[0] = "a@y";
	j.rcpt[1] = "b@y";
	j.idx[0] = 3;
	j.idx[1] = 12;
	j.n = 2;
	j.relay = "127.0.0.1:25";
	j.msgid = "0123456789abc.01234567";
	j.jfd = jfd;
	CHECK(job_send(sv[0], &j, msgfd) == 0);
	CHECK(job_recv(sv[1], &r, &got, &store) == 1);
	CHECK(got >= 0 && r.jfd >= 0 && r.jfd != got);
	CHECK(r.relay && !strcmp(r.relay, "127.0.0.1:25"));
	CHECK(r.msgid && !strcmp(r.msgid, "0123456789abc.01234567"));
	CHECK(r.n == 2 && r.idx[0] == 3 && r.idx[1] == 12);
	/* the same open file: what the worker appends, the scheduler reads */
	CHECK(write(r.jfd, "D3 1 x\n", 7) == 7);
	CHECK(pread(jfd, back, 7, 0) == 7 && !strncmp(back, "D3 1 x\n", 7));
	close(r.jfd);
	close(got);
	/* no relay name: the info fd is not sent, nothing to record */
	j.relay = NULL;
	CHECK(job_send(sv[0], &j, msgfd) == 0);
	CHECK(job_recv(sv[1], &r, &got, &store) == 1);
	CHECK(got >= 0 && r.jfd == -1 && r.relay == NULL && r.msgid == NULL && r.idx[1] == 0);
	close(got);
	/* a job that names a relay but not every recipient's index: refused */
	{
		static const char noidx[] = "J1\0Hh\0Fs@x\0mi\0Dr\0x1\0Ta@y\0Tb@y\0";
		static const char noid[] = "J1\0Hh\0Fs@x\0Dr\0x1\0Ta@y\0x2\0Tb@y\0";
		static const char ok[] = "J1\0Hh\0Fs@x\0mi\0Dr\0x1\0Ta@y\0x2\0Tb@y\0";
		/* with its indexes it is taken (no info fd came: no relay then) */
		CHECK(send_raw(sv[0], ok, sizeof ok - 1, msgfd) == 0);
		CHECK(job_recv(sv[1], &r, &got, &store) == 1 && r.idx[1] == 2 && r.relay == NULL);
		close(got);
		CHECK(send_raw(sv[0], noid, sizeof noid - 1, msgfd) == 0);
		errno = 0;
		CHECK(job_recv(sv[1], &r, &got, &store) == -1 && errno == EPROTO);
		if (got >= 0)
			close(got);
		CHECK(send_raw(sv[0], noidx, sizeof noidx - 1, msgfd) == 0);
	}
	errno = 0;
	CHECK(job_recv(sv[1], &r, &got, &store) == -1 && errno == EPROTO);
	if (got >= 0)
		close(got);
	close(sv[0]);
	close(sv[1]);
	close(msgfd);
	close(jfd);
	buf_free(&store);
	free(res);
	free(in);
}

int main(void)
{
	job_both_ways();
	job_info_fd();
	malformed_jobs();
	result_both_ways();
	CHECK_DONE();
}
