/* relay-qctl: reads the queue under $RELAY_HOME/queue and lists it or
 * counts it (list, stat); later commands change it (see doc/relay-qctl.8). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>

#include "base/fileio.h"

#include "base/buf.h"
#include "base/diag.h"
#include "base/json.h"
#include "queue/queue.h"

struct entry {
	char id[QUEUE_ID_LEN + 1];
	char path[PATH_MAX];
	int held;
};

static struct entry *ents;
static size_t nents, capents;

static void add_dir(const char *dir, int held)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d) {
		if (errno == ENOENT)
			return;
		die_sys(EXIT_TEMP, "unable to open %s", dir);
	}
	while ((de = readdir(d))) {
		if (!queue_id_valid(de->d_name))
			continue;
		if (nents == capents) {
			capents = capents ? capents * 2 : 256;
			ents = realloc(ents, capents * sizeof *ents);
			if (!ents)
				die(EXIT_TEMP, "out of memory");
		}
		memcpy(ents[nents].id, de->d_name, QUEUE_ID_LEN + 1);
		if (snprintf(ents[nents].path, sizeof ents[nents].path, "%s/%s", dir, de->d_name) >= (int)sizeof ents[nents].path)
			die(EXIT_TEMP, "queue path too long");
		ents[nents].held = held;
		nents++;
	}
	closedir(d);
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->id, ((const struct entry *)b)->id);
}

static void scan(void)
{
	char dir[PATH_MAX];
	int i;
	for (i = 0; i < QUEUE_BUCKETS; i++) {
		snprintf(dir, sizeof dir, "%s/queue/msg/%02x", relay_home(), i);
		add_dir(dir, 0);
	}
	snprintf(dir, sizeof dir, "%s/queue/hold", relay_home());
	add_dir(dir, 1);
	if (nents)
		qsort(ents, nents, sizeof *ents, by_id);
}

static const char *state_name(int s, int attempts)
{
	switch (s) {
	case RS_DELIVERED: return "delivered";
	case RS_FAILED: return "failed";
	case RS_BOUNCED: return "bounced";
	default: return attempts ? "deferred" : "queued";
	}
}

static void human_age(char *out, size_t cap, long long s)
{
	if (s < 120) snprintf(out, cap, "%llds", s);
	else if (s < 7200) snprintf(out, cap, "%lldm", s / 60);
	else if (s < 172800) snprintf(out, cap, "%lldh", s / 3600);
	else snprintf(out, cap, "%lldd", s / 86400);
}

static int cmd_list(int json)
{
	struct buf out = BUF_INIT, data = BUF_INIT;
	size_t i, k;
	time_t now = time(NULL);
	scan();
	if (json)
		buf_adds(&out, "[");
	for (i = 0; i < nents; i++) {
		struct queue_env e;
		struct queue_info qi;
		struct stat st;
		const char *why;
		long long age, size;
		if (queue_read_env(ents[i].path, &data, &e, &why) < 0) {
			if (errno == ENOENT)
				continue;	/* delivered while we looked */
			warn_("unable to read %s: %s", ents[i].path, why);
			continue;
		}
		if (stat(ents[i].path, &st) < 0)
			continue;
		if (queue_info_read(ents[i].id, e.nrcpt, &qi) < 0)
			die_sys(EXIT_TEMP, "unable to read the info file of %s", ents[i].id);
		age = now - e.arrival < 0 ? 0 : (long long)(now - e.arrival);
		size = (long long)st.st_size - (long long)e.body_off;
		if (json) {
			buf_printf(&out, "%s\n{\"id\":\"%s\",\"age\":%lld,\"size\":%lld,\"class\":", i ? "," : "",
				   ents[i].id, age, size);
			json_str(&out, e.class, strlen(e.class));
			buf_adds(&out, ",\"sender\":");
			json_str(&out, e.sender, strlen(e.sender));
			buf_printf(&out, ",\"held\":%s,\"attempts\":%d,\"recipients\":[",
				   ents[i].held ? "true" : "false", qi.attempts);
			for (k = 0; k < e.nrcpt; k++) {
				buf_adds(&out, k ? ",{\"address\":" : "{\"address\":");
				json_str(&out, e.rcpt[k], strlen(e.rcpt[k]));
				buf_printf(&out, ",\"status\":\"%s\"}", state_name(qi.state[k], qi.attempts));
			}
			buf_adds(&out, "]}");
		} else {
			char a[32];
			human_age(a, sizeof a, age);
			buf_printf(&out, "%s  %5s  %8lld  <%s>%s%s%s\n", ents[i].id, a, size, e.sender,
				   strcmp(e.class, "default") ? "  class=" : "",
				   strcmp(e.class, "default") ? e.class : "", ents[i].held ? "  HELD" : "");
			for (k = 0; k < e.nrcpt; k++)
				buf_printf(&out, "    %-10s <%s>\n", state_name(qi.state[k], qi.attempts), e.rcpt[k]);
		}
		queue_info_free(&qi);
		queue_env_free(&e);
		if (out.len > 65536) {
			fwrite(out.p, 1, out.len, stdout);
			out.len = 0;
		}
	}
	if (json)
		buf_adds(&out, "\n]\n");
	if (out.len)
		fwrite(out.p, 1, out.len, stdout);
	buf_free(&out);
	buf_free(&data);
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}

static long count_files(const char *sub)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	long n = 0;
	snprintf(dir, sizeof dir, "%s/queue/%s", relay_home(), sub);
	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int cmd_stat(int json)
{
	struct buf data = BUF_INIT;
	size_t i, k;
	long msgs = 0, held = 0, pending = 0, delivered = 0, failed = 0, deferred = 0;
	long long bytes = 0, oldest = 0;
	time_t now = time(NULL);
	scan();
	for (i = 0; i < nents; i++) {
		struct queue_env e;
		struct queue_info qi;
		struct stat st;
		const char *why;
		if (queue_read_env(ents[i].path, &data, &e, &why) < 0 || stat(ents[i].path, &st) < 0)
			continue;
		if (queue_info_read(ents[i].id, e.nrcpt, &qi) < 0)
			die_sys(EXIT_TEMP, "unable to read the info file of %s", ents[i].id);
		if (ents[i].held)
			held++;
		else
			msgs++;
		if (qi.attempts)
			deferred++;
		bytes += st.st_size - (long long)e.body_off;
		if (now - e.arrival > oldest)
			oldest = now - e.arrival;
		for (k = 0; k < e.nrcpt; k++) {
			if (qi.state[k] == RS_DELIVERED) delivered++;
			else if (qi.state[k] == RS_PENDING) pending++;
			else failed++;
		}
		queue_info_free(&qi);
		queue_env_free(&e);
	}
	buf_free(&data);
	if (json)
		printf("{\"messages\":%ld,\"held\":%ld,\"deferred\":%ld,\"bytes\":%lld,\"oldest\":%lld,"
		       "\"recipients_pending\":%ld,\"recipients_delivered\":%ld,\"recipients_failed\":%ld,"
		       "\"tmp\":%ld,\"corrupt\":%ld}\n",
		       msgs, held, deferred, bytes, oldest, pending, delivered, failed,
		       count_files("tmp"), count_files("corrupt"));
	else
		printf("messages %ld\nheld %ld\ndeferred %ld\nbytes %lld\noldest %lld\n"
		       "recipients_pending %ld\nrecipients_delivered %ld\nrecipients_failed %ld\n"
		       "tmp %ld\ncorrupt %ld\n",
		       msgs, held, deferred, bytes, oldest, pending, delivered, failed,
		       count_files("tmp"), count_files("corrupt"));
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-qctl [-d home] list|stat [--json] | flush | hold|release|delete|requeue ID...");
}

/* Wake relay-send (SIGALRM: retry everything deferred now). 0 if it was
 * told, 1 if it is not running. */
static int wake(void)
{
	char path[PATH_MAX], b[32];
	int fd;
	ssize_t n;
	long pid;
	snprintf(path, sizeof path, "%s/queue/relay-send.pid", relay_home());
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

/* A retry hint that makes the message due now; attempts reset or kept. */
static int hint_now(const char *id, int reset)
{
	char path[PATH_MAX], line[64];
	struct buf d = BUF_INIT;
	struct queue_env e;
	struct queue_info qi;
	const char *why;
	int fd, attempts = 0;
	if (!reset) {
		if (queue_path(path, sizeof path, "msg", id) < 0 || queue_read_env(path, &d, &e, &why) < 0) {
			if (queue_path_flat(path, sizeof path, "hold", id) < 0 || queue_read_env(path, &d, &e, &why) < 0)
				return -1;
		}
		if (queue_info_read(id, e.nrcpt, &qi) == 0) {
			attempts = qi.attempts;
			queue_info_free(&qi);
		}
		queue_env_free(&e);
		buf_free(&d);
	}
	if (queue_path(path, sizeof path, "info", id) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -1;
	snprintf(line, sizeof line, "R0 %d\n", attempts);
	if (write_all(fd, line, strlen(line)) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int cmd_ids(const char *cmd, int argc, char **argv)
{
	int i, rc = 0;
	if (argc == 0)
		usage();
	for (i = 0; i < argc; i++) {
		const char *id = argv[i];
		char m[PATH_MAX], h[PATH_MAX], inf[PATH_MAX];
		if (!queue_id_valid(id)) {
			warn_("not a queue id: %s", id);
			rc = EXIT_PERM;
			continue;
		}
		queue_path(m, sizeof m, "msg", id);
		queue_path_flat(h, sizeof h, "hold", id);
		queue_path(inf, sizeof inf, "info", id);
		if (strcmp(cmd, "hold") == 0) {
			if (rename(m, h) < 0) {
				warn_sys("unable to hold %s", id);
				rc = errno == ENOENT ? EXIT_PERM : EXIT_TEMP;
				continue;
			}
			fsync_parent(h);
		} else if (strcmp(cmd, "release") == 0) {
			if (hint_now(id, 0) < 0 || rename(h, m) < 0) {
				warn_sys("unable to release %s", id);
				rc = errno == ENOENT ? EXIT_PERM : EXIT_TEMP;
				continue;
			}
			fsync_parent(m);
		} else if (strcmp(cmd, "delete") == 0) {
			if (unlink(m) < 0 && unlink(h) < 0) {
				warn_sys("unable to delete %s", id);
				rc = errno == ENOENT ? EXIT_PERM : EXIT_TEMP;
				continue;
			}
			unlink(inf);
		} else if (strcmp(cmd, "requeue") == 0) {
			if (access(m, F_OK) < 0 || hint_now(id, 1) < 0) {
				warn_sys("unable to requeue %s", id);
				rc = errno == ENOENT ? EXIT_PERM : EXIT_TEMP;
				continue;
			}
		}
		printf("%s %s\n", cmd, id);
	}
	if (strcmp(cmd, "requeue") == 0 || strcmp(cmd, "release") == 0)
		wake();
	return rc;
}

int main(int argc, char **argv)
{
	int i = 1, json = 0;
	const char *cmd;
	diag_init(argv[0]);
	if (i + 1 < argc && strcmp(argv[i], "-d") == 0) {
		setenv("RELAY_HOME", argv[i + 1], 1);
		i += 2;
	}
	if (i >= argc)
		usage();
	cmd = argv[i++];
	if (!strcmp(cmd, "hold") || !strcmp(cmd, "release") || !strcmp(cmd, "delete") || !strcmp(cmd, "requeue"))
		return cmd_ids(cmd, argc - i, argv + i);
	if (!strcmp(cmd, "flush")) {
		if (i != argc)
			usage();
		if (wake()) {
			warn_("relay-send is not running (no queue/relay-send.pid or no such process)");
			return EXIT_TEMP;
		}
		return 0;
	}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			usage();
	}
	if (strcmp(cmd, "list") == 0)
		return cmd_list(json);
	if (strcmp(cmd, "stat") == 0)
		return cmd_stat(json);
	usage();
}
