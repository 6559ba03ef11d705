/* lib/intake/submit.c: the exit-code table, where the queue program is
 * found, the envelope records, and hand-overs to stand-in queue programs
 * (shell scripts made here, and tests/fake-relay-queue when found).
 *   t_submit program    prints what submit_program finds (for the
 *                       "next to the executable" case, run from a copy) */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "base/diag.h"
#include "base/fileio.h"
#include "intake/submit.h"

static char dir[] = "/tmp/t_submit.XXXXXX";
static const char env[] = "Cbulk\0Fa@example.org\0Tb@example.net\0Tc@example.net\0";
#define ENVLEN (sizeof env)   /* with the final NUL that ends the envelope */

static void table(void)
{
	int c;
	CHECK_STR(submit_exit_text(0), "queued");
	CHECK(!submit_exit_temporary(11) && !submit_exit_temporary(31));
	CHECK_STR(submit_exit_text(11), "address too long");
	CHECK_STR(submit_exit_text(31), "message refused");
	for (c = 11; c <= 40; c++)
		CHECK(!submit_exit_temporary(c));           /* qmail-queue: permanent */
	for (c = 41; c < 256; c++)
		CHECK(submit_exit_temporary(c));            /* all other codes */
	for (c = 1; c < 11; c++)
		CHECK(submit_exit_temporary(c));
	CHECK(submit_exit_temporary(QQ_BADENV));         /* 91: see submit.h */
	CHECK_STR(submit_exit_text(91), "bad envelope");
	CHECK_STR(submit_exit_text(51), "out of memory");
	CHECK_STR(submit_exit_text(53), "queue write error or disk full");
	CHECK_STR(submit_exit_text(54), "unable to read the message");
	CHECK_STR(submit_exit_text(55), "unable to read the envelope");
	CHECK_STR(submit_exit_text(81), "internal bug");
	CHECK_STR(submit_exit_text(120), "unable to run the queue program");
	CHECK_STR(submit_exit_text(12), "permanent queue failure");
	CHECK_STR(submit_exit_text(99), "queue failure");
	for (c = 1; c < 256; c++)
		CHECK(submit_exit_text(c) != NULL && *submit_exit_text(c));
}

static void records(void)
{
	struct buf b = BUF_INIT;
	char *r[] = {"b@example.net", "c@example.net"};
	CHECK(submit_envelope(&b, "bulk", "a@example.org", r, 2) == 0);
	CHECK_MEM(b.p, b.len, env, ENVLEN);
	CHECK(submit_envelope(&b, NULL, "", r, 1) == 0);      /* replaces */
	CHECK_MEM(b.p, b.len, "F\0Tb@example.net\0", 18);
	CHECK(submit_envelope(&b, "", "", r, 1) == 0);        /* "" is no class */
	CHECK_MEM(b.p, b.len, "F\0Tb@example.net\0", 18);
	buf_free(&b);
}

/* A stand-in queue program: a shell script with body. */
static const char *script(const char *name, const char *body)
{
	static char p[PATH_MAX];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fprintf(f, "#!/bin/sh\nd=%s\n%s\n", dir, body);
		fclose(f);
	}
	chmod(p, 0755);
	setenv("RELAYQUEUE", p, 1);
	return p;
}

static int file_is(const char *name, const char *want, size_t n)
{
	char p[PATH_MAX];
	struct buf b = BUF_INIT;
	int ok;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	ok = read_file(p, &b, 1 << 20) == 0 && b.len == n && memcmp(b.p, want, n) == 0;
	buf_free(&b);
	return ok;
}

static void program(void)
{
	char p[PATH_MAX], self[PATH_MAX], cmd[3 * PATH_MAX];
	FILE *f;
	ssize_t n;
	setenv("RELAYQUEUE", "/some/filter", 1);
	CHECK(submit_program(p, sizeof p) == 0);
	CHECK_STR(p, "/some/filter");
	CHECK(submit_program(p, 5) == -1 && errno == ENAMETOOLONG);
	setenv("RELAYQUEUE", "", 1);                    /* empty is unset */
	CHECK(submit_program(p, sizeof p) == 0);
	CHECK_STR(p, RELAY_BINDIR "/relay-queue");      /* none next to t_submit */
	unsetenv("RELAYQUEUE");
	CHECK(submit_program(p, sizeof p) == 0);
	CHECK_STR(p, RELAY_BINDIR "/relay-queue");
	/* a copy of this program with an executable relay-queue beside it */
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	if (n <= 0)
		return;
	self[n] = 0;
	snprintf(cmd, sizeof cmd, "mkdir %s/bin && cp %s %s/bin/t_submit && : > %s/bin/relay-queue && "
	         "%s/bin/t_submit program > %s/found", dir, self, dir, dir, dir, dir);
	CHECK(system(cmd) == 0);                        /* not executable: not taken */
	snprintf(p, sizeof p, "%s\n", RELAY_BINDIR "/relay-queue");
	CHECK(file_is("found", p, strlen(p)));
	snprintf(cmd, sizeof cmd, "chmod +x %s/bin/relay-queue && %s/bin/t_submit program > %s/found",
	         dir, dir, dir);
	CHECK(system(cmd) == 0);
	snprintf(p, sizeof p, "%s/bin/relay-queue\n", dir);
	CHECK(file_is("found", p, strlen(p)));
	(void)f;
}

static void handovers(void)
{
	struct submit s;
	char d[512], big[256 * 1024];
	const char *rec = "cat > $d/m; cat <&1 > $d/e; echo \"${RELAYQUEUE_IDFD-unset}\" > $d/idfd";
	const char *prog;

	/* exit 0: the message on fd 0, the envelope on fd 1 */
	setenv(SUBMIT_IDFD_ENV, "9", 1);                 /* ours is not passed on */
	prog = script("q0", rec);
	CHECK(submit(&s, "Subject: s\r\n\r\nx\r\n", 17, env, ENVLEN, 0) == 0);
	CHECK_STR(s.prog, prog);
	CHECK(s.code == 0 && s.sig == 0 && s.werr == 0 && s.err == 0 && s.id[0] == 0);
	CHECK(file_is("m", "Subject: s\r\n\r\nx\r\n", 17));
	CHECK(file_is("e", env, ENVLEN));
	CHECK(file_is("idfd", "unset\n", 6));
	unsetenv(SUBMIT_IDFD_ENV);

	/* the queue id on RELAYQUEUE_IDFD */
	/* /dev/fd/N, as dash has no >&N past 9 (the sanitizer build's fds) */
	script("qid", "cat > /dev/null; cat <&1 > /dev/null; "
	       "echo 19ab3c4d5e6f7.1a2b3c4d > /dev/fd/$RELAYQUEUE_IDFD");
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 1) == 0);
	CHECK_STR(s.id, "19ab3c4d5e6f7.1a2b3c4d");
	script("qnoid", "cat > /dev/null; cat <&1 > /dev/null");
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 1) == 0);  /* none reported: "" */
	CHECK_STR(s.id, "");

	/* in pieces */
	script("q0", rec);
	CHECK(submit_start(&s, 0) == 0);
	CHECK(submit_write(&s, "Subject: s\r\n", 12) == 0);
	CHECK(submit_write(&s, "\r\nbody\r\n", 8) == 0);
	CHECK(submit_end(&s, env, ENVLEN) == 0);
	CHECK(file_is("m", "Subject: s\r\n\r\nbody\r\n", 20));

	/* exit codes through the table */
	script("q53", "cat > /dev/null; exit 53");
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 0) == EXIT_TEMP);
	CHECK(s.code == 53);
	submit_describe(&s, d, sizeof d);
	CHECK(strstr(d, "queue program ") == d);
	CHECK(strstr(d, "/q53: queue write error or disk full (exit 53)") != NULL);
	script("q11", "cat > /dev/null; exit 11");
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 0) == EXIT_PERM);
	script("q31", "cat > /dev/null; exit 31");
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 0) == EXIT_PERM);
	script("q91", "cat > /dev/null; exit 91");
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 0) == EXIT_TEMP);
	submit_describe(&s, d, sizeof d);
	CHECK(strstr(d, "bad envelope (exit 91)") != NULL);

	/* exit 0 without reading the message: not taken, temporary */
	memset(big, 'x', sizeof big);
	script("qlazy", "exit 0");
	CHECK(submit(&s, big, sizeof big, env, ENVLEN, 0) == EXIT_TEMP);
	CHECK(s.code == 0 && s.werr == EPIPE);
	submit_describe(&s, d, sizeof d);
	CHECK(strstr(d, "exited 0 but did not take the whole message") != NULL);
	/* refusing early (31) while the message is still being written */
	script("qearly", "exit 31");
	CHECK(submit(&s, big, sizeof big, env, ENVLEN, 0) == EXIT_PERM);

	/* killed by a signal; not there at all */
	script("qkill", "cat > /dev/null; kill -9 $$");
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 0) == EXIT_TEMP);
	CHECK(s.sig == 9);
	submit_describe(&s, d, sizeof d);
	CHECK(strstr(d, "crashed (signal 9)") != NULL);
	setenv("RELAYQUEUE", "/nonexistent/relay-queue", 1);
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 0) == EXIT_TEMP);
	CHECK(s.code == QQ_EXEC);
	submit_describe(&s, d, sizeof d);
	CHECK_STR(d, "unable to run the queue program /nonexistent/relay-queue");

	/* SIGPIPE is not left ignored for the queue program */
	signal(SIGPIPE, SIG_IGN);
	script("qsig", "cat > /dev/null; cat <&1 > /dev/null; "
	       "m=$(awk '/^SigIgn/ {print $2}' /proc/$$/status); [ $(( 0x$m & 0x1000 )) -eq 0 ]");
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 0) == 0);

	/* the caller's fds 0 and 1 closed: the pipes still land right */
	script("q0", rec);
	{
		pid_t pid = fork();
		int st = -1;
		if (pid == 0) {
			close(0);
			close(1);
			_exit(submit(&s, "closed\r\n", 8, env, ENVLEN, 0));
		}
		CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CHECK(file_is("m", "closed\r\n", 8));
		CHECK(file_is("e", env, ENVLEN));
	}
}

/* tests/fake-relay-queue (the stand-in the bats files use), found from
 * this program's place: BUILD/tests/t_submit, or the current directory. */
static void fake_relay_queue(void)
{
	char self[PATH_MAX], p[2 * PATH_MAX], q[PATH_MAX + 16];
	struct submit s;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;
	if (n <= 0)
		return;
	self[n] = 0;
	if ((slash = strrchr(self, '/')))
		*slash = 0;
	snprintf(p, sizeof p, "%s/../../tests/fake-relay-queue", self);
	if (access(p, X_OK) != 0)
		snprintf(p, sizeof p, "tests/fake-relay-queue");
	if (access(p, X_OK) != 0) {
		printf("tests/fake-relay-queue not found: that part skipped\n");
		return;
	}
	snprintf(q, sizeof q, "%s/fakeq", dir);
	setenv("FAKEQ_DIR", q, 1);
	setenv("RELAYQUEUE", p, 1);
	CHECK(submit(&s, "Subject: f\r\n\r\nx\r\n", 17, env, ENVLEN, 0) == 0);
	CHECK(file_is("fakeq/1/message", "Subject: f\r\n\r\nx\r\n", 17));
	CHECK(file_is("fakeq/1/envelope", env, ENVLEN));
	setenv("FAKEQ_EXIT", "53", 1);
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 0) == EXIT_TEMP && s.code == 53);
	setenv("FAKEQ_EXIT", "31", 1);
	CHECK(submit(&s, "x\r\n", 3, env, ENVLEN, 0) == EXIT_PERM && s.code == 31);
	unsetenv("FAKEQ_EXIT");
}

int main(int argc, char **argv)
{
	char cmd[64];
	if (argc == 2 && strcmp(argv[1], "program") == 0) {
		char p[PATH_MAX];
		unsetenv("RELAYQUEUE");
		if (submit_program(p, sizeof p) < 0)
			return 111;
		printf("%s\n", p);
		return 0;
	}
	diag_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK(mkdtemp(dir) != NULL);
	table();
	records();
	program();
	handovers();
	fake_relay_queue();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
