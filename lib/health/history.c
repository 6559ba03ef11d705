/* The per-minute history of 24 hours (health/history.h): its writer's one
 * slot at a time and its one parser. */
#include "health/history.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "health/counters.h"

#define HEADER_FMT "relay-history 1 %s %d %d"

static const char *kind_name(enum history_kind k)
{
	return k == HISTORY_QUEUE ? "queue" : "relay";
}

int history_path(char *out, size_t cap, const char *home, enum history_kind kind, const char *name)
{
	int n;
	if (kind == HISTORY_QUEUE)
		n = snprintf(out, cap, "%s/state/history/queue", home);
	else if (!name || !counters_name_ok("relay", name)) {
		errno = EINVAL;
		return -1;
	} else
		n = snprintf(out, cap, "%s/state/history/relay/%s", home, name);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* One line of HISTORY_SLOT_LEN octets: text padded with spaces, '\n'. */
static void line(char out[HISTORY_SLOT_LEN], const char *text)
{
	size_t n = strlen(text);
	if (n > HISTORY_SLOT_LEN - 1)
		n = HISTORY_SLOT_LEN - 1;
	memset(out, ' ', HISTORY_SLOT_LEN - 1);
	memcpy(out, text, n);
	out[HISTORY_SLOT_LEN - 1] = '\n';
}

static void slot_text(char out[HISTORY_SLOT_LEN], const struct history_slot *s)
{
	char t[128];
	unsigned long long v[3];
	int i;
	for (i = 0; i < 3; i++)
		v[i] = s->v[i] > HISTORY_COUNT_MAX ? HISTORY_COUNT_MAX : s->v[i];
	snprintf(t, sizeof t, "%12lld %15llu %15llu %15llu", s->minute < 0 ? 0 : s->minute % 1000000000000LL,
	         v[0], v[1], v[2]);
	line(out, t);
}

/* A strict unsigned decimal of at most 15 digits, spaces before it. */
static int field(const char **p, const char *end, unsigned long long *v)
{
	const char *q = *p;
	int digits = 0;
	while (q < end && *q == ' ')
		q++;
	*v = 0;
	while (q < end && *q >= '0' && *q <= '9' && digits < 16) {
		*v = *v * 10 + (unsigned long long)(*q++ - '0');
		digits++;
	}
	if (!digits || digits > 15 || (q < end && *q != ' '))
		return -1;
	*p = q;
	return 0;
}

/* 1: a slot with a minute, 0: blank, -1: does not parse. */
static int slot_parse(const char *l, struct history_slot *s)
{
	const char *p = l, *end = l + HISTORY_SLOT_LEN - 1;
	unsigned long long m;
	int i;
	memset(s, 0, sizeof *s);
	if (l[HISTORY_SLOT_LEN - 1] != '\n')
		return -1;
	while (p < end && *p == ' ')
		p++;
	if (p == end)
		return 0;
	if (field(&p, end, &m) < 0)
		return -1;
	for (i = 0; i < 3; i++)
		if (field(&p, end, &s->v[i]) < 0)
			return -1;
	while (p < end && *p == ' ')
		p++;
	if (p != end)
		return -1;
	s->minute = (long long)m;
	return 1;
}

size_t history_parse(const char *data, size_t len, long long now_minute, struct history_slot out[HISTORY_SLOTS])
{
	long long first = now_minute - (HISTORY_SLOTS - 1);
	size_t i, ok = 0;
	char want[HISTORY_SLOT_LEN];
	for (i = 0; i < HISTORY_SLOTS; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].minute = first + (long long)i;
	}
	/* the header names the version and the geometry; anything else is
	 * not this format (every slot missing) */
	if (len < HISTORY_SLOT_LEN || data[HISTORY_SLOT_LEN - 1] != '\n' ||
	    (memcmp(data, "relay-history 1 queue ", 22) != 0 && memcmp(data, "relay-history 1 relay ", 22) != 0))
		return 0;
	{
		char t[64];
		snprintf(t, sizeof t, HEADER_FMT, data[16] == 'q' ? "queue" : "relay", HISTORY_SLOTS, HISTORY_SLOT_LEN);
		line(want, t);
		if (memcmp(data, want, HISTORY_SLOT_LEN) != 0)
			return 0;
	}
	for (i = 0; i < HISTORY_SLOTS; i++) {
		struct history_slot s;
		size_t off = HISTORY_SLOT_LEN * (i + 1), k;
		if (off + HISTORY_SLOT_LEN > len)
			break;   /* truncated: the rest is missing */
		if (slot_parse(data + off, &s) != 1 || s.minute < first || s.minute > now_minute ||
		    (size_t)(s.minute % HISTORY_SLOTS) != i)
			continue;   /* blank, torn, stale or misplaced */
		k = (size_t)(s.minute - first);
		out[k] = s;
		out[k].ok = 1;
		ok++;
	}
	return ok;
}

int history_read(const char *home, enum history_kind kind, const char *name, long long now_minute,
                 struct history_slot out[HISTORY_SLOTS])
{
	char path[PATH_MAX];
	char *data;
	ssize_t n;
	int fd, e;
	history_parse("", 0, now_minute, out);
	if (history_path(path, sizeof path, home, kind, name) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (!(data = malloc(HISTORY_FILE_LEN))) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	/* at most the file's size: a longer one is read as far as that */
	n = read_full(fd, data, HISTORY_FILE_LEN);
	e = errno;
	close(fd);
	if (n < 0) {
		free(data);
		errno = e;
		return -1;
	}
	history_parse(data, (size_t)n, now_minute, out);
	free(data);
	return 1;
}

/* A whole file of blank slots, made by temporary file and rename, so that
 * a reader never sees half of one. */
static int make_file(const char *path, enum history_kind kind)
{
	char *data, t[64];
	size_t i;
	int r;
	if (!(data = malloc(HISTORY_FILE_LEN)))
		return -1;
	snprintf(t, sizeof t, HEADER_FMT, kind_name(kind), HISTORY_SLOTS, HISTORY_SLOT_LEN);
	line(data, t);
	for (i = 1; i <= HISTORY_SLOTS; i++)
		line(data + i * HISTORY_SLOT_LEN, "");
	r = atomic_write(path, data, HISTORY_FILE_LEN, 0644);
	free(data);
	return r;
}

static int make_dirs(const char *home, enum history_kind kind)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s/state", home);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(dir, sizeof dir, "%s/state/history", home);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	if (kind == HISTORY_RELAY) {
		snprintf(dir, sizeof dir, "%s/state/history/relay", home);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

int history_put(const char *home, enum history_kind kind, const char *name, const struct history_slot *s, int add)
{
	char path[PATH_MAX], buf[HISTORY_SLOT_LEN];
	struct history_slot old, w = *s;
	struct stat st;
	off_t off = (off_t)HISTORY_SLOT_LEN * (off_t)(s->minute % HISTORY_SLOTS + 1);
	int fd, e, i;
	if (s->minute < 0) {
		errno = EINVAL;
		return -1;
	}
	if (history_path(path, sizeof path, home, kind, name) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != HISTORY_FILE_LEN)) {
		/* truncated or grown by someone: made again, blank */
		close(fd);
		fd = -1;
		errno = ENOENT;
	}
	if (fd < 0) {
		if (errno != ENOENT || make_dirs(home, kind) < 0 || make_file(path, kind) < 0)
			return -1;
		if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
			return -1;
	}
	if (add && pread(fd, buf, sizeof buf, off) == (ssize_t)sizeof buf && slot_parse(buf, &old) == 1 &&
	    old.minute == s->minute)
		for (i = 0; i < 3; i++)
			w.v[i] += old.v[i];
	slot_text(buf, &w);
	/* one pwrite of one slot: 64 octets at a multiple of 64 never cross a
	 * page, so a reader sees the old slot or the new one */
	if (pwrite(fd, buf, sizeof buf, off) != (ssize_t)sizeof buf) {
		e = errno ? errno : EIO;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}
