/* relay-smtpd's shared state: the rate per user and the AUTH tarpit
 * per address (net/smtpd_state.h). */
#include "net/smtpd_state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fileio.h"

/* The exclusive lock on DIR/lock (the directory is made if missing):
 * an fd to close, or -1. */
static int lock(const char *dir)
{
	char p[PATH_MAX];
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	if (snprintf(p, sizeof p, "%s/lock", dir) >= (int)sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return lock_take(p, 0600);
}

/* The file at path into b (NUL-terminated): 1, 0 none, -1 error. */
static int load(const char *path, struct buf *b)
{
	b->len = 0;
	if (read_file(path, b, 1 << 20) < 0)
		return errno == ENOENT ? 0 : -1;
	if (buf_add(b, "", 1) < 0)
		return -1;
	b->len--;
	return 1;
}

/* Digits at *s into *v (at most 18), then one separator (space or
 * newline, sep) or the end. 0 or -1. */
static int num(const char **s, long long *v)
{
	const char *p = *s;
	long long x = 0;
	int n = 0;
	while (*p >= '0' && *p <= '9' && n < 18) {
		x = x * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || (*p >= '0' && *p <= '9'))
		return -1;
	*v = x;
	*s = p;
	return 0;
}

int smtpd_rate_take(const char *dir, const char *user, unsigned rate, unsigned per,
                    time_t now, int delta, time_t when)
{
	char path[PATH_MAX], out[SMTPD_RATE_SLOTS * 21 + 64];
	long long c[SMTPD_RATE_SLOTS] = {0}, width, newest, v, shift, sum = 0, slot;
	struct buf b = BUF_INIT;
	const char *s;
	int fd, r, i, o;
	if (per < SMTPD_RATE_SLOTS - 1 || rate == 0 || !*user || strchr(user, '/')) {
		errno = EINVAL;
		return -1;
	}
	width = per / (SMTPD_RATE_SLOTS - 1);
	if (snprintf(path, sizeof path, "%s/rate-%s", dir, user) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = lock(dir)) < 0)
		return -1;
	newest = (long long)now / width;
	if ((r = load(path, &b)) < 0)
		goto fail;
	if (r > 0) {
		long long w, nw;
		s = b.p;
		if (strncmp(s, "rate1 ", 6) != 0)
			goto corrupt;
		s += 6;
		if (num(&s, &w) < 0 || *s++ != ' ' || num(&s, &nw) < 0)
			goto corrupt;
		for (i = 0; i < SMTPD_RATE_SLOTS; i++) {
			if (*s++ != ' ' || num(&s, &v) < 0)
				goto corrupt;
			c[i] = v;
		}
		if (strcmp(s, "\n") != 0)
			goto corrupt;
		if (w != width) {
			/* the period changed in etc/users: keep the total, now */
			for (i = 1; i < SMTPD_RATE_SLOTS; i++)
				c[0] += c[i], c[i] = 0;
			nw = newest;
		}
		/* age the slots up to now (a clock that went back keeps them) */
		shift = newest - nw;
		if (shift < 0)
			newest = nw, shift = 0;
		for (i = SMTPD_RATE_SLOTS - 1; i >= 0; i--)
			c[i] = i - shift >= 0 ? c[i - shift] : 0;
	}
	for (i = 0; i < SMTPD_RATE_SLOTS; i++)
		sum += c[i];
	if (delta > 0) {
		if (sum >= rate) {
			r = 0;
			goto done;
		}
		c[0]++;
	} else {
		slot = newest - (long long)when / width;
		if (slot >= 0 && slot < SMTPD_RATE_SLOTS && c[slot] > 0)
			c[slot]--;
	}
	o = snprintf(out, sizeof out, "rate1 %lld %lld", width, newest);
	for (i = 0; i < SMTPD_RATE_SLOTS; i++)
		o += snprintf(out + o, sizeof out - (size_t)o, " %lld", c[i]);
	o += snprintf(out + o, sizeof out - (size_t)o, "\n");
	if (atomic_write(path, out, (size_t)o, 0600) < 0)
		goto fail;
	r = 1;
done:
	buf_free(&b);
	lock_release(fd);
	return r;
corrupt:
	errno = EPROTO;
fail:
	buf_free(&b);
	lock_release(fd);
	return -1;
}

struct tp { char addr[64]; long long fails, last; };

static int older(const void *a, const void *b)
{
	const struct tp *x = a, *y = b;
	return x->last < y->last ? 1 : x->last > y->last ? -1 : 0;  /* newest first */
}

int smtpd_tarpit_fail(const char *dir, const char *addr, time_t now)
{
	char path[PATH_MAX];
	struct tp *t = NULL;
	struct buf b = BUF_INIT, out = BUF_INIT;
	size_t n = 0, i, alen = strlen(addr);
	const char *s;
	long long mine = 0;
	int fd, r;
	if (alen == 0 || alen >= sizeof t->addr || strpbrk(addr, " \n")) {
		errno = EINVAL;
		return -1;
	}
	if (snprintf(path, sizeof path, "%s/tarpit", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = lock(dir)) < 0)
		return -1;
	if (!(t = calloc(SMTPD_TARPIT_MAX + 1, sizeof *t)) || (r = load(path, &b)) < 0)
		goto fail;
	if (r > 0) {
		s = b.p;
		if (strncmp(s, "tarpit1\n", 8) != 0)
			goto corrupt;
		for (s += 8; *s; s++) {
			struct tp e;
			size_t k = strcspn(s, " \n");
			if (k == 0 || k >= sizeof e.addr || s[k] != ' ' || n >= SMTPD_TARPIT_MAX)
				goto corrupt;
			memcpy(e.addr, s, k);
			e.addr[k] = 0;
			s += k + 1;
			if (num(&s, &e.fails) < 0 || *s++ != ' ' || num(&s, &e.last) < 0 || *s != '\n')
				goto corrupt;
			if (e.last + SMTPD_TARPIT_EXPIRE > (long long)now && e.fails > 0)
				t[n++] = e;   /* expired entries are dropped here */
		}
	}
	for (i = 0; i < n && strcmp(t[i].addr, addr); i++)
		;
	if (i == n) {
		memset(&t[n], 0, sizeof t[n]);
		memcpy(t[n].addr, addr, alen + 1);
		n++;
	}
	mine = ++t[i].fails;
	t[i].last = (long long)now;
	qsort(t, n, sizeof *t, older);
	if (n > SMTPD_TARPIT_MAX)
		n = SMTPD_TARPIT_MAX;   /* the oldest goes */
	if (buf_adds(&out, "tarpit1\n") < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		char line[128];
		snprintf(line, sizeof line, "%s %lld %lld\n", t[i].addr, t[i].fails, t[i].last);
		if (buf_adds(&out, line) < 0)
			goto fail;
	}
	if (atomic_write(path, out.p, out.len, 0600) < 0)
		goto fail;
	r = mine > INT_MAX ? INT_MAX : (int)mine;
	goto done;
corrupt:
	errno = EPROTO;
fail:
	r = -1;
done:
	free(t);
	buf_free(&b);
	buf_free(&out);
	lock_release(fd);
	return r;
}
