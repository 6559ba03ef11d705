/* Cumulative counts per relay, per pool and DKIM signatures per domain
 * (health/totals.h, issue 13). */
#include "health/totals.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fileio.h"
#include "health/counters.h"
#include "health/prom.h"

#define MAGIC "RT1\n"
#define FILE_MAX 4096

const char *const totals_kind_name[TOTALS_KINDS] = { "relay", "pool", "dkim" };

size_t totals_nfields(enum totals_kind kind)
{
	return kind == TOTALS_DKIM ? 1 : TOTALS_NF;
}

static int path(char *out, const char *home, enum totals_kind kind, const char *name)
{
	/* the same rules as a relay's counters file: printable, no '/', no
	 * leading '.' */
	if ((unsigned)kind >= TOTALS_KINDS || !counters_name_ok("relay", name)) {
		errno = EINVAL;
		return -1;
	}
	if (snprintf(out, PATH_MAX, "%s/state/counters/totals/%s/%s", home, totals_kind_name[kind], name) >=
	    PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int totals_parse(enum totals_kind kind, const char *p, size_t len, struct totals *t)
{
	size_t n = totals_nfields(kind), k, i = 4;
	memset(t, 0, sizeof *t);
	if ((unsigned)kind >= TOTALS_KINDS || len < 4 || memcmp(p, MAGIC, 4) != 0)
		goto bad;
	for (k = 0; k < n; k++) {
		unsigned long long v = 0;
		size_t d0 = i;
		for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
			unsigned dg = (unsigned)(p[i] - '0');
			if (v > (ULLONG_MAX - dg) / 10)
				goto bad;
			v = v * 10 + dg;
		}
		if (i == d0 || i >= len || p[i] != (k == n - 1 ? '\n' : ' '))
			goto bad;
		t->v[k] = v;
		i++;
	}
	if (i != len)
		goto bad;
	return 0;
bad:
	memset(t, 0, sizeof *t);
	errno = EPROTO;
	return -1;
}

int totals_read(const char *home, enum totals_kind kind, const char *name, struct totals *t)
{
	char p[PATH_MAX];
	struct buf b = BUF_INIT;
	int r;
	memset(t, 0, sizeof *t);
	if (path(p, home, kind, name) < 0)
		return -1;
	if (read_file(p, &b, FILE_MAX) < 0) {
		int e = errno;
		buf_free(&b);
		errno = e == EFBIG ? EPROTO : e;
		return e == ENOENT ? 0 : -1;
	}
	r = totals_parse(kind, b.p, b.len, t);
	buf_free(&b);
	if (r < 0)
		errno = EPROTO;
	return r < 0 ? -1 : 1;
}

int totals_add(const char *home, enum totals_kind kind, const char *name, const struct totals *add)
{
	char p[PATH_MAX], sub[16];
	struct totals t;
	struct buf b = BUF_INIT;
	size_t k, n;
	int fd, r = -1;
	if (path(p, home, kind, name) < 0)
		return -1;
	snprintf(sub, sizeof sub, "totals/%s", totals_kind_name[kind]);
	if ((fd = counters_lock(home, sub, "totals.lock")) < 0)
		return -1;
	/* a file that does not parse starts again (a counter reset), so that
	 * one bad write never stops the counting */
	if (totals_read(home, kind, name, &t) < 0 && errno != EPROTO)
		goto out;
	if (buf_adds(&b, MAGIC) < 0)
		goto out;
	n = totals_nfields(kind);
	for (k = 0; k < n; k++)
		if (buf_printf(&b, k ? " %llu" : "%llu", t.v[k] + add->v[k]) < 0)
			goto out;
	if (buf_addc(&b, '\n') < 0)
		goto out;
	r = atomic_write(p, b.p, b.len, 0644);
out:
	{
		int e = errno;
		buf_free(&b);
		close(fd);
		errno = e;
	}
	return r;
}

/* ------------------------------------------------------------ /metrics */

#define NAMES_MAX 1024

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the files of a kind, sorted (a stable output). */
static size_t list(const char *home, enum totals_kind kind, char **names)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	size_t n = 0;
	snprintf(dir, sizeof dir, "%s/state/counters/totals/%s", home, totals_kind_name[kind]);
	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d)) && n < NAMES_MAX)
		if (counters_name_ok("relay", de->d_name) && (names[n] = strdup(de->d_name)))
			n++;
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	return n;
}

static const struct {
	enum totals_kind kind;
	enum totals_field f;
	const char *name, *label, *help;
} fam[] = {
	{ TOTALS_RELAY, TOTALS_DELIVERED, "relay_delivered_total", "relay", "Recipients delivered, per relay" },
	{ TOTALS_RELAY, TOTALS_DEFERRED, "relay_deferred_total", "relay",
	  "Deferrals, per relay: a recipient's, or one for a failed connection or session" },
	{ TOTALS_RELAY, TOTALS_BOUNCED, "relay_bounced_total", "relay", "Recipients refused for good, per relay" },
	{ TOTALS_RELAY, TOTALS_FAILOVERS, "relay_failovers_total", "relay",
	  "Failovers from this relay to the next member of its pool (the failover events)" },
	{ TOTALS_POOL, TOTALS_DELIVERED, "relay_pool_delivered_total", "pool", "Recipients delivered, per pool" },
	{ TOTALS_POOL, TOTALS_DEFERRED, "relay_pool_deferred_total", "pool",
	  "Deferrals, per pool: a recipient's, or one for a failed connection or session" },
	{ TOTALS_POOL, TOTALS_BOUNCED, "relay_pool_bounced_total", "pool", "Recipients refused for good, per pool" },
	{ TOTALS_POOL, TOTALS_FAILOVERS, "relay_pool_failovers_total", "pool",
	  "Failovers from one member of the pool to the next (the failover events)" },
	{ TOTALS_DKIM, TOTALS_SIGNED, "relay_dkim_signatures_total", "domain",
	  "DKIM-Signature fields made by relay-dkim, per signing domain (d=)" },
};

/* One scrape's files (on the heap, per call: relay-httpd answers each
 * connection in its own thread, so no static buffers). */
struct scrape {
	char *names[TOTALS_KINDS][NAMES_MAX];
	struct totals val[TOTALS_KINDS][NAMES_MAX];
	unsigned char ok[TOTALS_KINDS][NAMES_MAX];
};

int totals_prom(const char *home, struct buf *o)
{
	struct scrape *sc = calloc(1, sizeof *sc);
	size_t n[TOTALS_KINDS], i, k;
	int rc = 0;
	char help[200];
	if (!sc)
		return -1;
	for (k = 0; k < TOTALS_KINDS; k++) {
		n[k] = list(home, (enum totals_kind)k, sc->names[k]);
		for (i = 0; i < n[k]; i++) {
			sc->ok[k][i] = totals_read(home, (enum totals_kind)k, sc->names[k][i], &sc->val[k][i]) == 1;
			if (!sc->ok[k][i] && errno == EPROTO)
				warn_("state/counters/totals/%s/%s is not in the RT1 format: left out of /metrics",
				      totals_kind_name[k], sc->names[k][i]);
			else if (!sc->ok[k][i] && errno != ENOENT)
				warn_sys("state/counters/totals/%s/%s left out of /metrics", totals_kind_name[k],
				         sc->names[k][i]);
		}
	}
	for (k = 0; k < sizeof fam / sizeof fam[0]; k++) {
		enum totals_kind kd = fam[k].kind;
		snprintf(help, sizeof help, "%s (state/counters/totals/%s)", fam[k].help, totals_kind_name[kd]);
		rc |= prom_head(o, fam[k].name, "counter", help);
		for (i = 0; i < n[kd]; i++) {
			const char *kv[] = { fam[k].label, sc->names[kd][i], NULL };
			if (sc->ok[kd][i])
				rc |= prom_sample(o, fam[k].name, (double)sc->val[kd][i].v[fam[k].f], kv);
		}
	}
	for (k = 0; k < TOTALS_KINDS; k++)
		for (i = 0; i < n[k]; i++)
			free(sc->names[k][i]);
	free(sc);
	return rc ? -1 : 0;
}
