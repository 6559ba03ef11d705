/* issue 16 share: the suppression list's journal (sjournal.h). */
#include "bounce/sjournal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fileio.h"
#include "conf/settings.h"

static int number(const char **s, const char *end, long long *v)
{
	const char *p = *s;
	long long n = 0;
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (n > (LLONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	*v = n;
	*s = p;
	return 0;
}

int sjournal_parse(const char *line, size_t len, struct sjrec *r)
{
	const char *p = line, *end = line + len, *a;
	long long v[3];
	size_t i, n;
	memset(r, 0, sizeof *r);
	if (len + 1 > SJOURNAL_LINE_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] >= 0x7f)
			return -1;
	if (len > 4 && !memcmp(p, "del ", 4))
		r->del = 1;
	else if (!(len > 4 && !memcmp(p, "add ", 4)))
		return -1;
	a = p += 4;
	while (p < end && *p != ' ')
		p++;
	n = (size_t)(p - a);
	if (n == 0 || n >= sizeof r->e.addr)
		return -1;
	memcpy(r->e.addr, a, n);
	r->e.addr[n] = 0;
	if (r->del)
		return p == end ? 0 : -1;
	for (i = 0; i < 3; i++) {
		if (p >= end || *p++ != ' ' || number(&p, end, &v[i]) < 0)
			return -1;
	}
	if (p < end && *p++ != ' ')
		return -1;
	if ((size_t)(end - p) > SUPPRESS_REASON_MAX)
		return -1;
	memcpy(r->e.reason, p, (size_t)(end - p));
	r->e.reason[end - p] = 0;
	r->e.first = (time_t)v[0];
	r->e.last = (time_t)v[1];
	r->e.expires = (time_t)v[2];
	return 0;
}

int sjournal_format(struct buf *out, const struct sjrec *r)
{
	if (r->del)
		return buf_printf(out, "del %s\n", r->e.addr);
	return buf_printf(out, "add %s %lld %lld %lld %s\n", r->e.addr, (long long)r->e.first,
	                  (long long)r->e.last, (long long)r->e.expires, r->e.reason);
}

static int jpath(char *out, const char *home)
{
	if (snprintf(out, PATH_MAX, "%s/state/%s", home, SJOURNAL_FILE) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int sjournal_append(const char *home, const struct sjrec *r, size_t n)
{
	char p[PATH_MAX];
	struct buf b = BUF_INIT, url = BUF_INIT;
	struct stat st;
	size_t i;
	int fd, rs, e;
	if (n == 0)
		return 0;
	/* A settings file that cannot be read journals anyway (bounded):
	 * better shared late than not at all. */
	rs = conf_setting(home, "shared", &url);
	e = rs == 0 || (rs == 1 && url.len == 0);
	buf_free(&url);
	if (e)
		return 0;
	if (jpath(p, home) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (sjournal_format(&b, &r[i]) < 0) {
			buf_free(&b);
			errno = ENOMEM;
			return -1;
		}
	if ((fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		buf_free(&b);
		return -1;
	}
	if (fstat(fd, &st) == 0 && st.st_size == 0 && geteuid() == 0) {
		/* root by hand (relay-bounce suppress add): the journal stays
		 * the owner's of state/ (relayq), whose relay-send reads it */
		struct stat ds;
		char d[PATH_MAX];
		snprintf(d, sizeof d, "%s/state", home);
		if (stat(d, &ds) == 0 && ds.st_uid != st.st_uid && fchown(fd, ds.st_uid, ds.st_gid) < 0)
			warn_sys("unable to give %s to the owner of %s", p, d);
	}
	if (fstat(fd, &st) == 0 && (unsigned long long)st.st_size + b.len > SJOURNAL_MAX) {
		warn_("%s is full (%lu bytes: relay-send has not passed it to Redis): "
		      "%zu change(s) made here only", p, SJOURNAL_MAX, n);
		close(fd);
		buf_free(&b);
		return 0;
	}
	if (write_all(fd, b.p, b.len) < 0 || fsync_checked(fd) < 0) {
		e = errno;
		close(fd);
		buf_free(&b);
		errno = e;
		return -1;
	}
	buf_free(&b);
	return close(fd);
}

int sjournal_trim(const char *home, long long size, int (*before)(void *arg), void *arg)
{
	char p[PATH_MAX];
	struct stat st;
	int lk, r = 0;
	if (jpath(p, home) < 0 || (lk = suppress_lock(home)) < 0)
		return -1;
	if (stat(p, &st) < 0)
		r = errno == ENOENT ? 0 : -1;
	else if ((long long)st.st_size == size && size > 0) {
		/* the cursor first: a crash between pushes the journal again
		 * (a duplicate in the stream, applied twice: harmless) */
		if (before && before(arg) != 0)
			r = -1;
		else if (truncate(p, 0) < 0)
			r = -1;
		else
			r = 1;
	}
	lock_release(lk);
	return r;
}
