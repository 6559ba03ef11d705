/* bench/inject-driver: fork/execs an injector (relay-inject, Postfix's
 * sendmail) once per message with the message on stdin, and measures the
 * wall time of each injection (fork to exit).
 *
 *   inject-driver [-n N] [-p P] [-s BYTES] [-r RATE] [-o FILE] -- PROG ARG...
 *
 * Without -r: P writer processes inject N messages in all, each waiting
 * for its injector before starting the next. Prints
 *   n=N ok=N fail=N secs=S rate=MSG/S p50_ms=.. p99_ms=..
 * With -r: one message every 1/RATE s, whatever the injectors' speed
 * (each injection runs in its own child); with -o, writes
 * "SEQ START_NS DONE_NS" for each message (CLOCK_REALTIME: injector
 * started, injector exited) so that a sink's log gives latencies. The
 * Subject is "bench SEQ SEND_NS" in both modes. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static size_t size = 1024;
static char **prog;

/* In the child: the message in a memfd on fd 0, then exec. */
static void child(long seq, long long send_ns)
{
	char hdr[512];
	static char line[80];
	int fd = memfd_create("msg", 0), n;
	size_t done;
	if (fd < 0)
		_exit(120);
	n = snprintf(hdr, sizeof hdr,
		     "From: bench <bench@sender.test>\nTo: <sink@rcpt.test>\nSubject: bench %ld %lld\n\n",
		     seq, send_ns);
	if (write(fd, hdr, n) != n)
		_exit(120);
	memset(line, 'x', 75);
	line[75] = '\n';
	for (done = n; done < size; done += 76) {
		size_t l = size - done < 76 ? size - done : 76;
		if (l < 76) { memset(line, 'x', l); line[l - 1] = '\n'; }
		if (write(fd, line, l) != (ssize_t)l)
			_exit(120);
	}
	lseek(fd, 0, SEEK_SET);
	dup2(fd, 0);
	close(fd);
	execvp(prog[0], prog);
	_exit(127);
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long n = 100, p = 1, i;
	double rate = 0;
	const char *out = NULL;
	int c;
	long long *dur, t0, t1;
	int *fails;
	while ((c = getopt(argc, argv, "n:p:s:r:o:")) != -1) {
		switch (c) {
		case 'n': n = atol(optarg); break;
		case 'p': p = atol(optarg); break;
		case 's': size = (size_t)atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'o': out = optarg; break;
		default: return 100;
		}
	}
	if (optind >= argc || n <= 0 || p <= 0)
		return fprintf(stderr, "usage: inject-driver [-n N] [-p P] [-s BYTES] [-r RATE] [-o FILE] -- PROG ARG...\n"), 100;
	prog = argv + optind;
	dur = mmap(NULL, n * sizeof *dur, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fails = mmap(NULL, sizeof(int) * (p + 1), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (dur == MAP_FAILED || fails == MAP_FAILED)
		return perror("mmap"), 111;
	t0 = ns(CLOCK_MONOTONIC);
	if (rate <= 0) {
		for (long w = 0; w < p; w++) {
			pid_t wp = fork();
			if (wp < 0)
				return perror("fork"), 111;
			if (wp == 0) {
				for (i = w; i < n; i += p) {
					long long s = ns(CLOCK_MONOTONIC), rt = ns(CLOCK_REALTIME);
					int st;
					pid_t pid = fork();
					if (pid < 0) { fails[w]++; dur[i] = -1; continue; }
					if (pid == 0)
						child(i, rt);
					while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
						;
					dur[i] = ns(CLOCK_MONOTONIC) - s;
					if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
						fails[w]++;
						if (fails[w] < 3)
							fprintf(stderr, "inject-driver: injector exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
					}
				}
				_exit(0);
			}
		}
		while (wait(NULL) > 0 || errno == EINTR)
			;
	} else {
		/* fixed rate: the send time is taken when the injector is started */
		FILE *f = out ? fopen(out, "w") : NULL;
		pid_t *pids = calloc(n, sizeof *pids);
		long long *start = calloc(n, sizeof *start), *rts = calloc(n, sizeof *rts);
		long reaped = 0;
		if ((out && !f) || !pids || !start || !rts)
			return perror("driver"), 111;
		for (i = 0; i < n || reaped < n;) {
			long long now = ns(CLOCK_MONOTONIC);
			int st;
			pid_t r;
			while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
				for (long j = 0; j < i; j++)
					if (pids[j] == r) {
						dur[j] = ns(CLOCK_MONOTONIC) - start[j];
						pids[j] = 0;
						if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
							fails[0]++;
						break;
					}
				reaped++;
			}
			if (i < n && now >= t0 + (long long)(i * 1e9 / rate)) {
				long long rt = ns(CLOCK_REALTIME);
				start[i] = ns(CLOCK_MONOTONIC);
				pids[i] = fork();
				if (pids[i] == 0)
					child(i, rt);
				if (pids[i] < 0) { fails[0]++; reaped++; dur[i] = -1; }
				rts[i] = rt;
				i++;
				continue;
			}
			usleep(200);
		}
		if (f) {
			for (long j = 0; j < n; j++)
				fprintf(f, "%ld %lld %lld\n", j, rts[j], rts[j] + dur[j]);
			fclose(f);
		}
	}
	t1 = ns(CLOCK_MONOTONIC);
	{
		long nf = 0, k = 0;
		for (long w = 0; w < p; w++) nf += fails[w];
		long long *d = malloc(n * sizeof *d);
		for (i = 0; i < n; i++) if (dur[i] >= 0) d[k++] = dur[i];
		qsort(d, k, sizeof *d, cmp);
		printf("n=%ld ok=%ld fail=%ld secs=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f\n", n, n - nf, nf,
		       (t1 - t0) / 1e9, n / ((t1 - t0) / 1e9), k ? d[k / 2] / 1e6 : 0, k ? d[(k * 99) / 100] / 1e6 : 0);
	}
	return 0;
}
