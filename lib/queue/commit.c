/* The commit of one queue file; the contract is in commit.h. */
#include "queue/commit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/fileio.h"

int queue_commit_begin(struct queue_commit *c)
{
	int tries;
	c->fd = -1;
	c->ours = 0;
	c->dst[0] = 0;
	c->what = NULL;
	for (tries = 0; tries < 10 && c->fd < 0; tries++) {
		queue_id_new(c->id);
		if (queue_path_flat(c->tmp, sizeof c->tmp, "tmp", c->id) < 0) {
			c->tmp[0] = 0;
			c->what = "queue path too long";
			return -1;
		}
		c->fd = open(c->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (c->fd >= 0)
			c->ours = 1;
		else if (errno != EEXIST) {
			c->what = "unable to create";   /* the caller adds c->tmp */
			return -1;
		}
	}
	if (c->fd < 0) {
		c->tmp[0] = 0;
		c->what = "unable to find a free queue id";
		errno = EEXIST;
		return -1;
	}
	crash_point("queue-created");
	return 0;
}

void queue_commit_abort(struct queue_commit *c)
{
	int e = errno;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->ours)
		unlink(c->tmp);
	c->ours = 0;
	errno = e;
}

static int failed(struct queue_commit *c, const char *what)
{
	c->what = what;
	queue_commit_abort(c);
	return -1;
}

/* writev until all of iov is written, advancing past partial writes */
static int writev_all(int fd, struct iovec *iov, int n)
{
	size_t total = 0, done = 0;
	int i;
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	while (done < total) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
		for (i = 0; i < n && w > 0; i++) {
			size_t take = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			w -= (ssize_t)take;
		}
	}
	return 0;
}

int queue_commit_finish(struct queue_commit *c, time_t now, const struct buf *recs,
                        const void *trace, size_t tlen, const void *msg, size_t mlen)
{
	char head[64], tail[32], dir[PATH_MAX];
	struct iovec iov[5];
	int tries, hn, tn;

	hn = snprintf(head, sizeof head, "%sA%lld\n", QUEUE_MAGIC, (long long)now);
	/* the message length, checked before every delivery (queue.h) */
	tn = snprintf(tail, sizeof tail, "L%zu\n\n", tlen + mlen);
	iov[0] = (struct iovec){ head, (size_t)hn };
	iov[1] = (struct iovec){ recs->p ? recs->p : "", recs->len };
	iov[2] = (struct iovec){ tail, (size_t)tn };
	iov[3] = (struct iovec){ (void *)(trace ? trace : ""), tlen };
	iov[4] = (struct iovec){ (void *)(msg ? msg : ""), mlen };
	/* EFBIG (ulimit -f, SIGXFSZ ignored) and ENOSPC are temporary like
	 * every write error */
	if (writev_all(c->fd, iov, 5) < 0)
		return failed(c, "unable to write to queue/tmp");
	crash_point("queue-written");
	if (fsync_checked(c->fd) < 0)
		return failed(c, "unable to fsync queue file");
	if (close(c->fd) < 0) {
		c->fd = -1;
		return failed(c, "unable to close queue file");
	}
	c->fd = -1;
	crash_point("queue-synced");

	/* Publish: one atomic rename that never replaces an existing message. */
	for (tries = 0;; tries++) {
		if (queue_path(c->dst, sizeof c->dst, "msg", c->id) < 0)
			return failed(c, "queue path too long");
		if (renameat2(AT_FDCWD, c->tmp, AT_FDCWD, c->dst, RENAME_NOREPLACE) == 0) {
			c->ours = 0;
			break;
		}
		if (errno == EINVAL || errno == ENOSYS) {
			/* file system without RENAME_NOREPLACE: link refuses to replace too */
			if (link(c->tmp, c->dst) == 0) {
				c->ours = 0;
				unlink(c->tmp);
				break;
			}
		}
		if (errno != EEXIST || tries >= 10)
			return failed(c, "unable to publish queue file");
		queue_id_new(c->id);
	}
	c->tmp[0] = 0;
	crash_point("queue-published");
	snprintf(dir, sizeof dir, "%s", c->dst);
	*strrchr(dir, '/') = 0;
	if (fsync_dir(dir) < 0) {
		/* Not known durable: withdraw it, so the caller's retry is not
		 * a duplicate. If relay-send already holds it open, a duplicate
		 * is possible; that beats a loss. */
		int e = errno;
		unlink(c->dst);
		errno = e;
		c->what = "unable to fsync queue directory";
		return -1;
	}
	crash_point("queue-dirsynced");
	return 0;
}
