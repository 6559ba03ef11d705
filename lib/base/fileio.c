#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

ssize_t read_full(int fd, void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int read_fd(int fd, struct buf *b, size_t max)
{
	for (;;) {
		ssize_t r;
		if (buf_reserve(b, 65536) < 0)
			return -1;
		b->p[b->len] = 0;   /* terminated even when nothing is read (an empty file) */
		r = read(fd, b->p + b->len, 65536);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		b->len += (size_t)r;
		b->p[b->len] = 0;
		if (b->len > max) {
			errno = EFBIG;
			return -1;
		}
	}
}

int read_file(const char *path, struct buf *b, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int r, e;
	if (fd < 0)
		return -1;
	r = read_fd(fd, b, max);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int fsync_checked(int fd)
{
	static int fail = -1;
	if (fail < 0) {
		const char *s = getenv("RELAY_FAIL_FSYNC");
		fail = s && *s == '1';
	}
	if (fail) {
		errno = EIO;
		return -1;
	}
	while (fsync(fd) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r, e;
	if (fd < 0)
		return -1;
	r = fsync_checked(fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *s = strrchr(path, '/');
	if (!s)
		return fsync_dir(".");
	if ((size_t)(s - path) >= sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, (size_t)(s - path));
	dir[s - path] = 0;
	return fsync_dir(s == path ? "/" : dir);
}

int atomic_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, e;
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync_checked(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return fsync_parent(path);
}

void crash_point(const char *name)
{
	static const char *at = (const char *)-1;
	if (at == (const char *)-1)
		at = getenv("RELAY_CRASH_AT");
	if (at && strcmp(at, name) == 0)
		kill(getpid(), SIGKILL);
}

int lock_take(const char *path, mode_t mode)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
	}
	return fd;
}

void lock_release(int fd)
{
	int e = errno;
	close(fd);   /* releases the flock */
	errno = e;
}
