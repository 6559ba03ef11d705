/* The event spool's writer and its record and segment helpers
 * (base/evspool.h; the reader that merges writers is events/stream.c).
 * One spool per process, as stdout is one: the state is file-local. */
#include "base/evspool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/fileio.h"

static struct {
	int on, fd, warned;
	char dir[PATH_MAX];         /* state/events/WRITER */
	char home[PATH_MAX];
	char writer[EVSPOOL_WRITER_MAX + 1];
	unsigned long long seq;
	long seg_max;
	double dirty_since;         /* monotonic seconds; 0 when all is synced */
} sp = { 0, -1, 0, "", "", "", 0, EVSPOOL_SEG_MAX, 0 };

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ records */

unsigned long evrec_crc32(const void *p, size_t n)
{
	static unsigned long t[256];
	const unsigned char *s = p;
	unsigned long c = 0xffffffffUL;
	size_t i;
	if (!t[1]) {
		unsigned long k, v;
		for (k = 0; k < 256; k++) {
			v = k;
			for (i = 0; i < 8; i++)
				v = v & 1 ? 0xedb88320UL ^ (v >> 1) : v >> 1;
			t[k] = v;
		}
	}
	for (i = 0; i < n; i++)
		c = t[(c ^ s[i]) & 0xff] ^ (c >> 8);
	return (c ^ 0xffffffffUL) & 0xffffffffUL;
}

size_t evrec_format(char *out, size_t cap, const char *json, size_t len)
{
	if (memchr(json, '\n', len) || len + 13 > cap || len + 13 > EVREC_MAX)
		return 0;
	snprintf(out, cap, "E1 %08lx ", evrec_crc32(json, len));
	memcpy(out + 12, json, len);
	out[12 + len] = '\n';
	return len + 13;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	return -1;
}

int evrec_check(const char *line, size_t n, const char **json, size_t *jlen)
{
	unsigned long crc = 0;
	size_t i;
	if (n < 14 || n > EVREC_MAX || memcmp(line, "E1 ", 3) != 0 || line[11] != ' ')
		return -1;
	for (i = 3; i < 11; i++) {
		int v = hexval((unsigned char)line[i]);
		if (v < 0)
			return -1;
		crc = crc << 4 | (unsigned long)v;
	}
	if (line[12] != '{' || line[n - 1] != '}' || memchr(line, '\n', n))
		return -1;
	if (evrec_crc32(line + 12, n - 12) != crc)
		return -1;
	*json = line + 12;
	*jlen = n - 12;
	return 0;
}

double evrec_time(const char *json, size_t len)
{
	char t[40];
	const char *k = memmem(json, len, "\"time\":", 7);
	size_t i, n;
	if (!k)
		return 0;
	k += 7;
	n = len - (size_t)(k - json);
	for (i = 0; i < n && i < sizeof t - 1 && (k[i] == '.' || (k[i] >= '0' && k[i] <= '9')); i++)
		t[i] = k[i];
	t[i] = 0;
	return i ? strtod(t, NULL) : 0;
}

/* ------------------------------------------------------------ segments */

int evspool_dir(char *out, size_t cap, const char *home)
{
	if ((size_t)snprintf(out, cap, "%s/state/events", home) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int evspool_name_ok(const char *s)
{
	size_t i, n = strlen(s);
	if (n == 0 || n > EVSPOOL_WRITER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_'))
			return 0;
	return 1;
}

static int seq_name(const char *s, unsigned long long *seq)
{
	unsigned long long v = 0;
	size_t i;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 16)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i != 16 || v == 0)
		return -1;
	*seq = v;
	return 0;
}

static int cmp_seq(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
	return x < y ? -1 : x > y;
}

long evspool_segments(const char *home, const char *writer, unsigned long long **seqs)
{
	char dir[PATH_MAX], base[PATH_MAX];
	DIR *d;
	struct dirent *de;
	unsigned long long *v = NULL, s;
	long n = 0, cap = 0;
	*seqs = NULL;
	if (evspool_dir(base, sizeof base, home) < 0 ||
	    (size_t)snprintf(dir, sizeof dir, "%s/%s", base, writer) >= sizeof dir)
		return -1;
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (seq_name(de->d_name, &s) < 0)
			continue;
		if (n == cap) {
			unsigned long long *nv = realloc(v, (size_t)(cap = cap ? cap * 2 : 16) * sizeof *v);
			if (!nv) {
				free(v);
				closedir(d);
				return -1;
			}
			v = nv;
		}
		v[n++] = s;
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof *v, cmp_seq);
	*seqs = v;
	return n;
}

int evspool_needed(const char *home, const char *writer, unsigned long long *seq)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	DIR *d;
	struct dirent *de;
	int ret = 0;
	*seq = ULLONG_MAX;
	if (evspool_dir(path, sizeof path, home) < 0 ||
	    (size_t)snprintf(dir, sizeof dir, "%s/consumers", path) >= sizeof dir)
		return -1;
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		struct buf b = BUF_INIT;
		unsigned long long need = 0;
		char *l;
		size_t wl = strlen(writer);
		if (de->d_name[0] == '.' || strchr(de->d_name, '.'))
			continue;   /* NAME.lock, temp files */
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (read_file(path, &b, 1 << 20) < 0) {
			ret = errno == ENOENT ? ret : -1;
			buf_free(&b);
			continue;
		}
		/* lines "WRITER SEQ OFFSET" */
		for (l = b.p; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (!strncmp(l, writer, wl) && l[wl] == ' ')
				need = strtoull(l + wl + 1, NULL, 10);
		buf_free(&b);
		if (need < *seq)
			*seq = need;
	}
	closedir(d);
	return ret;
}

/* ------------------------------------------------------------ writing */

static int seg_path(char *out, size_t cap, unsigned long long seq)
{
	if ((size_t)snprintf(out, cap, "%s/%016llu", sp.dir, seq) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Open segment seq (create: O_EXCL, else it must exist). A torn tail
 * (no final newline, from an OS crash) is ended with one so that the
 * next record starts a line of its own. */
static int seg_open(unsigned long long seq, int create)
{
	char p[PATH_MAX];
	struct stat st;
	int fd;
	if (seg_path(p, sizeof p, seq) < 0)
		return -1;
	fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT | O_EXCL : 0), 0640);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		char c = '\n';
		int rfd = open(p, O_RDONLY | O_CLOEXEC);
		if (rfd >= 0) {
			if (pread(rfd, &c, 1, st.st_size - 1) == 1 && c != '\n')
				(void)!write(fd, "\n", 1);
			close(rfd);
		}
	}
	if (create)
		fsync_dir(sp.dir);
	if (sp.fd >= 0)
		close(sp.fd);
	sp.fd = fd;
	sp.seq = seq;
	return 0;
}

int evspool_enabled(void) { return sp.on; }

int evspool_open(const char *home, const char *writer)
{
	char base[PATH_MAX];
	unsigned long long *seqs;
	long n;
	const char *e = secure_getenv("RELAY_EVENTS_SEGMENT_SIZE");   /* not a setuid caller's */
	struct stat st;
	static int at;
	int r;
	if (sp.on)
		return 0;
	if (!evspool_name_ok(writer) || evspool_dir(base, sizeof base, home) < 0 ||
	    (size_t)snprintf(sp.dir, sizeof sp.dir, "%s/%s", base, writer) >= sizeof sp.dir) {
		errno = EINVAL;
		return -1;
	}
	if (stat(base, &st) < 0)
		return errno == ENOENT ? 1 : (warn_sys("unable to use %s", base), -1);
	if (mkdir(sp.dir, 02750) < 0 && errno != EEXIST) {
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			return 1;   /* not this uid's to write (relay-inject run by anyone) */
		warn_sys("unable to make %s", sp.dir);
		return -1;
	}
	/* the effective uid's right (relay-queue is setuid relayq) */
	if (faccessat(AT_FDCWD, sp.dir, W_OK, AT_EACCESS) < 0)
		return 1;
	snprintf(sp.home, sizeof sp.home, "%s", home);
	snprintf(sp.writer, sizeof sp.writer, "%s", writer);
	if (e && *e && atol(e) > 0)
		sp.seg_max = atol(e);
	if ((n = evspool_segments(home, writer, &seqs)) < 0) {
		warn_sys("unable to list %s", sp.dir);
		return -1;
	}
	r = n > 0 ? seg_open(seqs[n - 1], 0) : seg_open(1, 1);
	if (r < 0 && n == 0 && errno == EEXIST)
		r = seg_open(1, 0);
	if (r < 0) {
		warn_sys("unable to open a segment in %s", sp.dir);
		free(seqs);
		return -1;
	}
	free(seqs);
	sp.on = 1;
	if (!at++)
		atexit(evspool_close);
	return 0;
}

static void do_sync(void)
{
	if (sp.fd >= 0 && sp.dirty_since > 0) {
		if (fdatasync(sp.fd) < 0 && !sp.warned++)
			warn_sys("unable to sync %s/%016llu", sp.dir, sp.seq);
		sp.dirty_since = 0;
	}
}

/* Remove the segments every consumer has passed (none past the newest
 * EVSPOOL_KEEP when nobody consumes). */
static void clean(void)
{
	unsigned long long *seqs, need;
	long i, n;
	char p[PATH_MAX];
	if (evspool_needed(sp.home, sp.writer, &need) < 0 || (n = evspool_segments(sp.home, sp.writer, &seqs)) <= 0)
		return;
	for (i = 0; i < n - 1; i++) {
		if (need == ULLONG_MAX ? i >= n - EVSPOOL_KEEP : seqs[i] >= need)
			break;
		if (seg_path(p, sizeof p, seqs[i]) == 0)
			unlink(p);
	}
	free(seqs);
}

/* A next segment exists (another process rotated): move to the newest. */
static int moved_on(void)
{
	char p[PATH_MAX];
	unsigned long long *seqs;
	long n;
	if (seg_path(p, sizeof p, sp.seq + 1) < 0 || access(p, F_OK) < 0)
		return 0;
	do_sync();
	if ((n = evspool_segments(sp.home, sp.writer, &seqs)) <= 0)
		return -1;
	n = seg_open(seqs[n - 1], 0);
	free(seqs);
	return n < 0 ? -1 : 1;
}

int evspool_append(const char *json, size_t len)
{
	char rec[EVREC_MAX];
	size_t n;
	struct stat st;
	int r, tries;
	if (!sp.on || sp.fd < 0)
		return 0;
	if (!(n = evrec_format(rec, sizeof rec, json, len))) {
		errno = EMSGSIZE;
		return -1;
	}
	for (tries = 0; tries < 8; tries++) {
		while (flock(sp.fd, LOCK_SH) < 0 && errno == EINTR)
			;
		if ((r = moved_on()) != 0) {
			flock(sp.fd, LOCK_UN);
			if (r < 0)
				break;
			continue;
		}
		r = write_all(sp.fd, rec, n);
		flock(sp.fd, LOCK_UN);
		if (r < 0)
			break;
		if (sp.dirty_since == 0)
			sp.dirty_since = mono();
		if (fstat(sp.fd, &st) == 0 && st.st_size >= sp.seg_max) {
			/* the full segment is synced before anyone is told to move on */
			unsigned long long next = sp.seq + 1;
			do_sync();
			if (seg_open(next, 1) < 0 && errno == EEXIST)
				seg_open(next, 0);
			clean();
		}
		sp.warned = 0;
		evspool_tick(0);
		return 0;
	}
	if (!sp.warned++)
		warn_sys("unable to append to %s/%016llu", sp.dir, sp.seq);
	return -1;
}

long evspool_due_ms(void)
{
	double left;
	if (!sp.on || sp.dirty_since == 0)
		return -1;
	left = sp.dirty_since + EVSPOOL_SYNC_MS / 1000.0 - mono();
	return left <= 0 ? 0 : (long)(left * 1000) + 1;
}

void evspool_tick(int force)
{
	if (force || evspool_due_ms() == 0)
		do_sync();
}

void evspool_close(void)
{
	do_sync();
	if (sp.fd >= 0)
		close(sp.fd);
	sp.fd = -1;
	sp.on = 0;
}
