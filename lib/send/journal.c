/* The network workers' journals (journal.h). */
#include "send/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/diag.h"
#include "queue/queue.h"
#include "send/dline.h"

#define JOURNAL_MAX (4 * 1024 * 1024)   /* more than any run of kills writes */

int journal_open(int slot)
{
	char path[PATH_MAX], name[32];
	int fd;
	snprintf(name, sizeof name, "W%d", slot);
	if (queue_path_flat(path, sizeof path, "journal", name) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ENOENT) {
		char dir[PATH_MAX];
		if (queue_path_flat(dir, sizeof dir, "journal", NULL) < 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST))
			return -1;
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	return fd;
}

static int digits(const char *p, const char *end)
{
	const char *s = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > s && p - s <= 19 ? (int)(p - s) : 0;
}

int journal_parse(const char *line, size_t len, char id[QUEUE_ID_LEN + 1], const char **dline, size_t *dlen)
{
	const char *p = line, *end = line + len;
	size_t i;
	int n;
	if (len < QUEUE_ID_LEN + 1 || line[QUEUE_ID_LEN] != ' ')
		return 0;
	memcpy(id, line, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = 0;
	if (memchr(id, 0, QUEUE_ID_LEN) || !queue_id_valid(id))
		return 0;
	p += QUEUE_ID_LEN + 1;
	*dline = p;
	if (p >= end || *p++ != 'D' || !(n = digits(p, end)))
		return 0;
	p += n;
	if (p >= end || *p++ != ' ' || !(n = digits(p, end)))
		return 0;
	p += n;
	if (p >= end || *p++ != ' ')
		return 0;
	/* the relay: printable, no space (a pool member's name) */
	for (i = 0; p + i < end; i++)
		if (p[i] <= ' ' || p[i] > '~')
			return 0;
	if (i == 0 || i > 512)
		return 0;
	*dlen = (size_t)(end - *dline);
	return 1;
}

/* The D line of one journal line, in its message's info file, when the
 * message is still queued: 1 applied, 0 the message is gone, -1 not applied. */
static int apply_line(const char *id, const char *dline, size_t dlen)
{
	char path[PATH_MAX], d[600];
	struct stat st;
	int fd, r;
	if (queue_path(path, sizeof path, "msg", id) < 0)
		return -1;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;   /* done with meanwhile */
	if (queue_path(path, sizeof path, "info", id) < 0 || dlen + 1 > sizeof d)
		return -1;
	memcpy(d, dline, dlen);
	d[dlen] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640);
	if (fd < 0)
		return -1;
	r = dline_append(fd, d, dlen + 1, 1);
	close(fd);
	return r < 0 ? -1 : 1;
}

/* One journal: 0 applied (and truncated), or -1. *taken, *bad counted. */
static int apply_one(const char *path, int *taken, int *bad)
{
	struct buf b = BUF_INIT;
	struct stat st;
	size_t pos = 0;
	int fd, n, r = 0;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	/* a worker of a killed scheduler may be appending: wait for its line */
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	if (st.st_size > JOURNAL_MAX || buf_reserve(&b, (size_t)st.st_size) < 0 ||
	    pread(fd, b.p, (size_t)st.st_size, 0) != (ssize_t)st.st_size) {
		warn_sys("unable to read %s", path);
		close(fd);
		buf_free(&b);
		return -1;
	}
	b.len = (size_t)st.st_size;
	while (pos < b.len) {
		char *nl = memchr(b.p + pos, '\n', b.len - pos), id[QUEUE_ID_LEN + 1];
		const char *dl;
		size_t dlen, l;
		if (!nl) {
			(*bad)++;   /* torn: the write of a worker that died */
			break;
		}
		l = (size_t)(nl - (b.p + pos));
		if (!journal_parse(b.p + pos, l, id, &dl, &dlen))
			(*bad)++;
		else if ((n = apply_line(id, dl, dlen)) < 0) {
			warn_sys("unable to apply a delivery of %s from %s (kept for the next start)", id, path);
			r = -1;
		} else
			*taken += n;
		pos += l + 1;
	}
	buf_free(&b);
	if (r == 0 && (ftruncate(fd, 0) < 0 || fsync(fd) < 0)) {
		warn_sys("unable to truncate %s", path);
		r = -1;
	}
	close(fd);
	return r;
}

int journal_apply(void)
{
	char dir[PATH_MAX], path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int taken = 0, bad = 0, r = 0;
	if (queue_path_flat(dir, sizeof dir, "journal", NULL) < 0)
		return -1;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
		    apply_one(path, &taken, &bad) < 0)
			r = -1;
	closedir(d);
	if (taken || bad)
		warn_("journals: %d deliveries of workers of a stopped relay-send applied, %d bad lines skipped", taken, bad);
	return r < 0 ? -1 : taken;
}
