/* relay-events: the event stream (doc/events.md, doc/relay-events.8).
 *   relay-events [-d HOME]                        post to etc/webhooks' endpoints
 *   relay-events [-d HOME] tail [--json] [--follow]
 * The daemon runs one process per endpoint (events/hook.c) and starts
 * again any that dies; HUP reloads etc/webhooks.cdb; TERM stops. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sodium.h>

#include "base/diag.h"
#include "base/evlog.h"
#include "conf/webhooks.h"
#include "events/hook.h"
#include "events/metrics.h"   /* the figures for /metrics */
#include "events/stream.h"

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-events [-d HOME] [tail [--json] [--follow]]");
}

static int tail(const char *home, int json, int follow)
{
	struct evstream s;
	struct evrec r;
	struct buf b = BUF_INIT;
	int got;
	if (evstream_open(&s, home) < 0)
		die_sys(EXIT_TEMP, "unable to use %s", home);
	for (;;) {
		while ((got = evstream_next(&s, &r)) == 1) {
			b.len = 0;
			if (json) {
				evstream_json(&r, &b);
			} else {
				buf_printf(&b, "id=%s:%llu:%lld ", r.writer, r.seq, r.off);
				if (evstream_kv(r.json, r.len, &b) < 0)
					continue;
			}
			buf_addc(&b, '\n');
			if (fwrite(b.p, 1, b.len, stdout) != b.len)
				die_sys(EXIT_TEMP, "unable to write");
		}
		if (got < 0)
			die_sys(EXIT_TEMP, "unable to read %s/state/events", home);
		if (fflush(stdout) == EOF)
			die_sys(EXIT_TEMP, "unable to write");
		if (!follow)
			break;
		usleep(HOOK_POLL_MS * 1000);
	}
	if (s.skipped)
		warn_("skipped %lu damaged or unfinished line%s", s.skipped, s.skipped == 1 ? "" : "s");
	if (s.seal_timeouts)
		warn_("left %lu segment%s while a writer held its lock (a stopped writer: what it appends there later is not read)",
		      s.seal_timeouts, s.seal_timeouts == 1 ? "" : "s");
	evstream_close(&s);
	buf_free(&b);
	return 0;
}

static volatile sig_atomic_t got_term, got_hup, got_chld;
static void on_sig(int sig)
{
	if (sig == SIGHUP) got_hup = 1;
	else if (sig == SIGCHLD) got_chld = 1;
	else got_term = 1;
}

struct kid { pid_t pid; time_t died; };

static pid_t start(const char *home, const struct conf_webhook *w)
{
	pid_t pid = fork();
	if (pid == 0) {
		/* a killed daemon takes its endpoints with it: no orphan posts
		 * beside the next instance */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(111);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		_exit(hook_run(home, w));
	}
	if (pid < 0)
		warn_sys("unable to start the process of %s", w->name);
	return pid;
}

/* Checkpoints of endpoints no longer in etc/webhooks would keep every
 * segment forever: they go. */
static void forget_old(const char *home, const struct conf_webhook *w, long n)
{
	char dir[PATH_MAX], p[PATH_MAX + 300];
	DIR *d;
	struct dirent *de;
	long i;
	snprintf(dir, sizeof dir, "%s/state/events/consumers", home);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		size_t l = strcspn(de->d_name, ".");
		int keep = de->d_name[0] == '.';
		for (i = 0; i < n && !keep; i++)
			keep = strlen(w[i].name) == l && !strncmp(w[i].name, de->d_name, l);
		if (keep)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (unlink(p) == 0)
			printf("event=webhook_forgotten file=%s\n", de->d_name);
	}
	closedir(d);
}

static void stop_all(struct kid *k, long n)
{
	long i;
	for (i = 0; i < n; i++)
		if (k[i].pid > 0)
			kill(k[i].pid, SIGTERM);
	for (i = 0; i < n; i++)
		if (k[i].pid > 0)
			waitpid(k[i].pid, NULL, 0);
}

static int daemon_run(const char *home)
{
	struct conf_webhook *w = NULL;
	struct kid *k = NULL;
	long n = 0, i;
	char dir[PATH_MAX];
	struct sigaction sa;
	struct evmetrics met;
	int met_warned = 0;
	memset(&met, 0, sizeof met);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	snprintf(dir, sizeof dir, "%s/state/events/consumers", home);
	if (access(dir, W_OK) < 0)
		die_sys(EXIT_TEMP, "unable to use %s", dir);
	got_hup = 1;
	while (!got_term) {
		if (got_hup) {
			stop_all(k, n);
			free(w);
			free(k);
			got_hup = 0;
			if ((n = conf_webhooks_load(home, &w)) < 0)
				die_sys(EXIT_TEMP, "unable to read etc/webhooks.cdb");
			if (!(k = calloc((size_t)n + 1, sizeof *k)))
				die(EXIT_TEMP, "out of memory");
			forget_old(home, w, n);
			printf("event=start endpoints=%ld\n", n);
			fflush(stdout);
		}
		for (i = 0; i < n; i++) {
			int st;
			if (k[i].pid > 0 && waitpid(k[i].pid, &st, WNOHANG) == k[i].pid) {
				printf("event=webhook_exited endpoint=%s status=%d\n", w[i].name,
				       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
				fflush(stdout);
				k[i].pid = 0;
				/* a start-up failure (a secret unreadable) waits longer */
				k[i].died = time(NULL) + (WIFEXITED(st) && WEXITSTATUS(st) == 111 ? 9 : 0);
			}
			if (k[i].pid <= 0 && time(NULL) > k[i].died)   /* at most one start a second, or 10 s */
				k[i].pid = start(home, &w[i]);
		}
		got_chld = 0;
		if (time(NULL) != met.written) {   /* at most once a second */
			met.written = time(NULL);
			if (evmetrics_poll(&met, home) < 0 || evmetrics_write(&met, home, w, n) < 0)
				if (!met_warned++)
					warn_sys("unable to write %s/%s", home, EVMETRICS_FILE);
		}
		if (!got_term && !got_hup && !got_chld)
			usleep(250000);
	}
	stop_all(k, n);
	evmetrics_free(&met);
	printf("event=stopped\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *home = getenv("RELAY_HOME");
	int i = 1, json = 0, follow = 0;
	diag_init(argv[0]);
	ev_spool(NULL, NULL, 1);    /* relay-events' own lines are not events */
	if (!home || !*home)
		home = "/var/relay";
	if (i + 1 < argc && !strcmp(argv[i], "-d")) {
		home = argv[i + 1];
		i += 2;
	}
	if (i < argc && !strcmp(argv[i], "tail")) {
		for (i++; i < argc; i++) {
			if (!strcmp(argv[i], "--json")) json = 1;
			else if (!strcmp(argv[i], "--follow")) follow = 1;
			else usage();
		}
		return tail(home, json, follow);
	}
	if (i < argc)
		usage();
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die(EXIT_TEMP, "unable to initialise libsodium or libcurl");
	setenv("RELAY_HOME", home, 1);
	return daemon_run(home);
}
