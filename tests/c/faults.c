/* libfaults.so: fault injection for the tests, by LD_PRELOAD (built by
 * `make tests` as build/tests/libfaults.so; not linked into relay).
 * Every fault is off unless its variable is set:
 *   FAULT_FORK_FILE=PATH    fork() fails with EAGAIN while PATH exists
 *   FAULT_WRITE_MATCH=STR   write() to a file whose path contains STR...
 *   FAULT_WRITE_AFTER=N     ...writes at most N bytes in all (in this
 *                           process; a write that crosses it is short),
 *                           then fails with ENOSPC (default N: 0)
 *   FAULT_FSYNC_MATCH=STR   fsync() of a file whose path contains STR
 *                           fails with EIO
 *   FAULT_LOG=PATH          append a line per injected fault to PATH */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);

static write_fn real_write(void)
{
	static write_fn f;
	if (!f)
		f = (write_fn)dlsym(RTLD_NEXT, "write");
	return f;
}

static void note(const char *what)
{
	const char *log = getenv("FAULT_LOG");
	char b[160];
	int fd, n;
	if (!log)
		return;
	fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	n = snprintf(b, sizeof b, "%ld %s\n", (long)getpid(), what);
	if (real_write()(fd, b, (size_t)n) < 0)
		n = 0;
	close(fd);
}

/* fd's path contains the value of variable var */
static int fd_matches(int fd, const char *var)
{
	const char *m = getenv(var);
	char link[64], path[4096];
	ssize_t n;
	if (!m || !*m)
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return 0;
	path[n] = 0;
	return strstr(path, m) != NULL;
}

pid_t fork(void)
{
	static pid_t (*f)(void);
	const char *p = getenv("FAULT_FORK_FILE");
	struct stat st;
	if (p && *p && stat(p, &st) == 0) {
		note("fork: EAGAIN");
		errno = EAGAIN;
		return -1;
	}
	if (!f)
		f = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
	return f();
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static unsigned long long written;
	if (fd > 2 && fd_matches(fd, "FAULT_WRITE_MATCH")) {
		const char *a = getenv("FAULT_WRITE_AFTER");
		unsigned long long cap = a ? strtoull(a, NULL, 10) : 0;
		ssize_t w;
		if (written >= cap) {
			note("write: ENOSPC");
			errno = ENOSPC;
			return -1;
		}
		if (n > cap - written) {
			n = (size_t)(cap - written);
			note("write: short");
		}
		w = real_write()(fd, buf, n);
		if (w > 0)
			written += (unsigned long long)w;
		return w;
	}
	return real_write()(fd, buf, n);
}

int fsync(int fd)
{
	static int (*f)(int);
	if (fd_matches(fd, "FAULT_FSYNC_MATCH")) {
		note("fsync: EIO");
		errno = EIO;
		return -1;
	}
	if (!f)
		f = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return f(fd);
}
