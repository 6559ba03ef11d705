/* bench/limits: the machine's own ceilings, for comparing the injectors.
 *   limits spawn SECS        fork+exec /bin/true, per second
 *   limits fsync DIR SECS    create+write 2 KiB+fsync+close+rename+fsync(dir), per second */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs, t0, t;
	long n = 0;
	if (argc >= 3 && !strcmp(argv[1], "spawn")) {
		secs = atof(argv[2]);
		t0 = now();
		while ((t = now()) - t0 < secs) {
			pid_t p = fork();
			int st;
			if (p < 0) { perror("fork"); return 111; }
			if (p == 0) { execl("/bin/true", "true", (char *)NULL); _exit(127); }
			waitpid(p, &st, 0);
			n++;
		}
		printf("%.0f\n", n / (now() - t0));
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "fsync")) {
		char tmp[4096], dst[4096], data[2048];
		int dfd = open(argv[2], O_RDONLY | O_DIRECTORY);
		if (dfd < 0) { perror(argv[2]); return 111; }
		memset(data, 'x', sizeof data);
		secs = atof(argv[3]);
		t0 = now();
		while ((t = now()) - t0 < secs) {
			int fd;
			snprintf(tmp, sizeof tmp, "%s/tmp.%ld", argv[2], n);
			snprintf(dst, sizeof dst, "%s/f.%ld", argv[2], n);
			fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (fd < 0 || write(fd, data, sizeof data) != (ssize_t)sizeof data || fsync(fd) < 0 || close(fd) < 0 ||
			    rename(tmp, dst) < 0 || fsync(dfd) < 0) { perror("cycle"); return 111; }
			n++;
		}
		t = now() - t0;
		for (long i = 0; i < n; i++) { snprintf(dst, sizeof dst, "%s/f.%ld", argv[2], i); unlink(dst); }
		printf("%.0f\n", n / t);
		return 0;
	}
	fprintf(stderr, "usage: limits spawn SECS | limits fsync DIR SECS\n");
	return 100;
}
