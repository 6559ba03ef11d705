/* Delivery latency per relay (health/latency.h). */
#include "health/latency.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fileio.h"
#include "health/counters.h"

const double latency_bounds[LATENCY_NB - 1] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300 };

void latency_observe(struct latency *l, double seconds)
{
	size_t k;
	if (!(seconds >= 0))
		seconds = 0;   /* a clock that went back, or NaN */
	for (k = 0; k < LATENCY_NB - 1 && seconds > latency_bounds[k]; k++)
		;
	l->b[k]++;
	l->count++;
	l->sum += seconds;
}

static int path(char *out, const char *home, const char *name)
{
	if (!counters_name_ok("relay", name)) {
		errno = EINVAL;
		return -1;
	}
	if (snprintf(out, PATH_MAX, "%s/state/counters/latency/%s", home, name) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int latency_read(const char *home, const char *name, struct latency *l)
{
	char p[PATH_MAX], *s, *end;
	struct buf b = BUF_INIT;
	unsigned long long sum = 0;
	size_t k;
	memset(l, 0, sizeof *l);
	if (path(p, home, name) < 0)
		return -1;
	if (read_file(p, &b, 4096) < 0) {
		int e = errno;
		buf_free(&b);
		errno = e;
		return e == ENOENT ? 0 : -1;
	}
	if (b.len < 5 || memcmp(b.p, "RL1\n", 4) != 0 || b.p[b.len - 1] != '\n')
		goto bad;
	s = b.p + 4;
	errno = 0;
	l->count = strtoull(s, &end, 10);
	if (errno || end == s || *end != ' ')
		goto bad;
	s = end + 1;
	l->sum = strtod(s, &end);
	if (errno || end == s || *end != ' ' || !(l->sum >= 0))
		goto bad;
	for (k = 0; k < LATENCY_NB; k++) {
		s = end + 1;
		l->b[k] = strtoull(s, &end, 10);
		if (errno || end == s || *s == '-' || *end != (k == LATENCY_NB - 1 ? '\n' : ' '))
			goto bad;
		sum += l->b[k];
	}
	if (sum != l->count || end + 1 != b.p + b.len)
		goto bad;
	buf_free(&b);
	return 1;
bad:
	buf_free(&b);
	memset(l, 0, sizeof *l);
	errno = EPROTO;
	return -1;
}

int latency_add(const char *home, const char *name, const struct latency *add)
{
	char p[PATH_MAX];
	struct latency l;
	struct buf b = BUF_INIT;
	size_t k;
	int fd, r = -1;
	if (path(p, home, name) < 0)
		return -1;
	if ((fd = counters_lock(home, "latency", "latency.lock")) < 0)   /* issue 13 totals: shared */
		return -1;
	/* a file that does not parse starts again (a counter reset), so that
	 * one bad write never stops the counting */
	if (latency_read(home, name, &l) < 0 && errno != EPROTO)
		goto out;
	l.count += add->count;
	l.sum += add->sum;
	if (buf_printf(&b, "RL1\n%llu %.6f", l.count, l.sum) < 0)
		goto out;
	for (k = 0; k < LATENCY_NB; k++)
		if (buf_printf(&b, " %llu", l.b[k] + add->b[k]) < 0)
			goto out;
	if (buf_addc(&b, '\n') < 0)
		goto out;
	r = atomic_write(p, b.p, b.len, 0644);
out:
	buf_free(&b);
	{
		int e = errno;
		close(fd);
		errno = e;
	}
	return r;
}
