#include "health/probeset.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"

struct child {
	pid_t pid;
	int fd;             /* read end; -1 when done */
	size_t job;
	int64_t kill_at;
	size_t got;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_fail(struct probe_result *r, const char *stage, const char *text)
{
	int i;
	memset(r, 0, sizeof *r);
	for (i = 0; i < PROBE_NSTEPS; i++)
		r->ms[i] = -1;
	snprintf(r->stage, sizeof r->stage, "%s", stage);
	snprintf(r->reason, sizeof r->reason, "%s", text);
}

static int start(struct child *c, struct probe_job *j, size_t idx)
{
	int p[2];
	pid_t pid;
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		struct probe_result r;
		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		/* a backstop if the probe's own deadline failed somehow */
		alarm((unsigned)(j->o.deadline_ms / 1000 + 3));
		probe_run(&j->o, &r);
		/* sizeof r < PIPE_BUF: one atomic write */
		_exit(write_all(p[1], &r, sizeof r) < 0 ? 111 : 0);
	}
	close(p[1]);
	c->pid = pid;
	c->fd = p[0];
	c->job = idx;
	c->got = 0;
	c->kill_at = now_ms() + j->o.deadline_ms + PROBESET_GRACE_MS;
	return 0;
}

int probeset_run(struct probe_job *jobs, size_t n, size_t maxpar)
{
	struct child *ch;
	struct pollfd *pf;
	size_t next = 0, running = 0, i, started = 0;
	if (!maxpar)
		maxpar = PROBESET_PAR_DEFAULT;
	if (maxpar > n)
		maxpar = n ? n : 1;
	ch = calloc(maxpar, sizeof *ch);
	pf = calloc(maxpar, sizeof *pf);
	if (!ch || !pf) {
		free(ch);
		free(pf);
		return -1;
	}
	for (i = 0; i < maxpar; i++)
		ch[i].fd = -1;
	while (next < n || running) {
		int64_t now = now_ms(), wait = -1;
		for (i = 0; i < maxpar && next < n; i++) {
			if (ch[i].fd >= 0)
				continue;
			if (start(&ch[i], &jobs[next], next) < 0) {
				set_fail(&jobs[next].r, "internal", "cannot start a probe process");
			} else {
				running++;
				started++;
			}
			next++;
		}
		for (i = 0; i < maxpar; i++) {
			pf[i].fd = ch[i].fd;
			pf[i].events = POLLIN;
			pf[i].revents = 0;
			if (ch[i].fd >= 0 && (wait < 0 || ch[i].kill_at - now < wait))
				wait = ch[i].kill_at - now > 0 ? ch[i].kill_at - now : 0;
		}
		if (!running)
			continue;
		if (poll(pf, maxpar, (int)wait) < 0 && errno != EINTR)
			break;
		now = now_ms();
		for (i = 0; i < maxpar; i++) {
			struct child *c = &ch[i];
			struct probe_result *r;
			int done = 0;
			if (c->fd < 0)
				continue;
			r = &jobs[c->job].r;
			if (pf[i].revents) {
				ssize_t k = read(c->fd, (char *)r + c->got, sizeof *r - c->got);
				if (k > 0)
					c->got += (size_t)k;
				if (k <= 0 || c->got == sizeof *r) {
					done = 1;
					if (c->got != sizeof *r)
						set_fail(r, "internal", "the probe process died");
				}
			} else if (now >= c->kill_at) {
				kill(c->pid, SIGKILL);
				set_fail(r, "timeout", "probe killed at the deadline");
				done = 1;
			}
			if (done) {
				close(c->fd);
				c->fd = -1;
				waitpid(c->pid, NULL, 0);
				running--;
			}
		}
	}
	for (i = 0; i < maxpar; i++)
		if (ch[i].fd >= 0) {
			kill(ch[i].pid, SIGKILL);
			close(ch[i].fd);
			waitpid(ch[i].pid, NULL, 0);
			set_fail(&jobs[ch[i].job].r, "internal", "poll failed");
		}
	free(ch);
	free(pf);
	if (n && !started) {
		errno = EAGAIN;
		return -1;
	}
	return 0;
}
