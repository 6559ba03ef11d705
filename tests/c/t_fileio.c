/* lib/base/fileio.c: full reads and writes, reading a file with a cap,
 * directory fsync, the atomic write and its failure paths, and the
 * test hooks (RELAY_FAIL_FSYNC, RELAY_CRASH_AT), which each read their
 * variable once and so are tried in a child process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "base/fileio.h"

static char dir[] = "/tmp/t_fileio.XXXXXX";

static const char *at(const char *name)
{
	static char p[4][PATH_MAX];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

/* Entries in dir whose name starts with prefix (temp files left behind). */
static int count(const char *prefix)
{
	char cmd[PATH_MAX + 64];
	FILE *f;
	int n = -1;
	snprintf(cmd, sizeof cmd, "ls -a %s | grep -c '^%s'", dir, prefix);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void t_read_write(void)
{
	int p[2], fd;
	char b[16];
	struct buf big = BUF_INIT;
	CHECK(pipe(p) == 0);
	CHECK(write_all(p[1], "hello", 5) == 0);
	close(p[1]);
	CHECK(read_full(p[0], b, sizeof b) == 5); /* short only at EOF */
	CHECK(memcmp(b, "hello", 5) == 0);
	CHECK(read_full(p[0], b, sizeof b) == 0);
	close(p[0]);
	errno = 0;
	CHECK(read_full(-1, b, 1) == -1 && errno == EBADF);
	errno = 0;
	CHECK(write_all(-1, "x", 1) == -1 && errno == EBADF);
	/* a reader that went away: EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	CHECK(pipe(p) == 0);
	close(p[0]);
	errno = 0;
	CHECK(write_all(p[1], "x", 1) == -1 && errno == EPIPE);
	close(p[1]);

	/* read_fd and read_file: to EOF, with a cap */
	fd = open(at("f"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	if (buf_reserve(&big, 200000) == 0) {
		memset(big.p, 'x', 200000);
		CHECK(write_all(fd, big.p, 200000) == 0);
	}
	close(fd);
	big.len = 0;
	CHECK(read_file(at("f"), &big, 200000) == 0 && big.len == 200000 && big.p[big.len] == 0);
	big.len = 0;
	errno = 0;
	CHECK(read_file(at("f"), &big, 199999) == -1 && errno == EFBIG);
	errno = 0;
	CHECK(read_file(at("absent"), &big, 10) == -1 && errno == ENOENT);
	CHECK(symlink(at("f"), at("link")) == 0);
	errno = 0;
	CHECK(read_file(at("link"), &big, 200000) == -1 && errno == ELOOP); /* O_NOFOLLOW */
	buf_free(&big);
}

static void t_fsync(void)
{
	char longp[PATH_MAX + 16];
	CHECK(fsync_dir(dir) == 0);
	errno = 0;
	CHECK(fsync_dir(at("absent")) == -1 && errno == ENOENT);
	errno = 0;
	CHECK(fsync_dir(at("f")) == -1 && errno == ENOTDIR);
	CHECK(fsync_parent(at("f")) == 0);
	CHECK(fsync_parent("relative-name") == 0); /* the current directory */
	CHECK(fsync_parent("/etc") == 0);          /* the root */
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = 0;
	longp[sizeof longp - 3] = '/';
	errno = 0;
	CHECK(fsync_parent(longp) == -1 && errno == ENAMETOOLONG);
}

static void t_atomic(void)
{
	struct buf b = BUF_INIT;
	struct stat st;
	mode_t old = umask(077);
	char longp[PATH_MAX];
	CHECK(atomic_write(at("a"), "one\n", 4, 0644) == 0);
	CHECK(stat(at("a"), &st) == 0 && (st.st_mode & 07777) == 0644); /* not the umask */
	CHECK(atomic_write(at("a"), "two\n", 4, 0600) == 0);            /* replaces */
	CHECK(read_file(at("a"), &b, 100) == 0 && b.len == 4 && memcmp(b.p, "two\n", 4) == 0);
	CHECK(stat(at("a"), &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(atomic_write(at("empty"), "", 0, 0644) == 0);
	CHECK(stat(at("empty"), &st) == 0 && st.st_size == 0);
	umask(old);
	CHECK(count("a.tmp.") == 0);
	/* failures leave nothing behind and the old file as it was */
	errno = 0;
	CHECK(atomic_write(at("nodir/x"), "x", 1, 0644) == -1 && errno == ENOENT);
	CHECK(mkdir(at("isdir"), 0755) == 0);
	CHECK(atomic_write(at("isdir"), "x", 1, 0644) == -1); /* rename over a directory */
	CHECK(count("isdir.tmp.") == 0);
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = 0;
	errno = 0;
	CHECK(atomic_write(longp, "x", 1, 0644) == -1 && errno == ENAMETOOLONG);
	buf_free(&b);
}

/* In a child: RELAY_FAIL_FSYNC=1 makes fsync_checked, and so
 * atomic_write and fsync_dir, fail with EIO. Runs first: the variable
 * is read once per process, and a child inherits what was read. */
static void t_fail_fsync(void)
{
	struct buf b = BUF_INIT;
	int status = -1;
	pid_t pid;
	FILE *f = fopen(at("a"), "w");
	CHECK(f != NULL);
	if (f) {
		fputs("two\n", f);
		fclose(f);
	}
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int bad = 0, fd;
		setenv("RELAY_FAIL_FSYNC", "1", 1);
		errno = 0;
		bad |= atomic_write(at("a"), "three\n", 6, 0644) != -1 || errno != EIO;
		errno = 0;
		bad |= fsync_dir(dir) != -1 || errno != EIO;
		fd = open(at("a"), O_RDONLY);
		errno = 0;
		bad |= fsync_checked(fd) != -1 || errno != EIO;
		_exit(bad);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(read_file(at("a"), &b, 100) == 0 && b.len == 4 && memcmp(b.p, "two\n", 4) == 0);
	CHECK(count("a.tmp.") == 0);
	/* any other value: fsync for real */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setenv("RELAY_FAIL_FSYNC", "0", 1);
		_exit(atomic_write(at("a"), "four\n", 5, 0644) != 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	buf_free(&b);
}

/* In a child: RELAY_CRASH_AT=NAME kills the process at crash_point(NAME)
 * and nowhere else. */
static void t_crash_point(void)
{
	int status = -1;
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setenv("RELAY_CRASH_AT", "t-here", 1);
		crash_point("t-elsewhere");
		crash_point("t-here");
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		unsetenv("RELAY_CRASH_AT");
		crash_point("t-here");
		_exit(7);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

int main(void)
{
	char cmd[PATH_MAX + 16];
	CHECK(mkdtemp(dir) != NULL);
	t_fail_fsync();
	t_crash_point();
	t_read_write();
	t_fsync();
	t_atomic();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
