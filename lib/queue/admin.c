#include "queue/admin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fileio.h"

/* The three places of a message: msg/XX/ID, hold/ID, info/XX/ID. */
struct places {
	char msg[PATH_MAX], hold[PATH_MAX], info[PATH_MAX];
};

static int places(const char *id, struct places *p)
{
	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (queue_path(p->msg, sizeof p->msg, "msg", id) < 0 ||
	    queue_path_flat(p->hold, sizeof p->hold, "hold", id) < 0 ||
	    queue_path(p->info, sizeof p->info, "info", id) < 0)
		return -1;
	return 0;
}

/* Append the retry hint "R0 N" (due now) to the info file; N is the
 * attempts so far, or 0 with reset. */
static int hint_now(const char *id, const struct places *p, int reset)
{
	char line[64];
	int fd, attempts = 0;
	if (!reset) {
		struct buf d = BUF_INIT;
		struct queue_env e;
		struct queue_info qi;
		const char *why;
		if (queue_read_env(p->msg, &d, &e, &why) < 0 &&
		    queue_read_env(p->hold, &d, &e, &why) < 0) {
			int er = errno;
			buf_free(&d);
			errno = er;
			return -1;
		}
		if (queue_info_read(id, e.nrcpt, &qi) == 0)
			attempts = qi.attempts;
		queue_info_free(&qi);
		queue_env_free(&e);
		buf_free(&d);
	}
	fd = open(p->info, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -1;
	snprintf(line, sizeof line, "R0 %d\n", attempts);
	if (write_all(fd, line, strlen(line)) < 0) {
		int er = errno;
		close(fd);
		errno = er;
		return -1;
	}
	if (close(fd) < 0)
		return -1;
	/* the hint itself may be lost (a wait), but a new info file's name
	 * must not be: fsync its directory */
	return fsync_parent(p->info);
}

int qadmin_hold(const char *id)
{
	struct places p;
	if (places(id, &p) < 0 || rename(p.msg, p.hold) < 0)
		return -1;
	return fsync_parent(p.hold);
}

int qadmin_release(const char *id)
{
	struct places p;
	/* not held: ENOENT before anything is written */
	if (places(id, &p) < 0 || access(p.hold, F_OK) < 0 || hint_now(id, &p, 0) < 0 ||
	    rename(p.hold, p.msg) < 0)
		return -1;
	return fsync_parent(p.msg);
}

int qadmin_delete(const char *id)
{
	struct places p;
	const char *gone = p.msg;
	if (places(id, &p) < 0)
		return -1;
	if (unlink(p.msg) < 0) {
		if (unlink(p.hold) < 0)
			return -1;
		gone = p.hold;
	}
	if (fsync_parent(gone) < 0)
		return -1;
	if (unlink(p.info) < 0)
		return errno == ENOENT ? 0 : -1;   /* none yet is fine */
	return fsync_parent(p.info);
}

int qadmin_requeue(const char *id)
{
	struct places p;
	if (places(id, &p) < 0 || access(p.msg, F_OK) < 0)
		return -1;
	return hint_now(id, &p, 1);
}

int qadmin_become_owner(char *err, size_t errcap)
{
	char q[PATH_MAX];
	struct stat st;
	struct passwd *pw;
	if (geteuid() != 0)
		return 0;
	if (queue_path_flat(q, sizeof q, "", NULL) < 0) {
		snprintf(err, errcap, "queue path too long");
		return -1;
	}
	if (stat(q, &st) < 0) {
		if (errno == ENOENT)
			return 0;	/* no queue: the command says what is missing */
		snprintf(err, errcap, "unable to stat %s", q);
		return -1;
	}
	if (st.st_uid == 0)
		return 0;
	errno = 0;
	if (!(pw = getpwuid(st.st_uid))) {
		if (!errno)
			errno = ENOENT;
		snprintf(err, errcap, "unable to find the user of uid %ld, the owner of %s", (long)st.st_uid, q);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		snprintf(err, errcap, "unable to become %s, the owner of %s", pw->pw_name, q);
		return -1;
	}
	if (setuid(0) == 0) {   /* must not be able to go back */
		errno = EPERM;
		snprintf(err, errcap, "still root after dropping to %s", pw->pw_name);
		return -1;
	}
	return 1;
}

int qadmin_wake(void)
{
	char path[PATH_MAX], b[32];
	int fd;
	ssize_t n;
	long pid;
	if (queue_path_flat(path, sizeof path, "relay-send.pid", NULL) < 0)
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0)
		return 1;
	b[n] = 0;
	pid = strtol(b, NULL, 10);
	if (pid <= 1 || kill((pid_t)pid, SIGALRM) < 0)
		return 1;
	return 0;
}

/* ---- the walk */

static int add_dir(struct qadmin_list *l, const char *dir, int held, char *err, size_t errcap)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errcap, "unable to open %s", dir);
		return -1;
	}
	while ((de = readdir(d))) {
		struct qadmin_entry *e;
		if (!queue_id_valid(de->d_name))
			continue;
		if (l->n == l->cap) {
			size_t nc = l->cap ? l->cap * 2 : 256;
			void *np = realloc(l->e, nc * sizeof *l->e);
			if (!np) {
				closedir(d);
				snprintf(err, errcap, "out of memory");
				errno = ENOMEM;
				return -1;
			}
			l->e = np;
			l->cap = nc;
		}
		e = &l->e[l->n];
		memcpy(e->id, de->d_name, QUEUE_ID_LEN + 1);
		if (snprintf(e->path, sizeof e->path, "%s/%s", dir, de->d_name) >= (int)sizeof e->path) {
			closedir(d);
			snprintf(err, errcap, "queue path too long");
			errno = ENAMETOOLONG;
			return -1;
		}
		e->held = held;
		l->n++;
	}
	closedir(d);
	return 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct qadmin_entry *)a)->id, ((const struct qadmin_entry *)b)->id);
}

int qadmin_scan(struct qadmin_list *l, char *err, size_t errcap)
{
	char dir[PATH_MAX];
	int i;
	for (i = 0; i < QUEUE_BUCKETS; i++) {
		char sub[8];
		snprintf(sub, sizeof sub, "msg/%02x", i);
		if (queue_path_flat(dir, sizeof dir, sub, NULL) < 0 ||
		    add_dir(l, dir, 0, err, errcap) < 0)
			return -1;
	}
	if (queue_path_flat(dir, sizeof dir, "hold", NULL) < 0 ||
	    add_dir(l, dir, 1, err, errcap) < 0)
		return -1;
	if (l->n)
		qsort(l->e, l->n, sizeof *l->e, by_id);
	return 0;
}

void qadmin_list_free(struct qadmin_list *l)
{
	free(l->e);
	l->e = NULL;
	l->n = l->cap = 0;
}

int qadmin_read(const struct qadmin_entry *e, struct qadmin_msg *m, const char **why)
{
	struct stat st;
	*why = NULL;
	errno = 0;
	if (queue_read_env(e->path, &m->data, &m->env, why) < 0) {
		if (errno == ENOENT)
			*why = NULL;  /* delivered while we looked */
		return 0;
	}
	if (stat(e->path, &st) < 0) {
		queue_env_free(&m->env);
		return 0;
	}
	m->size = (long long)st.st_size - (long long)m->env.body_off;
	if (queue_info_read(e->id, m->env.nrcpt, &m->info) < 0) {
		int er = errno;
		qadmin_msg_done(m);
		errno = er;
		return -1;
	}
	return 1;
}

void qadmin_msg_done(struct qadmin_msg *m)
{
	queue_info_free(&m->info);
	queue_env_free(&m->env);
}

void qadmin_msg_free(struct qadmin_msg *m)
{
	qadmin_msg_done(m);
	buf_free(&m->data);
}

const char *qadmin_status(int state, int attempts)
{
	switch (state) {
	case RS_DELIVERED: return "delivered";
	case RS_FAILED: return "failed";
	case RS_BOUNCED: return "bounced";
	default: return attempts ? "deferred" : "queued";
	}
}

/* Entries in queue/SUB (not . files); 0 when it cannot be read. */
static long count_files(const char *sub)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	long n = 0;
	if (queue_path_flat(dir, sizeof dir, sub, NULL) < 0 || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int qadmin_stat(struct qadmin_stat *s, time_t now, char *err, size_t errcap)
{
	struct qadmin_list l = QADMIN_LIST_INIT;
	struct qadmin_msg m = QADMIN_MSG_INIT;
	size_t i, k;
	int r = 0;
	memset(s, 0, sizeof *s);
	if (qadmin_scan(&l, err, errcap) < 0)
		r = -1;
	for (i = 0; r == 0 && i < l.n; i++) {
		const char *why;
		int got = qadmin_read(&l.e[i], &m, &why);
		if (got < 0) {
			int er = errno;
			snprintf(err, errcap, "unable to read the info file of %s", l.e[i].id);
			errno = er;
			r = -1;
		}
		if (got <= 0)
			continue;
		if (l.e[i].held)
			s->held++;
		else
			s->messages++;
		if (m.info.attempts)
			s->deferred++;
		s->bytes += m.size;
		if (now - m.env.arrival > s->oldest)
			s->oldest = now - m.env.arrival;
		for (k = 0; k < m.env.nrcpt; k++) {
			if (m.info.state[k] == RS_DELIVERED) s->delivered++;
			else if (m.info.state[k] == RS_PENDING) s->pending++;
			else s->failed++;
		}
		qadmin_msg_done(&m);
	}
	s->tmp = count_files("tmp");
	s->corrupt = count_files("corrupt");
	qadmin_msg_free(&m);
	qadmin_list_free(&l);
	return r;
}

/* ---- mailq (sendmail -bp) */

#define MAILQ_W (QUEUE_ID_LEN + 1 + 1 + 8 + 1 + 20 + 1)
int qadmin_mailq(FILE *out, char *err, size_t errcap)
{
	struct qadmin_list l = QADMIN_LIST_INIT;
	struct qadmin_msg m = QADMIN_MSG_INIT;
	char when[64];
	long long bytes = 0;
	size_t i, k, shown = 0;
	if (qadmin_scan(&l, err, errcap) < 0)
		return -1;
	for (i = 0; i < l.n; i++) {
		const char *why;
		struct tm tm;
		int r = qadmin_read(&l.e[i], &m, &why);
		if (r < 0) {
			int e = errno;
			snprintf(err, errcap, "unable to read the info file of %s", l.e[i].id);
			qadmin_msg_free(&m);
			qadmin_list_free(&l);
			errno = e;
			return -1;
		}
		if (r == 0) {
			if (why)
				warn_("unable to read %s: %s", l.e[i].path, why);
			continue;
		}
		if (shown++ == 0)
			fprintf(out, "%-*s --Size-- ----Arrival Time---- -Sender/Recipient-------\n",
			       QUEUE_ID_LEN + 1, "-Queue ID-");
		if (!localtime_r(&m.env.arrival, &tm) || !strftime(when, sizeof when, "%a %b %e %H:%M:%S", &tm))
			snprintf(when, sizeof when, "%lld", (long long)m.env.arrival);
		fprintf(out, "%-*s%c %8lld %-20.20s %s\n", QUEUE_ID_LEN, l.e[i].id, l.e[i].held ? '!' : ' ',
		       m.size, when, m.env.sender[0] ? m.env.sender : "MAILER-DAEMON");
		for (k = 0; k < m.env.nrcpt; k++)
			if (m.info.state[k] == RS_PENDING)
				fprintf(out, "%*s%s\n", MAILQ_W, "", m.env.rcpt[k]);
		fputc('\n', out);
		bytes += m.size;
		qadmin_msg_done(&m);
	}
	if (shown)
		fprintf(out, "-- %lld Kbytes in %zu Request%s.\n", (bytes + 1023) / 1024, shown, shown == 1 ? "" : "s");
	else
		fputs("Mail queue is empty\n", out);
	qadmin_msg_free(&m);
	qadmin_list_free(&l);
	return 0;
}
