/* Traffic shaping's restart state (shape.h): throttles, cooling and the
 * day's quota and ramp counts written to state/shaping and read back at
 * start, so that a restart does not forget what an upstream told us. */
#include "send/shape.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fileio.h"
#include "send/pool.h"

_Static_assert(SHAPE_KEY_MAX == 263, "the %262s of shape_restore");

/* The wall time of a monotonic one (0: none or over). */
static long long wall_of(double until, double mono, time_t wall)
{
	return until > mono ? (long long)wall + (long long)(until - mono + 0.999) : 0;
}

int shape_save(struct shape *s, const char *home, double mono, time_t wall)
{
	struct buf b = BUF_INIT, path = BUF_INIT;
	size_t i;
	int r;
	for (i = 0; i < SHAPE_BUCKETS; i++) {
		const struct shape_dest *d;
		for (d = s->tab[i]; d; d = d->next) {
			int thr = d->throttle != THROTTLE_NONE && d->throttle_until > mono;
			long long tu = thr ? wall_of(d->throttle_until, mono, wall) : 0;
			long long cu = wall_of(d->cool_until, mono, wall);
			if (!d->qcount && !d->rcount && !tu && !cu)
				continue;   /* nothing to remember: dropped */
			if (buf_printf(&b, "%s %ld %lu %ld %lu %s %lld %u %lld %u\n", d->key, d->qperiod, d->qcount,
			               d->rday, d->rcount, shape_throttle_name(tu ? d->throttle : THROTTLE_NONE), tu,
			               tu ? d->throttle_conc : 0, cu, cu ? d->penalty : 0) < 0)
				goto oom;
		}
	}
	if (buf_adds(&b, "") < 0 || buf_printf(&path, "%s/%s", home, SHAPE_FILE) < 0)
		goto oom;
	r = atomic_write(path.p, b.p, b.len, 0644);
	if (r == 0)
		s->dirty = 0;
	buf_free(&b);
	buf_free(&path);
	return r;
oom:
	buf_free(&b);
	buf_free(&path);
	errno = ENOMEM;
	return -1;
}

static int throttle_by_name(const char *n)
{
	int a;
	for (a = THROTTLE_NONE; a <= THROTTLE_CONCURRENCY; a++)
		if (!strcmp(n, shape_throttle_name(a)))
			return a;
	return -1;
}

/* One line into d's state; 0, or -1 when it does not parse or holds a
 * time too far ahead. */
static int restore_line(struct shape *s, const char *line, double mono, time_t wall)
{
	char key[SHAPE_KEY_MAX], act[16], extra;
	long qp, rd;
	unsigned long qc, rc;
	long long tu = 0, cu = 0;
	unsigned conc = 0, pen = 0;
	int n, a = THROTTLE_NONE;
	const char *p;
	struct shape_dest *d;
	n = sscanf(line, "%262s %ld %lu %ld %lu %15s %lld %u %lld %u %c", key, &qp, &qc, &rd, &rc, act, &tu,
	           &conc, &cu, &pen, &extra);
	if (n != 5 && n != 10)
		return -1;
	for (p = key; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;
	if (n == 10 && ((a = throttle_by_name(act)) < 0 || tu < 0 || cu < 0 || pen > 1000 ||
	                (tu > wall && (double)(tu - wall) > SHAPE_REMAIN_MAX) ||
	                (cu > wall && (double)(cu - wall) > COOL_MAX)))
		return -1;
	if (tu <= wall)
		a = THROTTLE_NONE;   /* over while relay-send was down */
	if (!qc && !rc && a == THROTTLE_NONE && cu <= wall)
		return 0;            /* nothing left to remember */
	if (!(d = shape_dest(s, key)))
		return 0;            /* out of memory: counted from 0 */
	d->qperiod = qp;
	d->qcount = qc;
	d->rday = rd;
	d->rcount = rc;
	if (a != THROTTLE_NONE) {
		d->throttle = a;
		d->throttle_until = mono + (double)(tu - wall);
		d->throttle_conc = conc ? conc : 1;
	}
	if (cu > wall) {
		d->cool_until = mono + (double)(cu - wall);
		d->penalty = pen;
	}
	return 0;
}

unsigned long shape_restore_text(struct shape *s, const char *p, size_t n, double mono, time_t wall)
{
	size_t off, lines = 0;
	unsigned long nbad = 0;
	if (mono > s->mono)
		s->mono = mono;
	for (off = 0; off < n;) {
		const char *line = p + off, *nl = memchr(line, '\n', n - off);
		size_t len = nl ? (size_t)(nl - line) : n - off;
		char one[SHAPE_KEY_MAX + 200];
		off += len + 1;
		if (len == 0)
			continue;
		/* a line with a NUL, or too long for any key, or past the bound */
		if (memchr(line, 0, len) || len >= sizeof one || ++lines > SHAPE_DESTS_MAX) {
			nbad++;
			continue;
		}
		memcpy(one, line, len);
		one[len] = 0;
		if (restore_line(s, one, mono, wall) < 0)
			nbad++;
	}
	return nbad;
}

int shape_restore(struct shape *s, const char *home, double mono, time_t wall, unsigned long *bad)
{
	struct buf b = BUF_INIT, path = BUF_INIT;
	unsigned long nbad;
	if (bad)
		*bad = 0;
	if (buf_printf(&path, "%s/%s", home, SHAPE_FILE) < 0) {
		errno = ENOMEM;
		return -1;
	}
	if (read_file(path.p, &b, 64UL << 20) < 0) {
		int e = errno;
		buf_free(&path);
		buf_free(&b);
		errno = e;
		return e == ENOENT ? 0 : -1;
	}
	buf_free(&path);
	nbad = shape_restore_text(s, b.p ? b.p : "", b.len, mono, wall);
	buf_free(&b);
	if (bad)
		*bad = nbad;
	return 0;
}
