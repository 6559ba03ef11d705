/* xtext and the DSN parameter values (base/xtext.h), the DSN records of
 * relay-queue's fd 1 and of the queue file (queue/dsnrec.h), and the job
 * records that carry them to a worker (send/job.h). */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"
#include "base/xtext.h"
#include "queue/dsnrec.h"
#include "queue/queue.h"
#include "send/job.h"

static void xtext(void)
{
	char out[64];
	CHECK(xtext_valid("", 0));
	CHECK(xtext_valid("abc+2B+3D", 9));
	CHECK(!xtext_valid("a=b", 3));
	CHECK(!xtext_valid("a b", 3));
	CHECK(!xtext_valid("a+2", 3));
	CHECK(!xtext_valid("a+2b", 4));     /* hex is upper case */
	CHECK(!xtext_valid("a+G0", 4));
	CHECK(!xtext_valid("\x80", 1));
	CHECK(xtext_decode("a+2Bb+20c", 9, out, sizeof out) == 5);
	CHECK_STR(out, "a+b c");
	CHECK(xtext_decode("a+00", 4, out, sizeof out) == -1);   /* a NUL */
	CHECK(xtext_decode("abcd", 4, out, 4) == -1);             /* no room */
	CHECK(xtext_decode("abcd", 4, out, 5) == 4);
	CHECK(xtext_encode("a+b=c d\x01", 8, out, sizeof out) == 16);
	CHECK_STR(out, "a+2Bb+3Dc+20d+01");
	CHECK(xtext_encode("++", 2, out, 6) == -1);
	CHECK(xtext_encode("++", 2, out, 7) == 6);
}

static void values(void)
{
	char n[DSN_NOTIFY_MAX + 1], r[5];
	const char *why = NULL;
	CHECK(dsn_ret_norm("hdrs", 4, r, &why) && !strcmp(r, "HDRS"));
	CHECK(dsn_ret_norm("Full", 4, r, &why) && !strcmp(r, "FULL"));
	CHECK(!dsn_ret_norm("FULLX", 5, r, &why));
	CHECK(dsn_notify_norm("never", 5, n, &why) && !strcmp(n, "NEVER"));
	CHECK(dsn_notify_norm("delay,Success", 13, n, &why));
	CHECK_STR(n, "SUCCESS,DELAY");
	CHECK(dsn_notify_norm("FAILURE,DELAY,SUCCESS", 21, n, &why));
	CHECK_STR(n, "SUCCESS,FAILURE,DELAY");
	why = NULL;
	CHECK(!dsn_notify_norm("never,success", 13, n, &why) && why);
	CHECK(!dsn_notify_norm("", 0, n, &why));
	CHECK(!dsn_notify_norm(",", 1, n, &why));
	CHECK(!dsn_notify_norm("success,", 8, n, &why));
	CHECK(!dsn_notify_norm("success,,delay", 14, n, &why));
	CHECK(!dsn_notify_norm("delay,delay", 11, n, &why));
	CHECK(dsn_notify_bits("NEVER") == DSN_N_NEVER);
	CHECK(dsn_notify_bits("SUCCESS,DELAY") == (DSN_N_SUCCESS | DSN_N_DELAY));
	CHECK(dsn_notify_bits(NULL) == 0 && dsn_notify_bits("") == 0);
	CHECK(dsn_envid_valid("QQ+2B314", 8, &why));
	CHECK(!dsn_envid_valid("", 0, &why));
	CHECK(!dsn_envid_valid("a+0Ab", 5, &why));
	CHECK(!dsn_envid_valid("a+80b", 5, &why));
	{
		char big[DSN_ENVID_MAX + 2];
		memset(big, 'x', sizeof big);
		CHECK(dsn_envid_valid(big, DSN_ENVID_MAX, &why));
		CHECK(!dsn_envid_valid(big, DSN_ENVID_MAX + 1, &why));
	}
	CHECK(dsn_orcpt_valid("rfc822;a+40b@c", 14, &why));
	CHECK(dsn_orcpt_valid("x-foo;bar", 9, &why));
	CHECK(!dsn_orcpt_valid("rfc822", 6, &why));
	CHECK(!dsn_orcpt_valid(";a@b", 4, &why));
	CHECK(!dsn_orcpt_valid("rfc822;", 7, &why));
	CHECK(!dsn_orcpt_valid("rf c;a", 6, &why));
	CHECK(!dsn_orcpt_valid("rfc822;a=b", 10, &why));
	CHECK(!dsn_orcpt_valid("rfc822;a+0D+0Ab", 15, &why));
}

/* Run the fd-1 items of env (len bytes) through dsnrec_item as relay-queue
 * does; the lines written into out; returns the first refusal's code. */
static int items(const char *env, size_t len, struct buf *out, const char **why)
{
	struct dsnrec_seq s = DSNREC_SEQ_INIT;
	size_t pos = 0;
	out->len = 0;
	while (pos < len) {
		size_t used = 0, l;
		int d = dsnrec_item(&s, env + pos, len - pos, out, &used, why);
		if (d < 0)
			return d;
		if (d > 0) {
			pos += used;
			continue;
		}
		if (env[pos] == 0)
			return 0;
		l = strnlen(env + pos, len - pos);
		buf_add(out, env + pos, l);
		buf_addc(out, '\n');
		pos += l + 1;
	}
	return 0;
}

static void fd1(void)
{
	struct buf b = BUF_INIT;
	const char *why = NULL;
#define ITEMS(lit) items(lit, sizeof lit - 1, &b, &why)
	CHECK(ITEMS("Fa@b\0Eid+2B\0Rhdrs\0Ndelay,failure\0Orfc822;x\0Tc@d\0Te@f\0\0") == 0);
	buf_addc(&b, 0);
	CHECK_STR(b.p, "Fa@b\nEid+2B\nRHDRS\nNFAILURE,DELAY\nOrfc822;x\nTc@d\nTe@f\n");
	CHECK(ITEMS("Fa@b\0Tc@d\0\0") == 0);   /* no DSN records: nothing changes */
	buf_addc(&b, 0);
	CHECK_STR(b.p, "Fa@b\nTc@d\n");
	CHECK(ITEMS("Eid\0Fa@b\0Tc@d\0\0") == -1 && strstr(why, "before the sender"));
	CHECK(ITEMS("Fa@b\0Tc@d\0Eid\0\0") == -1 && strstr(why, "after a recipient"));
	CHECK(ITEMS("Fa@b\0Eid\0Eid\0Tc@d\0\0") == -1 && strstr(why, "twice"));
	CHECK(ITEMS("Fa@b\0Nnever\0Tc@d\0Nnever\0Te@f\0\0") == 0);   /* once per recipient */
	CHECK(ITEMS("Fa@b\0Nnever\0Nnever\0Tc@d\0\0") == -1 && strstr(why, "twice"));
	CHECK(ITEMS("Fa@b\0Orfc822;x\0Orfc822;y\0Tc@d\0\0") == -1 && strstr(why, "twice"));
	CHECK(ITEMS("Fa@b\0Tc@d\0Nnever\0\0") == -1 && strstr(why, "without its recipient"));
	CHECK(ITEMS("Fa@b\0Rbody\0Tc@d\0\0") == -1 && strstr(why, "RET"));
	CHECK(ITEMS("Fa@b\0Nsoon\0Tc@d\0\0") == -1 && strstr(why, "NOTIFY"));
	CHECK(ITEMS("Fa@b\0Ea\nb\0Tc@d\0\0") == -1 && strstr(why, "xtext"));
	CHECK(ITEMS("Fa@b\0Eab") == -1 && strstr(why, "not terminated"));
	/* requiretls (issue 15): Q, no value, once, before the recipients */
	CHECK(ITEMS("Fa@b\0Q\0Tc@d\0\0") == 0);
	buf_addc(&b, 0);
	CHECK_STR(b.p, "Fa@b\nQ\nTc@d\n");
	CHECK(ITEMS("Fa@b\0Qx\0Tc@d\0\0") == -1 && strstr(why, "with a value"));
	CHECK(ITEMS("Fa@b\0Q\0Q\0Tc@d\0\0") == -1 && strstr(why, "twice"));
	CHECK(ITEMS("Fa@b\0Tc@d\0Q\0\0") == -1 && strstr(why, "after a recipient"));
	CHECK(ITEMS("Q\0Fa@b\0Tc@d\0\0") == -1 && strstr(why, "before the sender"));
#undef ITEMS
	buf_free(&b);
}

static void file(void)
{
	char qf[] = "RQ1\nA1\nCdefault\nFa@b\nEenv+2B1\nRFULL\nNSUCCESS\nOrfc822;x+40y\nTc@d\nTe@f\n"
	            "Orfc822;g\nNNEVER\nTg@h\nL0\n\n";
	struct queue_env e;
	struct dsnrec_msg m;
	const char *why = NULL, *n, *o;
	CHECK(queue_parse(qf, sizeof qf - 1, &e, &why) == 0);
	CHECK(e.nrcpt == 3);
	dsnrec_msg_read(qf, &e, &m);
	CHECK_STR(m.envid, "env+2B1");
	CHECK_STR(m.ret, "FULL");
	dsnrec_rcpt_read(qf, &e, 0, &n, &o);
	CHECK_STR(n, "SUCCESS");
	CHECK_STR(o, "rfc822;x+40y");
	dsnrec_rcpt_read(qf, &e, 1, &n, &o);
	CHECK(!n && !o);
	dsnrec_rcpt_read(qf, &e, 2, &n, &o);
	CHECK_STR(n, "NEVER");
	CHECK_STR(o, "rfc822;g");
	queue_env_free(&e);
	{   /* without DSN records */
		char old[] = "RQ1\nA1\nCdefault\nF\nTc@d\n\n";
		CHECK(queue_parse(old, sizeof old - 1, &e, &why) == 0);
		dsnrec_msg_read(old, &e, &m);
		CHECK(!m.envid && !m.ret && !m.requiretls);
		dsnrec_rcpt_read(old, &e, 0, &n, &o);
		CHECK(!n && !o);
		queue_env_free(&e);
	}
	{   /* requiretls (issue 15): the Q line */
		char q[] = "RQ1\nA1\nCdefault\nFa@b\nEe\nQ\nTc@d\nL0\n\n";
		char qbad[] = "RQ1\nA1\nCdefault\nFa@b\nQyes\nTc@d\n\n";
		CHECK(queue_parse(q, sizeof q - 1, &e, &why) == 0);
		dsnrec_msg_read(q, &e, &m);
		CHECK(m.requiretls && m.envid && !m.ret);
		queue_env_free(&e);
		CHECK(queue_parse(qbad, sizeof qbad - 1, &e, &why) < 0 && strstr(why, "with a value"));
	}
	{   /* a bad value or a value not in its stored form is quarantined */
		char bad1[] = "RQ1\nA1\nCdefault\nF\nEa=b\nTc@d\n\n";
		char bad2[] = "RQ1\nA1\nCdefault\nF\nNdelay,success\nTc@d\n\n";
		char bad3[] = "RQ1\nA1\nCdefault\nF\nRhdrs\nTc@d\n\n";
		why = NULL;
		CHECK(queue_parse(bad1, sizeof bad1 - 1, &e, &why) < 0 && why && strstr(why, "xtext"));
		CHECK(queue_parse(bad2, sizeof bad2 - 1, &e, &why) < 0 && strstr(why, "stored form"));
		CHECK(queue_parse(bad3, sizeof bad3 - 1, &e, &why) < 0 && strstr(why, "stored form"));
	}
}

static void job(void)
{
	int sv[2], fd = -1, mfd = dup(0);
	struct job j, r;
	struct buf store = BUF_INIT;
	struct smtp_dsn d;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	memset(&j, 0, sizeof j);
	j.host = "h";
	j.sender = "a@b";
	j.ca = j.user = j.pass = j.helo = j.dns_config = "";
	j.n = 3;
	j.rcpt[0] = "c@d";
	j.rcpt[1] = "e@f";
	j.rcpt[2] = "g@h";
	j.ret = "HDRS";
	j.envid = "x+2B";
	j.notify[0] = "NEVER";
	j.orcpt[0] = "rfc822;c";
	j.orcpt[2] = "rfc822;g";
	CHECK(job_send(sv[0], &j, mfd >= 0 ? mfd : 0) == 0);
	CHECK(job_recv(sv[1], &r, &fd, &store) == 1);
	CHECK(r.n == 3);
	CHECK_STR(r.ret, "HDRS");
	CHECK_STR(r.envid, "x+2B");
	CHECK_STR(r.notify[0], "NEVER");
	CHECK_STR(r.orcpt[0], "rfc822;c");
	CHECK(!r.notify[1] && !r.orcpt[1] && !r.notify[2]);
	CHECK_STR(r.orcpt[2], "rfc822;g");
	job_dsn(&r, &d);
	CHECK(d.notify == r.notify && d.orcpt == r.orcpt && d.ret == r.ret);
	if (fd >= 0)
		close(fd);
	/* without DSN: none comes out */
	memset(j.notify, 0, sizeof j.notify);
	memset(j.orcpt, 0, sizeof j.orcpt);
	j.ret = j.envid = NULL;
	CHECK(job_send(sv[0], &j, mfd >= 0 ? mfd : 0) == 0);
	CHECK(job_recv(sv[1], &r, &fd, &store) == 1);
	CHECK(!r.ret && !r.envid && !r.notify[0] && !r.orcpt[2]);
	if (fd >= 0)
		close(fd);
	if (mfd >= 0)
		close(mfd);
	close(sv[0]);
	close(sv[1]);
	buf_free(&store);
}

int main(void)
{
	xtext();
	values();
	fd1();
	file();
	job();
	CHECK_DONE();
}
