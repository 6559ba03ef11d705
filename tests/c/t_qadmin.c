/* The operator's queue changes (lib/queue/admin.c) in a temporary
 * RELAY_HOME: hold and release move the queue file and keep it intact,
 * delete, requeue resets the retry hint, bad and missing ids are
 * refused; the walk, the per-message read and the counts. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "base/fileio.h"
#include "queue/admin.h"

static const char qf[] = "RQ1\nA1700000000\nCdefault\nFs@x.example\n"
                         "Ta@y.example\nTb@y.example\n\nSubject: t\r\n\r\nbody\r\n";

static char home[] = "/tmp/t_qadmin.XXXXXX";

static void mkdirs(const char *sub)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/queue/%s", home, sub);
	mkdir(p, 0755);
}

/* Put a queue file for id in msg/XX/ (and its bucket dirs). */
static void put(const char *id)
{
	char p[PATH_MAX], sub[16];
	snprintf(sub, sizeof sub, "msg/%.2s", id + 14);
	mkdirs(sub);
	snprintf(sub, sizeof sub, "info/%.2s", id + 14);
	mkdirs(sub);
	queue_path(p, sizeof p, "msg", id);
	CHECK(atomic_write(p, qf, sizeof qf - 1, 0640) == 0);
}

static int same_file(const char *path)
{
	struct buf b = BUF_INIT;
	int ok = read_file(path, &b, 1 << 20) == 0 && b.len == sizeof qf - 1 &&
	         memcmp(b.p, qf, b.len) == 0;
	buf_free(&b);
	return ok;
}

static void info(const char *id, struct buf *b)
{
	char p[PATH_MAX];
	b->len = 0;
	queue_path(p, sizeof p, "info", id);
	if (read_file(p, b, 1 << 20) < 0)
		b->len = 0;
	buf_adds(b, "");
}

int main(void)
{
	const char *id = "19ab3c4d5e6f7.1a2b3c4d", *id2 = "19ab3c4d5e6f8.1b2b3c4d";
	char m[PATH_MAX], h[PATH_MAX], ip[PATH_MAX];
	struct buf b = BUF_INIT;
	struct qadmin_list l = QADMIN_LIST_INIT;
	struct qadmin_msg msg = QADMIN_MSG_INIT;
	struct qadmin_stat st;
	char err[PATH_MAX + 64];
	const char *why;

	CHECK(mkdtemp(home) != NULL);
	setenv("RELAY_HOME", home, 1);
	mkdirs("");
	mkdirs("msg");
	mkdirs("info");
	mkdirs("hold");
	put(id);
	put(id2);
	queue_path(m, sizeof m, "msg", id);
	queue_path_flat(h, sizeof h, "hold", id);
	queue_path(ip, sizeof ip, "info", id);

	/* hold: msg/XX/ID -> hold/ID, byte for byte. */
	CHECK(qadmin_hold(id) == 0);
	CHECK(access(m, F_OK) < 0 && errno == ENOENT);
	CHECK(same_file(h));
	CHECK(qadmin_hold(id) == -1 && errno == ENOENT);  /* already held */
	CHECK(qadmin_requeue(id) == -1 && errno == ENOENT);  /* held: not due */

	/* The walk sees it held, sorted by id. */
	CHECK(qadmin_scan(&l, err, sizeof err) == 0);
	CHECK(l.n == 2);
	CHECK_STR(l.e[0].id, id);
	CHECK(l.e[0].held == 1 && l.e[1].held == 0);
	CHECK(qadmin_read(&l.e[0], &msg, &why) == 1);
	CHECK(msg.env.nrcpt == 2);
	CHECK_STR(msg.env.sender, "s@x.example");
	CHECK(msg.size == (long long)strlen("Subject: t\r\n\r\nbody\r\n"));
	CHECK_STR(qadmin_status(msg.info.state[0], msg.info.attempts), "queued");
	qadmin_msg_done(&msg);
	qadmin_list_free(&l);

	/* release: a hint due now that keeps the attempts, then back. */
	{
		const char *i0 = "F1 1700000100 5.1.1 x\nR1800000000 3\n";
		CHECK(atomic_write(ip, i0, strlen(i0), 0640) == 0);
	}
	CHECK(qadmin_release(id) == 0);
	CHECK(access(h, F_OK) < 0 && errno == ENOENT);
	CHECK(same_file(m));
	info(id, &b);
	CHECK_STR(b.p, "F1 1700000100 5.1.1 x\nR1800000000 3\nR0 3\n");
	CHECK(qadmin_release(id) == -1 && errno == ENOENT);  /* not held */

	/* requeue: due now with a fresh schedule (attempts 0). */
	CHECK(qadmin_requeue(id) == 0);
	info(id, &b);
	CHECK(strstr(b.p, "R0 3\nR0 0\n") != NULL);
	CHECK(qadmin_scan(&l, err, sizeof err) == 0);
	CHECK(qadmin_read(&l.e[0], &msg, &why) == 1);
	CHECK(msg.info.next == 0 && msg.info.attempts == 0);
	CHECK_STR(qadmin_status(msg.info.state[0], msg.info.attempts), "queued");
	CHECK_STR(qadmin_status(msg.info.state[1], msg.info.attempts), "failed");
	qadmin_msg_done(&msg);
	qadmin_list_free(&l);

	/* The counts. */
	CHECK(qadmin_stat(&st, 1700000000 + 100, err, sizeof err) == 0);
	CHECK(st.messages == 2 && st.held == 0 && st.deferred == 0);
	CHECK(st.pending == 3 && st.failed == 1 && st.delivered == 0);
	CHECK(st.oldest == 100);
	CHECK(st.bytes == 2 * (long long)strlen("Subject: t\r\n\r\nbody\r\n"));

	/* delete: the queue file and its info file. */
	CHECK(qadmin_delete(id) == 0);
	CHECK(access(m, F_OK) < 0 && access(ip, F_OK) < 0);
	CHECK(qadmin_delete(id) == -1 && errno == ENOENT);
	CHECK(qadmin_hold(id2) == 0);
	CHECK(qadmin_delete(id2) == 0);  /* a held message too */
	CHECK(qadmin_scan(&l, err, sizeof err) == 0 && l.n == 0);
	qadmin_list_free(&l);

	/* Bad ids are refused before any path is made of them. */
	{
		static const char *const bad[] = {
			"", "../../etc/passwd", "19ab3c4d5e6f7.1a2b3c4", "19ab3c4d5e6f7.1a2b3c4dd",
			"19AB3C4D5E6F7.1A2B3C4D", "19ab3c4d5e6f7/1a2b3c4d", "19ab3c4d5e6f7.1a2b3c4g",
		};
		size_t i;
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			errno = 0;
			CHECK(qadmin_hold(bad[i]) == -1 && errno == EINVAL);
			errno = 0;
			CHECK(qadmin_release(bad[i]) == -1 && errno == EINVAL);
			errno = 0;
			CHECK(qadmin_delete(bad[i]) == -1 && errno == EINVAL);
			errno = 0;
			CHECK(qadmin_requeue(bad[i]) == -1 && errno == EINVAL);
		}
	}

	/* No relay-send running: the wake says so. */
	CHECK(qadmin_wake() == 1);

	buf_free(&b);
	qadmin_msg_free(&msg);
	snprintf(err, sizeof err, "rm -rf %s", home);
	CHECK(system(err) == 0);
	CHECK_DONE();
}
