/* Test driver for lib/smtp.c, lib/tls.c and lib/dns.c.
 *
 * With no arguments: self-checks against tiny forked loopback servers
 * (connection refused; 250 to the dot then a reset before the QUIT reply,
 * item 39, with the steps the hook saw; the peer closes while we write
 * the data, item 41, with SIGPIPE left at its default so that a SIGPIPE
 * would kill the test; a server that never greets, cut by the session
 * deadline). Exit 0 when all pass.
 *
 * With arguments, one real session for tests/smtp.bats:
 *   t_smtpdrv send --host H --port P [--tls none|may|encrypt|verify]
 *       [--implicit] [--ca FILE] [--tls-name N] [--auth USER:PASS]
 *       [--auth-plaintext] [--helo NAME] [--from A] --to B [--to C ...]
 *       [--msg FILE] [--count N] [--8bit] [--utf8] [--noop] [--dns-config FILE]
 *       [--timeout STAGE=MS ...] [--steps]
 *   t_smtpdrv mx --dns-config FILE DOMAIN
 *   t_smtpdrv addrs --dns-config FILE HOST
 * and prints one key=value line per result:
 *   open ok tls=TLSv1.3 peer=127.0.0.1:2525 name=... caps=...
 *   open code=421 enh=4.3.2 stage=greeting temp=1 member_fault=1 local=0 dup=0 text=...
 *   rcpt0 code=250 ... / txn code=250 ... / send rc=0
 *   step connect end=ok code=0 ms=1    (with --steps: each step the hook saw)
 * Exit 0 when every recipient of every message got 2xx, 1 otherwise,
 * 2 on bad usage. */
#include "base/buf.h"
#include "check.h"
#include "base/diag.h"
#include "net/dns.h"
#include "base/fileio.h"
#include "net/smtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void print_res(const char *what, const struct smtp_result *r)
{
	printf("%s code=%d enh=%s stage=%s temp=%d member_fault=%d local=%d dup=%d text=%s\n",
		what, r->code, r->enh[0] ? r->enh : "-", r->stage, r->temp, r->member_fault,
		r->local, r->possible_dup, r->text);
}

static int set_timeout(struct smtp_timeouts *t, const char *spec)
{
	static const struct { const char *name; size_t off; } f[] = {
		{ "connect", offsetof(struct smtp_timeouts, connect) },
		{ "greeting", offsetof(struct smtp_timeouts, greeting) },
		{ "ehlo", offsetof(struct smtp_timeouts, ehlo) },
		{ "starttls", offsetof(struct smtp_timeouts, starttls) },
		{ "tls", offsetof(struct smtp_timeouts, tls) },
		{ "auth", offsetof(struct smtp_timeouts, auth) },
		{ "mail", offsetof(struct smtp_timeouts, mail) },
		{ "rcpt", offsetof(struct smtp_timeouts, rcpt) },
		{ "data_init", offsetof(struct smtp_timeouts, data_init) },
		{ "data_block", offsetof(struct smtp_timeouts, data_block) },
		{ "dot", offsetof(struct smtp_timeouts, dot) },
		{ "rset", offsetof(struct smtp_timeouts, rset) },
		{ "quit", offsetof(struct smtp_timeouts, quit) },
		{ "reply_max", offsetof(struct smtp_timeouts, reply_max) },
		{ "session", offsetof(struct smtp_timeouts, session) },
	};
	const char *eq = strchr(spec, '=');
	size_t i;
	if (!eq)
		return -1;
	for (i = 0; i < sizeof f / sizeof f[0]; i++)
		if (strlen(f[i].name) == (size_t)(eq - spec) && !strncmp(spec, f[i].name, (size_t)(eq - spec))) {
			*(int *)((char *)t + f[i].off) = atoi(eq + 1);
			return 0;
		}
	return -1;
}

static const char *end_name(enum smtp_step_end e)
{
	static const char *const n[] = { "ok", "refused", "timeout", "closed", "malformed", "error" };
	return (unsigned)e < sizeof n / sizeof n[0] ? n[e] : "?";
}

static void print_step(void *arg, struct smtp_session *s, const struct smtp_step *st)
{
	(void)arg;
	(void)s;
	printf("step %s end=%s code=%d ms=%ld\n", smtp_step_name(st->id), end_name(st->end), st->code, st->ms);
}

/* The steps a session reported, for the self-checks. */
struct steps {
	size_t n;
	struct smtp_step st[32];
};

static void keep_step(void *arg, struct smtp_session *s, const struct smtp_step *st)
{
	struct steps *k = arg;
	(void)s;
	if (k->n < sizeof k->st / sizeof k->st[0])
		k->st[k->n++] = *st;
}

static int usage(void)
{
	fprintf(stderr, "usage: t_smtpdrv [send|mx|addrs] ... (see the source)\n");
	return 2;
}

static int cmd_send(int argc, char **argv)
{
	struct smtp_opts o;
	struct smtp_session *s;
	struct smtp_result r, txn, *rr;
	const char *to[64];
	size_t nto = 0, i;
	const char *from = "sender@example.test", *msgfile = NULL, *dnsconf = NULL;
	struct buf msg = BUF_INIT;
	int eightbit = 0, utf8 = 0, count = 1, k, all_ok = 1, noop = 0;
	char *auth = NULL;
	memset(&o, 0, sizeof o);
	o.host = "127.0.0.1";
	for (k = 2; k < argc; k++) {
		const char *a = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && v && (k++, 1))
		if (ARG("--host")) o.host = v;
		else if (ARG("--port")) o.port = atoi(v);
		else if (ARG("--tls")) o.tls = !strcmp(v, "may") ? CONF_TLS_MAY : !strcmp(v, "encrypt") ? CONF_TLS_ENCRYPT :
			!strcmp(v, "verify") ? CONF_TLS_VERIFY : CONF_TLS_NONE;
		else if (!strcmp(a, "--implicit")) o.implicit_tls = 1;
		else if (ARG("--ca")) o.ca_file = v;
		else if (ARG("--tls-name")) o.tls_name = v;
		else if (ARG("--helo")) o.helo = v;
		else if (ARG("--auth")) {
			char *c;
			auth = strdup(v);
			c = strchr(auth, ':');
			if (!c)
				return usage();
			*c = 0;
			o.auth_user = auth;
			o.auth_pass = c + 1;
		}
		else if (!strcmp(a, "--auth-plaintext")) o.auth_plaintext_ok = 1;
		else if (ARG("--from")) from = v;
		else if (ARG("--to")) { if (nto < 64) to[nto++] = v; }
		else if (ARG("--msg")) msgfile = v;
		else if (ARG("--count")) count = atoi(v);
		else if (!strcmp(a, "--8bit")) eightbit = 1;
		else if (!strcmp(a, "--utf8")) utf8 = 1;
		else if (!strcmp(a, "--noop")) noop = 1;
		else if (ARG("--dns-config")) dnsconf = v;
		else if (ARG("--timeout")) { if (set_timeout(&o.to, v) < 0) return usage(); }
		else if (!strcmp(a, "--steps")) o.on_step = print_step;
		else return usage();
#undef ARG
	}
	if (!nto)
		to[nto++] = "rcpt@example.test";
	if (msgfile && read_file(msgfile, &msg, 1UL << 30) < 0) {
		perror(msgfile);
		return 2;
	}
	if (!msgfile)
		buf_adds(&msg, "Subject: test\r\n\r\nhello\r\n");
	if (dnsconf) {
		char err[256];
		o.dns = dns_new(dnsconf, err, sizeof err);
		if (!o.dns) {
			fprintf(stderr, "%s\n", err);
			return 2;
		}
	}
	if (smtp_open(&s, &o, &r) < 0) {
		print_res("open", &r);
		free(auth);
		buf_free(&msg);
		dns_free(o.dns);
		return 1;
	}
	{
		unsigned c = smtp_caps(s);
		printf("open ok tls=%s peer=%s name=%s caps=%s%s%s%s%s%s%s size=%lu\n",
			smtp_tls_version(s) ? smtp_tls_version(s) : "none", smtp_peer(s), smtp_peer_name(s),
			c & SMTP_CAP_PIPELINING ? "PIPELINING," : "", c & SMTP_CAP_8BITMIME ? "8BITMIME," : "",
			c & SMTP_CAP_SMTPUTF8 ? "SMTPUTF8," : "", c & SMTP_CAP_STARTTLS ? "STARTTLS," : "",
			c & SMTP_CAP_SIZE ? "SIZE," : "", c & SMTP_CAP_AUTH_PLAIN ? "AUTH-PLAIN," : "",
			c & SMTP_CAP_AUTH_LOGIN ? "AUTH-LOGIN," : "", smtp_size_limit(s));
	}
	if (noop) {
		int rc = smtp_noop(s, &r);
		print_res("noop", &r);
		printf("noop rc=%d\n", rc);
	}
	rr = calloc(nto, sizeof *rr);
	for (k = 0; k < count; k++) {
		int rc = smtp_send(s, from, to, nto, msg.p ? msg.p : "", msg.len, eightbit, utf8, rr, &txn);
		for (i = 0; i < nto; i++) {
			char w[32];
			snprintf(w, sizeof w, "rcpt%zu", i);
			print_res(w, &rr[i]);
			if (rr[i].code / 100 != 2)
				all_ok = 0;
		}
		print_res("txn", &txn);
		if (txn.code / 100 != 2)
			all_ok = 0;
		printf("send rc=%d\n", rc);
		fflush(stdout);
		if (rc < 0)
			break;
	}
	smtp_close(s);
	free(rr);
	free(auth);
	buf_free(&msg);
	dns_free(o.dns);
	return all_ok ? 0 : 1;
}

static int cmd_dns(int argc, char **argv)
{
	struct dns_ctx *d;
	char err[256] = "";
	int rc;
	const char *conf = NULL, *name = NULL;
	int k;
	for (k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "--dns-config") && k + 1 < argc)
			conf = argv[++k];
		else
			name = argv[k];
	}
	if (!name)
		return usage();
	d = dns_new(conf, err, sizeof err);
	if (!d) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (!strcmp(argv[1], "mx")) {
		struct mx_list l;
		size_t i;
		rc = dns_mx(d, name, &l, err, sizeof err);
		printf("rc=%d enh=%s implicit=%d n=%zu err=%s\n", rc, dns_status_enh(rc),
			rc == DNS_OK ? l.implicit : 0, rc == DNS_OK ? l.n : 0, rc == DNS_OK ? "-" : err);
		for (i = 0; rc == DNS_OK && i < l.n; i++)
			printf("mx %d %s\n", l.h[i].pref, l.h[i].name);
	} else {
		struct dns_addr a[DNS_ADDRS_MAX];
		size_t n = 0, i;
		rc = dns_addrs(d, name, a, DNS_ADDRS_MAX, &n, err, sizeof err);
		printf("rc=%d enh=%s n=%zu err=%s\n", rc, dns_status_enh(rc), n, rc == DNS_OK ? "-" : err);
		for (i = 0; i < n; i++) {
			char t[INET6_ADDRSTRLEN];
			const struct sockaddr *sa = (const struct sockaddr *)&a[i].sa;
			if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, t, sizeof t);
			else
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, t, sizeof t);
			printf("addr %s\n", t);
		}
	}
	dns_free(d);
	return rc == DNS_OK ? 0 : 1;
}

/* ------------------------------------------------------------ self-checks */

static int listen_lo(int *port)
{
	struct sockaddr_in a;
	socklen_t l = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* Read one line (to LF) from fd into b; -1 at EOF. */
static int rdline(int fd, char *b, size_t cap)
{
	size_t n = 0;
	char c;
	while (n + 1 < cap) {
		if (read(fd, &c, 1) != 1)
			return -1;
		b[n++] = c;
		if (c == '\n')
			break;
	}
	b[n] = 0;
	return 0;
}

static void say(int fd, const char *s)
{
	if (write_all(fd, s, strlen(s)) < 0)
		_exit(3);
}

/* mode 1: 250 to the dot, then close before the QUIT reply.
 * mode 2: close in the middle of the data.
 * mode 3: no greeting: wait until the client goes. */
static void child_server(int lfd, int mode)
{
	char b[4096];
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(3);
	if (mode == 3) {
		while (read(fd, b, sizeof b) > 0)
			;
		_exit(0);
	}
	say(fd, "220 t ESMTP\r\n");
	while (rdline(fd, b, sizeof b) == 0) {
		if (!strncasecmp(b, "EHLO", 4))
			say(fd, "250-t\r\n250 8BITMIME\r\n");
		else if (!strncasecmp(b, "MAIL", 4) || !strncasecmp(b, "RCPT", 4))
			say(fd, "250 ok\r\n");
		else if (!strncasecmp(b, "DATA", 4)) {
			say(fd, "354 go\r\n");
			if (mode == 2) {
				if (read(fd, b, sizeof b) < 0) {
					/* the reset is the point */
				}
				close(fd); /* RST or FIN while the client writes */
				_exit(0);
			}
			while (rdline(fd, b, sizeof b) == 0 && strcmp(b, ".\r\n"))
				;
			say(fd, "250 queued\r\n");
		} else if (!strncasecmp(b, "QUIT", 4)) {
			close(fd); /* no 221 */
			_exit(0);
		}
	}
	_exit(0);
}

static void selfcheck(void)
{
	struct smtp_opts o;
	struct smtp_session *s;
	struct smtp_result r, rr[1], txn;
	const char *to[1] = { "x@example.test" };
	struct steps k;
	int lfd, port, st;
	pid_t pid;

	memset(&o, 0, sizeof o);
	o.host = "127.0.0.1";
	o.to.connect = 2000;
	o.to.greeting = o.to.ehlo = o.to.mail = o.to.rcpt = o.to.data_init = o.to.dot = 5000;
	o.to.data_block = 5000;

	/* connection refused: a port we bound and closed */
	lfd = listen_lo(&port);
	close(lfd);
	o.port = port;
	CHECK(smtp_open(&s, &o, &r) < 0);
	CHECK_STR(r.stage, "connect");
	CHECK(r.member_fault == 1 && r.temp == 1 && r.code == 0);

	/* item 39: 250 to the dot, then no QUIT reply; each step reported */
	lfd = listen_lo(&port);
	o.port = port;
	o.on_step = keep_step;
	o.step_arg = &k;
	memset(&k, 0, sizeof k);
	pid = fork();
	if (pid == 0)
		child_server(lfd, 1);
	close(lfd);
	CHECK(smtp_open(&s, &o, &r) == 0);
	if (s) {
		static const enum smtp_step_id want[] = {
			SMTP_STEP_CONNECT, SMTP_STEP_GREETING, SMTP_STEP_EHLO, SMTP_STEP_MAIL,
			SMTP_STEP_RCPT, SMTP_STEP_DATA, SMTP_STEP_DOT, SMTP_STEP_QUIT
		};
		size_t i;
		CHECK(smtp_send(s, "a@example.test", to, 1, "Subject: x\r\n\r\nbody\r\n", 21, 0, 0, rr, &txn) == 0);
		CHECK(rr[0].code == 250);
		CHECK(txn.code == 250 && txn.temp == 0);
		if (txn.code != 250) fprintf(stderr, "txn %d %s %s\n", txn.code, txn.stage, txn.text);
		CHECK_STR(txn.stage, "dot");
		smtp_close(s);
		CHECK(k.n == sizeof want / sizeof want[0]);
		for (i = 0; i < k.n && i < sizeof want / sizeof want[0]; i++) {
			CHECK(k.st[i].id == want[i]);
			CHECK(k.st[i].ms >= 0);
			/* the server closes instead of answering QUIT */
			CHECK(k.st[i].end == (want[i] == SMTP_STEP_QUIT ? SMTP_END_CLOSED : SMTP_END_OK));
		}
		CHECK(k.n > 6 && k.st[1].code == 220 && k.st[5].code == 354 && k.st[6].code == 250);
	}
	waitpid(pid, &st, 0);
	o.on_step = NULL;

	/* the session deadline ends a wait that the stage timeout would not */
	lfd = listen_lo(&port);
	o.port = port;
	o.on_step = keep_step;
	memset(&k, 0, sizeof k);
	o.to.session = 300;
	pid = fork();
	if (pid == 0)
		child_server(lfd, 3);
	close(lfd);
	CHECK(smtp_open(&s, &o, &r) < 0);
	CHECK_STR(r.stage, "greeting");
	CHECK(r.member_fault == 1 && r.temp == 1 && strstr(r.text, "session deadline exceeded"));
	CHECK(k.n == 2 && k.st[0].id == SMTP_STEP_CONNECT && k.st[0].end == SMTP_END_OK);
	CHECK(k.n == 2 && k.st[1].id == SMTP_STEP_GREETING && k.st[1].end == SMTP_END_TIMEOUT);
	waitpid(pid, &st, 0);
	o.on_step = NULL;
	o.to.session = 0;

	/* item 41: the peer closes while we write 8 MB of data */
	lfd = listen_lo(&port);
	o.port = port;
	pid = fork();
	if (pid == 0)
		child_server(lfd, 2);
	close(lfd);
	CHECK(smtp_open(&s, &o, &r) == 0);
	if (s) {
		size_t n = 8u << 20;
		char *big = malloc(n);
		memset(big, 'a', n);
		CHECK(smtp_send(s, "a@example.test", to, 1, big, n, 0, 0, rr, &txn) < 0);
		CHECK(txn.temp == 1 && txn.member_fault == 1 && txn.code / 100 != 2);
		CHECK_STR(txn.stage, "data");
		/* a broken session refuses further use without I/O */
		CHECK(smtp_send(s, "a@example.test", to, 1, "x", 1, 0, 0, rr, &txn) < 0);
		CHECK(smtp_reset(s) < 0);
		smtp_close(s);
		free(big);
	}
	waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
	diag_init(argv[0]);
	if (argc > 1 && !strcmp(argv[1], "send"))
		return cmd_send(argc, argv);
	if (argc > 1 && (!strcmp(argv[1], "mx") || !strcmp(argv[1], "addrs")))
		return cmd_dns(argc, argv);
	if (argc > 1)
		return usage();
	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE must kill us: the library must never raise one */
	selfcheck();
	CHECK_DONE();
}
