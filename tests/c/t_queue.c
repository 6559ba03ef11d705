/* lib/queue/queue.c: ids, the path layout, queue_parse of good and
 * malformed envelopes, the info records, in a temporary RELAY_HOME. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "queue/queue.h"

static char home[] = "/tmp/t_queue.XXXXXX";

static int parse(const char *text, struct queue_env *e, const char **why)
{
	static char data[4096];
	size_t n = strlen(text);
	memcpy(data, text, n + 1);
	return queue_parse(data, n, e, why);
}

/* Every malformed envelope is refused with a reason, and leaves nothing
 * to free. */
static void bad(const char *text, size_t n, const char *want)
{
	char data[256];
	struct queue_env e;
	const char *why = NULL;
	memcpy(data, text, n);
	CHECK(queue_parse(data, n, &e, &why) == -1);
	CHECK_STR(why, want);
	CHECK(e.rcpt == NULL && e.nrcpt == 0);
}

static void ids(void)
{
	static char id[2000][QUEUE_ID_LEN + 1];
	size_t i, j, dup = 0, unsorted = 0;
	for (i = 0; i < 2000; i++) {
		queue_id_new(id[i]);
		CHECK(queue_id_valid(id[i]));
		CHECK(strlen(id[i]) == QUEUE_ID_LEN && id[i][13] == '.');
		/* the time part never goes back */
		if (i && strncmp(id[i - 1], id[i], 13) > 0)
			unsorted++;
	}
	for (i = 0; i < 2000; i++)
		for (j = i + 1; j < 2000; j++)
			if (strcmp(id[i], id[j]) == 0)
				dup++;
	CHECK(dup == 0);
	CHECK(unsorted == 0);
	/* two ids a millisecond apart sort by time as strings */
	{
		char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1];
		queue_id_new(a);
		usleep(1000);
		queue_id_new(b);
		CHECK(strcmp(a, b) < 0);
	}
	CHECK(queue_id_valid("19ab3c4d5e6f7.1a2b3c4d"));
	CHECK(!queue_id_valid("19ab3c4d5e6f7.1a2b3c4"));     /* short */
	CHECK(!queue_id_valid("19ab3c4d5e6f7.1a2b3c4dd"));   /* long */
	CHECK(!queue_id_valid("19AB3c4d5e6f7.1a2b3c4d"));    /* upper case */
	CHECK(!queue_id_valid("19ab3c4d5e6f7-1a2b3c4d"));    /* no dot */
	CHECK(!queue_id_valid("19ab3c4d5e6f7.1a2b3c/d"));    /* a slash */
	CHECK(!queue_id_valid("../../../etc/passwd...."));
	CHECK(!queue_id_valid(""));
}

static void paths(void)
{
	char p[PATH_MAX], want[PATH_MAX], tiny[16];
	const char *id = "19ab3c4d5e6f7.1a2b3c4d";
	CHECK_STR(relay_home(), home);
	CHECK(queue_path(p, sizeof p, "msg", id) == 0);
	snprintf(want, sizeof want, "%s/queue/msg/1a/%s", home, id);
	CHECK_STR(p, want);
	CHECK(queue_path(p, sizeof p, "info", id) == 0);
	snprintf(want, sizeof want, "%s/queue/info/1a/%s", home, id);
	CHECK_STR(p, want);
	CHECK(queue_path_flat(p, sizeof p, "hold", id) == 0);
	snprintf(want, sizeof want, "%s/queue/hold/%s", home, id);
	CHECK_STR(p, want);
	CHECK(queue_path_flat(p, sizeof p, "tmp", NULL) == 0);
	snprintf(want, sizeof want, "%s/queue/tmp", home);
	CHECK_STR(p, want);
	errno = 0;
	CHECK(queue_path(tiny, sizeof tiny, "msg", id) == -1 && errno == ENAMETOOLONG);
	errno = 0;
	CHECK(queue_path_flat(tiny, sizeof tiny, "tmp", id) == -1 && errno == ENAMETOOLONG);
}

static void envelopes(void)
{
	struct queue_env e;
	const char *why = NULL;
	const char *good = "RQ1\nA1700000000\nCbulk\nFa@example.org\nTb@example.net\nTc@example.com\n\nSubject: x\r\n\r\nbody\r\n";
	CHECK(parse(good, &e, &why) == 0);
	CHECK(e.arrival == 1700000000);
	CHECK_STR(e.class, "bulk");
	CHECK_STR(e.sender, "a@example.org");
	CHECK(e.nrcpt == 2);
	CHECK_STR(e.rcpt[0], "b@example.net");
	CHECK_STR(e.rcpt[1], "c@example.com");
	CHECK(e.body_off == strlen(good) - strlen("Subject: x\r\n\r\nbody\r\n"));
	queue_env_free(&e);
	CHECK(e.rcpt == NULL && e.nrcpt == 0);

	/* the null sender, a message with no bytes, many recipients */
	CHECK(parse("RQ1\nA0\nCdefault\nF\nTb@example.net\n\n", &e, &why) == 0);
	CHECK_STR(e.sender, "");
	CHECK(e.body_off == strlen("RQ1\nA0\nCdefault\nF\nTb@example.net\n\n"));
	queue_env_free(&e);
	{
		struct buf b = BUF_INIT;
		int i;
		buf_adds(&b, "RQ1\nA1\nCdefault\nFa@b.c\n");
		for (i = 0; i < 1000; i++)
			buf_printf(&b, "Tr%d@example.net\n", i);
		buf_adds(&b, "\n");
		CHECK(queue_parse(b.p, b.len, &e, &why) == 0);
		CHECK(e.nrcpt == 1000);
		CHECK_STR(e.rcpt[999], "r999@example.net");
		queue_env_free(&e);
		buf_free(&b);
	}

#define BAD(s, w) bad(s, sizeof s - 1, w)
	BAD("", "bad magic");
	BAD("RQ2\nA1\nCd\nFa@b.c\nTd@e.f\n\n", "bad magic");
	BAD("RQ1\nA1\nCd\nFa@b.c\nTd@e.f\n", "envelope not terminated");
	BAD("RQ1\nA1\nCd\nFa@b.c\nTd@e.f", "envelope line not terminated");
	BAD("RQ1\nA1\nCd\nFa@b.c\n\n", "envelope incomplete");        /* no T */
	BAD("RQ1\nCd\nFa@b.c\nTd@e.f\n\n", "envelope incomplete");     /* no A */
	BAD("RQ1\nA1\nFa@b.c\nTd@e.f\n\n", "envelope incomplete");     /* no C */
	BAD("RQ1\nA1\nCd\nTd@e.f\n\n", "envelope incomplete");         /* no F */
	BAD("RQ1\nA\nCd\nFa@b.c\nTd@e.f\n\n", "bad arrival time");
	BAD("RQ1\nA-5\nCd\nFa@b.c\nTd@e.f\n\n", "bad arrival time");
	BAD("RQ1\nA12x\nCd\nFa@b.c\nTd@e.f\n\n", "bad arrival time");
	BAD("RQ1\nA99999999999999999999\nCd\nFa@b.c\nTd@e.f\n\n", "bad arrival time");
	BAD("RQ1\nA1\nCd\nFa@b.c\nZx\nTd@e.f\n\n", "unknown envelope record");
	BAD("RQ1\nA1\nCd\nFa@b.c\r\nTd@e.f\n\n", "control byte in envelope");
	BAD("RQ1\nA1\nCd\nFa@b\0.c\nTd@e.f\n\n", "control byte in envelope");
	BAD("RQ1\nA1\nCd\nFa@b.c\nTd@e.f\nL\n\n", "bad message length");
	BAD("RQ1\nA1\nCd\nFa@b.c\nTd@e.f\nL-1\n\n", "bad message length");
	BAD("RQ1\nA1\nCd\nFa@b.c\nTd@e.f\nL1x\n\n", "bad message length");
	BAD("RQ1\nA1\nCd\nFa@b.c\nTd@e.f\nL99999999999999999999\n\n", "bad message length");
#undef BAD
}

static void write_info(const char *id, const char *text)
{
	char p[PATH_MAX];
	FILE *f;
	CHECK(queue_path(p, sizeof p, "info", id) == 0);
	f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void info(void)
{
	const char *id = "19ab3c4d5e6f7.1a2b3c4d";
	char d[PATH_MAX];
	struct queue_info qi;
	snprintf(d, sizeof d, "%s/queue", home);
	mkdir(d, 0700);
	snprintf(d, sizeof d, "%s/queue/info", home);
	mkdir(d, 0700);
	snprintf(d, sizeof d, "%s/queue/info/1a", home);
	CHECK(mkdir(d, 0700) == 0);

	/* no info file: every recipient pending */
	CHECK(queue_info_read(id, 3, &qi) == 0);
	CHECK(!qi.exists && qi.state[0] == RS_PENDING && qi.state[2] == RS_PENDING);
	CHECK(qi.next == 0 && qi.attempts == 0 && !qi.warned && !qi.have_sig);
	queue_info_free(&qi);

	/* D and X are final; F waits for its X; an F after X changes nothing;
	 * indexes out of range and unknown lines are skipped; the last R
	 * wins; a torn last line is ignored */
	write_info(id, "R1700000100 1\n"
	               "F1 1700000000 5.1.1 no such user\n"
	               "D0 1700000000 mx.example:25\n"
	               "F2 1700000001 5.0.0 x\n"
	               "X2\n"
	               "F2 1700000002 5.0.0 again\n"
	               "D7 1 out of range\n"
	               "Dx 1 not a number\n"
	               "? unknown\n"
	               "W\n"
	               "SREtJTTogdj0x\n"
	               "R1700000500 3\n"
	               "D1 170");
	CHECK(queue_info_read(id, 3, &qi) == 0);
	CHECK(qi.exists);
	CHECK(qi.state[0] == RS_DELIVERED);
	CHECK(qi.state[1] == RS_FAILED);
	CHECK(qi.state[2] == RS_BOUNCED);
	CHECK(qi.next == 1700000500 && qi.attempts == 3);
	CHECK(qi.warned);
	CHECK(qi.have_sig);
	CHECK_MEM(qi.sig.p, qi.sig.len, "DKIM: v=1", 9);
	/* the F line keeps its status and text for the DSN of a later attempt */
	CHECK(qi.fail != NULL);
	if (qi.fail) {
		CHECK_STR(qi.fail[1].enh, "5.1.1");
		CHECK_STR(qi.fail[1].text, "no such user");
		CHECK(qi.fail[1].code == 0 && qi.fail[1].when == 1700000000);
		CHECK(qi.fail[0].text == NULL && qi.fail[0].enh[0] == 0);
	}
	queue_info_free(&qi);
	CHECK(qi.state == NULL && qi.fail == NULL);

	/* the reply code when the writer put it first; a bad status is
	 * dropped (the DSN says 5.0.0), control bytes never reach the DSN
	 * records (TAB separates their fields); an F line with no text */
	write_info(id, "F0 1700000000 5.1.1 550 5.1.1 <a@b>: no such user\n"
	               "F1 1700000000 9.x.1 550\ttab\n"
	               "F2 1700000000 4.4.7\n");
	CHECK(queue_info_read(id, 3, &qi) == 0);
	CHECK(qi.state[0] == RS_FAILED && qi.state[1] == RS_FAILED && qi.state[2] == RS_FAILED);
	if (qi.fail) {
		CHECK(qi.fail[0].code == 550);
		CHECK_STR(qi.fail[0].text, "5.1.1 <a@b>: no such user");
		CHECK_STR(qi.fail[0].enh, "5.1.1");
		CHECK_STR(qi.fail[1].enh, "");
		CHECK(qi.fail[1].code == 0);
		CHECK_STR(qi.fail[1].text, "550_tab");
		CHECK_STR(qi.fail[2].enh, "4.4.7");
		CHECK_STR(qi.fail[2].text, "");
	}
	queue_info_free(&qi);

	/* a D after an F: delivered after all */
	write_info(id, "F0 1 5.0.0 x\nD0 2 mx\n");
	CHECK(queue_info_read(id, 1, &qi) == 0);
	CHECK(qi.state[0] == RS_DELIVERED);
	queue_info_free(&qi);

	/* a bad S line: no signature rather than a wrong one */
	write_info(id, "S!!!not base64\n");
	CHECK(queue_info_read(id, 1, &qi) == 0);
	CHECK(!qi.have_sig);
	queue_info_free(&qi);
}

static void read_env(void)
{
	const char *text = "RQ1\nA5\nCdefault\nFa@b.c\nTd@e.f\n\nSubject: s\r\n\r\nbody\r\n";
	char p[PATH_MAX];
	struct buf b = BUF_INIT;
	struct queue_env e;
	const char *why;
	int fd;
	snprintf(p, sizeof p, "%s/qf", home);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(queue_read_env_fd(fd, &b, &e, &why) == 0);
	CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)strlen(text));   /* pread: offset kept */
	CHECK(e.arrival == 5 && e.nrcpt == 1);
	CHECK_STR(e.rcpt[0], "d@e.f");
	CHECK(strncmp(text + e.body_off, "Subject: s", 10) == 0);
	queue_env_free(&e);
	close(fd);
	CHECK(queue_read_env(p, &b, &e, &why) == 0);
	CHECK_STR(e.sender, "a@b.c");
	queue_env_free(&e);
	snprintf(p, sizeof p, "%s/missing", home);
	CHECK(queue_read_env(p, &b, &e, &why) == -1 && errno == ENOENT);
	buf_free(&b);
}

/* The L record and queue_check_body: a queue file whose message is not
 * the length committed (truncated, or grown) is refused. */
static void body_check(void)
{
	const char *text = "RQ1\nA5\nCdefault\nFa@b.c\nTd@e.f\nL20\n\nSubject: s\r\n\r\nbody\r\n";
	char p[PATH_MAX];
	struct buf b = BUF_INIT;
	struct queue_env e;
	const char *why = NULL;
	int fd;
	snprintf(p, sizeof p, "%s/qlen", home);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(queue_read_env_fd(fd, &b, &e, &why) == 0);
	CHECK(e.has_len && e.body_len == 20);
	CHECK(queue_check_body(fd, &e, &why) == 0);
	/* truncated: one byte short */
	CHECK(ftruncate(fd, (off_t)strlen(text) - 1) == 0);
	errno = 0;
	CHECK(queue_check_body(fd, &e, &why) == -1 && errno == EBADMSG);
	CHECK(why && strstr(why, "truncated") != NULL);
	/* grown */
	CHECK(ftruncate(fd, (off_t)strlen(text) + 1) == 0);
	CHECK(queue_check_body(fd, &e, &why) == -1 && errno == EBADMSG);
	queue_env_free(&e);
	/* a file from before the L record: nothing to check */
	CHECK(parse("RQ1\nA0\nCdefault\nF\nTb@example.net\n\n", &e, &why) == 0);
	CHECK(!e.has_len);
	CHECK(queue_check_body(fd, &e, &why) == 0);
	queue_env_free(&e);
	/* a bad fd is an error, not a mismatch */
	close(fd);
	CHECK(parse("RQ1\nA0\nCdefault\nF\nTb@example.net\nL0\n\n", &e, &why) == 0);
	errno = 0;
	CHECK(queue_check_body(fd, &e, &why) == -1 && errno == EBADF);
	queue_env_free(&e);
	/* not a regular file */
	fd = open(home, O_RDONLY);
	CHECK(queue_check_body(fd, &e, &why) == -1 && errno == EBADMSG);
	close(fd);
	buf_free(&b);
}

int main(void)
{
	char cmd[64];
	CHECK(mkdtemp(home) != NULL);
	setenv("RELAY_HOME", home, 1);
	ids();
	paths();
	envelopes();
	info();
	read_env();
	body_check();
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
