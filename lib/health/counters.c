#include "health/counters.h"

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

#define MAGIC "RC1\n"

struct bucket {
	long long minute;
	struct counts c;
};

int counters_name_ok(const char *kind, const char *name)
{
	size_t n = strlen(name), i;
	if (strcmp(kind, "relay") != 0 && strcmp(kind, "domain") != 0)
		return 0;
	if (n == 0 || n > COUNTERS_NAME_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c >= 0x7f || c == '/')
			return 0;
	}
	return 1;
}

/* issue 13 totals: the writers' common start (counters.h) */
int counters_lock(const char *home, const char *sub, const char *lock)
{
	char dir[PATH_MAX];
	size_t n;
	if (snprintf(dir, sizeof dir, "%s/state/counters/%s", home, sub) >= (int)sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n = strlen(home) + 6;   /* "HOME/state", then each part after it */
	for (;;) {
		char c = dir[n];
		dir[n] = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		dir[n] = c;
		if (!c)
			break;
		while (dir[++n] && dir[n] != '/')
			;
	}
	if (snprintf(dir, sizeof dir, "%s/state/counters/%s", home, lock) >= (int)sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return lock_take(dir, 0644);   /* base/fileio.h */
}

static int file_path(char *out, const char *home, const char *kind, const char *name)
{
	if (!counters_name_ok(kind, name)) {
		errno = EINVAL;
		return -1;
	}
	if (snprintf(out, PATH_MAX, "%s/state/counters/%s/%s", home, kind, name) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Parse a counters file into at most COUNTERS_BUCKETS+1 buckets, keeping
 * those with minute > oldest. 0, or -1 with EPROTO. */
static int parse(struct buf *b, long long oldest, struct bucket *bk, int *nb)
{
	char *line, *nl;
	*nb = 0;
	if (b->len < 4 || memcmp(b->p, MAGIC, 4) != 0) {
		errno = EPROTO;
		return -1;
	}
	for (line = b->p + 4; line < b->p + b->len; line = nl) {
		struct bucket x;
		nl = memchr(line, '\n', b->len - (size_t)(line - b->p));
		if (!nl) {
			errno = EPROTO;
			return -1;
		}
		*nl++ = 0;
		if (sscanf(line, "%lld %llu %llu %llu", &x.minute, &x.c.delivered,
		           &x.c.deferred, &x.c.bounced) != 4) {
			errno = EPROTO;
			return -1;
		}
		if (x.minute <= oldest)
			continue;
		if (*nb > COUNTERS_BUCKETS) {  /* written by us: cannot happen */
			errno = EPROTO;
			return -1;
		}
		bk[(*nb)++] = x;
	}
	return 0;
}

int counters_add_at(const char *home, const char *kind, const char *name,
                    const struct counts *c, time_t now)
{
	char p[PATH_MAX];
	struct bucket bk[COUNTERS_BUCKETS + 2];
	struct buf b = BUF_INIT;
	long long minute = (long long)now / 60;
	int nb = 0, i, fd, r = -1, found = 0;

	if (file_path(p, home, kind, name) < 0)
		return -1;
	if ((fd = counters_lock(home, kind, "lock")) < 0)   /* issue 13 totals: shared */
		return -1;
	if (read_file(p, &b, 1024 * 1024) < 0) {
		if (errno != ENOENT)
			goto out;
	} else if (parse(&b, minute - COUNTERS_BUCKETS, bk, &nb) < 0) {
		/* A damaged counters file is not worth stopping delivery for:
		 * start again (the counts are advisory). */
		nb = 0;
	}
	/* The clock went back: buckets "in the future" would shadow new ones
	 * for up to an hour; drop them. */
	for (i = 0; i < nb; i++)
		if (bk[i].minute > minute)
			bk[i--] = bk[--nb];
	for (i = 0; i < nb; i++)
		if (bk[i].minute == minute) {
			bk[i].c.delivered += c->delivered;
			bk[i].c.deferred += c->deferred;
			bk[i].c.bounced += c->bounced;
			found = 1;
		}
	if (!found) {
		if (nb > COUNTERS_BUCKETS)  /* keep the newest */
			nb = COUNTERS_BUCKETS;
		bk[nb].minute = minute;
		bk[nb].c = *c;
		nb++;
	}
	b.len = 0;
	if (buf_adds(&b, MAGIC) < 0)
		goto out;
	for (i = 0; i < nb; i++)
		if (buf_printf(&b, "%lld %llu %llu %llu\n", bk[i].minute,
		               bk[i].c.delivered, bk[i].c.deferred, bk[i].c.bounced) < 0)
			goto out;
	if (atomic_write(p, b.p, b.len, 0644) < 0)
		goto out;
	r = 0;
out:
	{
		int e = errno;
		buf_free(&b);
		close(fd);
		errno = e;
	}
	return r;
}

int counters_add(const char *home, const char *kind, const char *name,
                 enum counter_type type, unsigned long n)
{
	struct counts c = {0, 0, 0};
	if (type == COUNTER_DELIVERED)
		c.delivered = n;
	else if (type == COUNTER_DEFERRED)
		c.deferred = n;
	else
		c.bounced = n;
	return counters_add_at(home, kind, name, &c, time(NULL));
}

int counters_window_at(const char *home, const char *kind, const char *name,
                       long seconds, time_t now, struct counts *out)
{
	char p[PATH_MAX];
	struct bucket bk[COUNTERS_BUCKETS + 2];
	struct buf b = BUF_INIT;
	long long minute = (long long)now / 60, mins;
	int nb, i;

	memset(out, 0, sizeof *out);
	if (file_path(p, home, kind, name) < 0)
		return -1;
	if (seconds < 1)
		seconds = 1;
	mins = (seconds + 59) / 60;
	if (mins > COUNTERS_BUCKETS)
		mins = COUNTERS_BUCKETS;
	if (read_file(p, &b, 1024 * 1024) < 0) {
		int e = errno;
		buf_free(&b);
		errno = e;
		return e == ENOENT ? 0 : -1;
	}
	if (parse(&b, minute - mins, bk, &nb) < 0) {
		buf_free(&b);
		errno = EPROTO;
		return -1;
	}
	buf_free(&b);
	for (i = 0; i < nb; i++) {
		if (bk[i].minute > minute)
			continue;
		out->delivered += bk[i].c.delivered;
		out->deferred += bk[i].c.deferred;
		out->bounced += bk[i].c.bounced;
	}
	return 1;
}

int counters_window(const char *home, const char *kind, const char *name,
                    long seconds, struct counts *out)
{
	return counters_window_at(home, kind, name, seconds, time(NULL), out);
}
