#include "health/health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/fileio.h"

#define HEALTH_FILE_MAX (4UL * 1024 * 1024)

static const char *const names[] = { "up", "degraded", "down", "skipped" };

const char *health_state_name(int st)
{
	return st >= 0 && st <= HS_SKIPPED ? names[st] : "unknown";
}

int health_state_parse(const char *s)
{
	int i;
	for (i = 0; i <= HS_SKIPPED; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

void health_free(struct health_state *h)
{
	free(h->e);
	memset(h, 0, sizeof *h);
}

/* one word of printable ASCII: the reason field runs to the end of line */
static void word(char *out, size_t cap, const char *in)
{
	size_t i, n = safe_text(out, cap, in, strlen(in));
	for (i = 0; i < n; i++)
		if (out[i] == ' ' || out[i] == '\t')
			out[i] = '-';
	if (!n)
		snprintf(out, cap, "-");
}

int health_add(struct health_state *h, const char *pool, const char *member, int state,
               time_t since, const char *reason)
{
	struct health_entry *x;
	if (h->n == h->cap) {
		size_t nc = h->cap ? 2 * h->cap : 16;
		x = realloc(h->e, nc * sizeof *x);
		if (!x)
			return -1;
		h->e = x;
		h->cap = nc;
	}
	x = &h->e[h->n++];
	memset(x, 0, sizeof *x);
	snprintf(x->pool, sizeof x->pool, "%s", pool);
	snprintf(x->member, sizeof x->member, "%s", member);
	x->state = state;
	x->since = since;
	word(x->reason, sizeof x->reason, reason ? reason : "-");
	return 0;
}

/* issue 16 share: one line, also what send/share.c reads from Redis */
int health_parse(const char *line, struct health_entry *e)
{
	char st[16];
	long long since;
	int s, k = 0;
	memset(e, 0, sizeof *e);
	if (strlen(line) >= 512 ||
	    sscanf(line, "%64s %261s %15s %lld %n", e->pool, e->member, st, &since, &k) != 4 || k <= 0 ||
	    (s = health_state_parse(st)) < 0)
		return -1;
	e->state = s;
	e->since = (time_t)since;
	word(e->reason, sizeof e->reason, line + k);
	return 0;
}

int health_read(const char *home, struct health_state *h)
{
	struct buf path = BUF_INIT, b = BUF_INIT;
	char *p, *end, *nl;
	long long when, interval;
	int rc = -1, n;

	health_free(h);
	if (buf_printf(&path, "%s/%s", home, HEALTH_FILE) < 0)
		return -1;
	if (read_file(path.p, &b, HEALTH_FILE_MAX) < 0) {
		rc = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (!b.len)
		goto proto;
	p = b.p;
	end = b.p + b.len;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		goto proto;
	*nl = 0;
	if (sscanf(p, "RH1 %lld %lld%n", &when, &interval, &n) != 2 || p[n] || when <= 0 ||
	    interval <= 0)
		goto proto;
	p = nl + 1;
	while (p < end) {
		struct health_entry e;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* a torn last line cannot happen (atomic_write); ignore */
		*nl = 0;
		if (h->n < HEALTH_ENTRIES_MAX && health_parse(p, &e) == 0) {
			if (health_add(h, e.pool, e.member, e.state, e.since, e.reason) < 0)
				goto out;
		} else if (h->n >= HEALTH_ENTRIES_MAX) {
			break;
		} else {
			goto proto;
		}
		p = nl + 1;
	}
	h->when = (time_t)when;
	h->interval = (long)interval;
	rc = 1;
	goto out;
proto:
	health_free(h);
	errno = EPROTO;
	rc = -1;
out:
	if (rc < 0 && errno != EPROTO) {
		int e = errno;
		health_free(h);
		errno = e;
	}
	buf_free(&path);
	buf_free(&b);
	return rc;
}

int health_fresh(const struct health_state *h, time_t now)
{
	if (!h->when || h->interval <= 0)
		return 0;
	/* a time far in the future (clock stepped back) is not trusted either */
	return now - h->when <= (time_t)HEALTH_STALE_FACTOR * h->interval &&
	       h->when - now <= h->interval;
}

const struct health_entry *health_find(const struct health_state *h, const char *pool,
                                       const char *member_key)
{
	size_t i;
	for (i = 0; i < h->n; i++)
		if ((!pool || !strcmp(h->e[i].pool, pool)) && !strcmp(h->e[i].member, member_key))
			return &h->e[i];
	return NULL;
}

int health_member_down(const struct health_state *h, const char *pool,
                       const char *member_key, time_t now)
{
	const struct health_entry *e;
	if (!health_fresh(h, now))
		return 0;
	e = health_find(h, pool, member_key);
	return e && e->state == HS_DOWN;
}

int health_write(const char *home, const struct health_state *h)
{
	struct buf b = BUF_INIT, path = BUF_INIT;
	size_t i;
	int rc = -1;
	if (buf_printf(&path, "%s/state", home) < 0)
		goto out;
	if (mkdir(path.p, 0755) < 0 && errno != EEXIST)
		goto out;
	path.len = 0;
	if (buf_printf(&path, "%s/%s", home, HEALTH_DIR) < 0)
		goto out;
	if (mkdir(path.p, 0755) < 0 && errno != EEXIST)
		goto out;
	path.len = 0;
	if (buf_printf(&path, "%s/%s", home, HEALTH_FILE) < 0 ||
	    buf_printf(&b, "RH1 %lld %ld\n", (long long)h->when, h->interval) < 0)
		goto out;
	for (i = 0; i < h->n; i++) {
		const struct health_entry *e = &h->e[i];
		if (buf_printf(&b, "%s %s %s %lld %s\n", e->pool, e->member, health_state_name(e->state),
		               (long long)e->since, e->reason) < 0)
			goto out;
	}
	rc = atomic_write(path.p, b.p, b.len, 0644);
out:
	buf_free(&b);
	buf_free(&path);
	return rc;
}
