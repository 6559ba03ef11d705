#include "bounce/suppress.h"

#include <cdb.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/fileio.h"
#include "base/diag.h"
#include "bounce/sjournal.h"   /* issue 16 share */
#include "conf/cdbw.h"

#define LIST_MAX (64UL * 1024 * 1024)

int suppress_normalize(const char *addr, char *out, size_t cap)
{
	size_t n = strlen(addr), i;
	const char *at = strrchr(addr, '@');
	if (n == 0 || n > ADDR_PATH_MAX || n + 1 > cap) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)addr[i];
		if (c <= 0x20 || c == 0x7f) {
			errno = EINVAL;
			return -1;
		}
		out[i] = (at && addr + i > at) ? (char)tolower(c) : (char)c;
	}
	out[n] = 0;
	return 0;
}

static int path(char *out, const char *home, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/state/%s", home, name) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void clean_reason(char *out, const char *in)
{
	size_t o = 0;
	for (; in && *in && o < SUPPRESS_REASON_MAX; in++) {
		unsigned char c = (unsigned char)*in;
		out[o++] = (c < 0x20 || c >= 0x7f) ? (c == '\t' ? ' ' : '_') : (char)c;
	}
	out[o] = 0;
}

/* "FIRST LAST EXPIRES REASON" (CDB value) or the TAB form (text list). */
static int parse_times(const char *s, char sep, struct suppress_entry *e)
{
	long long v[3];
	int i;
	char *end;
	for (i = 0; i < 3; i++) {
		errno = 0;
		v[i] = strtoll(s, &end, 10);
		if (errno || end == s || v[i] < 0 || (*end != sep && !(i == 2 && !*end)))
			return -1;
		s = *end ? end + 1 : end;
	}
	e->first = (time_t)v[0];
	e->last = (time_t)v[1];
	e->expires = (time_t)v[2];
	clean_reason(e->reason, s);
	return 0;
}

int suppress_lookup_at(const char *home, const char *addr, time_t now,
                       struct suppress_entry *e)
{
	char p[PATH_MAX], key[ADDR_PATH_MAX + 1], val[512];
	struct suppress_entry tmp;
	struct cdb c;
	int fd, r;
	unsigned vlen;

	if (suppress_normalize(addr, key, sizeof key) < 0)
		return 0;  /* an address we could never have listed */
	if (path(p, home, "suppress.cdb") < 0)
		return -1;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (cdb_init(&c, fd) < 0) {
		int er = errno ? errno : EPROTO;
		close(fd);
		errno = er;
		return -1;
	}
	r = cdb_find(&c, key, (unsigned)strlen(key));
	if (r > 0) {
		vlen = cdb_datalen(&c);
		if (vlen >= sizeof val || cdb_read(&c, val, vlen, cdb_datapos(&c)) < 0) {
			r = -1;
			errno = EPROTO;
		} else {
			val[vlen] = 0;
			if (!e)
				e = &tmp;
			memset(e, 0, sizeof *e);
			memcpy(e->addr, key, strlen(key) + 1);
			if (parse_times(val, ' ', e) < 0) {
				r = -1;
				errno = EPROTO;
			} else if (e->expires && e->expires <= now)
				r = 0;
			else
				r = 1;
		}
	} else if (r < 0 && !errno)
		errno = EPROTO;
	cdb_free(&c);
	close(fd);
	return r;
}

int suppress_lookup(const char *home, const char *addr, struct suppress_entry *e)
{
	return suppress_lookup_at(home, addr, time(NULL), e);
}

struct list {
	struct suppress_entry *e;
	size_t n, cap;
};

static unsigned long rewrites;   /* list_write calls in this process */

unsigned long suppress_rewrites(void)
{
	return rewrites;
}

static int list_push(struct list *l, const struct suppress_entry *e)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		void *np = realloc(l->e, nc * sizeof *l->e);
		if (!np) {
			errno = ENOMEM;
			return -1;
		}
		l->e = np;
		l->cap = nc;
	}
	l->e[l->n++] = *e;
	return 0;
}

/* Read state/suppress. A line that does not parse makes the whole read
 * fail (EPROTO) rather than silently unlisting an address. */
static int list_read(const char *home, struct list *l, unsigned long *badline)
{
	char p[PATH_MAX];
	struct buf b = BUF_INIT;
	char *line, *nl;
	unsigned long lineno = 0;

	*badline = 0;
	if (path(p, home, "suppress") < 0)
		return -1;
	if (read_file(p, &b, LIST_MAX) < 0) {
		int e = errno;
		buf_free(&b);
		errno = e;
		return e == ENOENT ? 0 : -1;
	}
	for (line = b.p; line && line < b.p + b.len; line = nl) {
		struct suppress_entry e;
		char *tab;
		nl = memchr(line, '\n', b.len - (size_t)(line - b.p));
		if (nl)
			*nl++ = 0;
		lineno++;
		if (!*line || *line == '#')
			continue;
		memset(&e, 0, sizeof e);
		tab = strchr(line, '\t');
		if (tab)
			*tab = 0;
		if (!tab ||
		    suppress_normalize(line, e.addr, sizeof e.addr) < 0 ||
		    parse_times(tab + 1, '\t', &e) < 0 || list_push(l, &e) < 0) {
			int er = errno == ENOMEM ? ENOMEM : EPROTO;
			buf_free(&b);
			*badline = lineno;
			errno = er;
			return -1;
		}
	}
	buf_free(&b);
	return 0;
}

static int write_cdb(const char *home, const struct list *l)
{
	char p[PATH_MAX];
	struct cdbw w;
	size_t i;

	if (path(p, home, "suppress.cdb") < 0)
		return -1;
	if (cdbw_start(&w, p, 0644) < 0)
		goto fail;
	for (i = 0; i < l->n; i++) {
		char val[512];
		int n = snprintf(val, sizeof val, "%lld %lld %lld %s",
		                 (long long)l->e[i].first, (long long)l->e[i].last,
		                 (long long)l->e[i].expires, l->e[i].reason);
		if (n < 0 || n >= (int)sizeof val) {
			errno = EOVERFLOW;
			goto fail;
		}
		if (cdbw_add(&w, l->e[i].addr, strlen(l->e[i].addr), val, (size_t)n) < 0)
			goto fail;
	}
	if (cdbw_commit(&w) == 0)
		return 0;
fail:
	cdbw_abort(&w);
	return -1;
}

/* Text first, then the CDB: a crash between leaves the CDB one change
 * behind, and the next change (or relay-bounce suppress add of any
 * address) rebuilds it from the text. */
static int list_write(const char *home, const struct list *l)
{
	char p[PATH_MAX];
	struct buf b = BUF_INIT;
	size_t i;
	int r;

	if (path(p, home, "suppress") < 0)
		return -1;
	if (buf_adds(&b, "# address\tfirst-seen\tlast-seen\texpires\treason"
	                 " (epoch seconds; expires 0 = never)\n") < 0)
		return -1;
	for (i = 0; i < l->n; i++)
		if (buf_printf(&b, "%s\t%lld\t%lld\t%lld\t%s\n", l->e[i].addr,
		               (long long)l->e[i].first, (long long)l->e[i].last,
		               (long long)l->e[i].expires, l->e[i].reason) < 0) {
			buf_free(&b);
			return -1;
		}
	r = atomic_write(p, b.p, b.len, 0644);
	buf_free(&b);
	if (r < 0)
		return -1;
	rewrites++;
	crash_point("suppress-text-written");
	return write_cdb(home, l);
}

static int lock_open(const char *home)
{
	char p[PATH_MAX], dir[PATH_MAX];
	if (snprintf(dir, sizeof dir, "%s/state", home) >= (int)sizeof dir ||
	    path(p, home, "suppress.lock") < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	return lock_take(p, 0644);
}

/* issue 16 share: a local change's records for the other nodes; a
 * failure leaves the change made here only */
static void journal(const char *home, const struct sjrec *r, size_t n)
{
	if (sjournal_append(home, r, n) < 0)
		warn_sys("unable to append to %s/state/%s: %zu change(s) not shared", home, SJOURNAL_FILE, n);
}

int suppress_lock(const char *home)
{
	return lock_open(home);
}

static int change(const char *home, const char *addr, const char *reason,
                  time_t now, long expiry, int remove)
{
	struct list l = {0, 0, 0};
	struct suppress_entry ne;
	unsigned long bad;
	size_t i, o;
	int fd, found = 0, r = -1;

	memset(&ne, 0, sizeof ne);
	if (suppress_normalize(addr, ne.addr, sizeof ne.addr) < 0)
		return -1;
	if ((fd = lock_open(home)) < 0)
		return -1;
	if (list_read(home, &l, &bad) < 0)
		goto out;
	/* Drop expired entries and find ours. */
	for (i = o = 0; i < l.n; i++) {
		if (strcmp(l.e[i].addr, ne.addr) == 0) {
			found = 1;
			if (remove)
				continue;
			l.e[i].last = now;
			l.e[i].expires = expiry > 0 ? now + expiry : 0;
			if (reason)
				clean_reason(l.e[i].reason, reason);
		} else if (l.e[i].expires && l.e[i].expires <= now)
			continue;
		l.e[o++] = l.e[i];
	}
	l.n = o;
	if (!remove && !found) {
		ne.first = ne.last = now;
		ne.expires = expiry > 0 ? now + expiry : 0;
		clean_reason(ne.reason, reason ? reason : "added");
		if (list_push(&l, &ne) < 0)
			goto out;
	}
	if (list_write(home, &l) < 0)
		goto out;
	r = remove ? found : 0;
	if (!remove || found) {   /* issue 16 share: for the other nodes */
		struct sjrec jr;
		memset(&jr, 0, sizeof jr);
		jr.del = remove;
		jr.e = ne;
		for (i = 0; !remove && i < l.n; i++)
			if (!strcmp(l.e[i].addr, ne.addr))
				jr.e = l.e[i];
		journal(home, &jr, 1);
	}
out:
	free(l.e);
	lock_release(fd);
	return r;
}

int suppress_add(const char *home, const char *addr, const char *reason,
                 time_t now, long expiry)
{
	return change(home, addr, reason, now, expiry, 0);
}

/* ------------------------------------------------------------ many at once */

/* An open-addressing table of list positions by address (FNV-1a), so
 * that a batch is linear in the list and the batch, not their product. */
struct index {
	size_t *slot;   /* list position + 1, 0: empty */
	size_t cap;     /* a power of two, over twice the entries */
};

static size_t hash_addr(const char *a)
{
	size_t h = (size_t)14695981039346656037ULL;
	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * (size_t)1099511628211ULL;
	return h;
}

/* The slot of addr: holding its list position + 1, or empty (0): where
 * it goes. */
static size_t *index_find(const struct index *x, const struct list *l, const char *addr)
{
	size_t i = hash_addr(addr) & (x->cap - 1);
	while (x->slot[i] && strcmp(l->e[x->slot[i] - 1].addr, addr) != 0)
		i = (i + 1) & (x->cap - 1);
	return &x->slot[i];
}

static int index_build(struct index *x, const struct list *l, size_t more)
{
	size_t i, want = (l->n + more) * 2 + 16;
	for (x->cap = 64; x->cap < want; x->cap *= 2)
		;
	x->slot = calloc(x->cap, sizeof *x->slot);
	if (!x->slot) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < l->n; i++) {
		size_t *sl = index_find(x, l, l->e[i].addr);
		if (!*sl)
			*sl = i + 1;
	}
	return 0;
}

int suppress_add_many(const char *home, const struct suppress_item *it, size_t n,
                      time_t now, long expiry, size_t *skipped)
{
	struct list l = {0, 0, 0};
	struct index x = {NULL, 0};
	unsigned long bad;
	size_t i, o, skip = 0;
	int fd, r = -1;

	if (skipped)
		*skipped = 0;
	if (n == 0)
		return 0;
	if ((fd = lock_open(home)) < 0)
		return -1;
	if (list_read(home, &l, &bad) < 0)
		goto out;
	/* expired entries go, as in a single change */
	for (i = o = 0; i < l.n; i++)
		if (!(l.e[i].expires && l.e[i].expires <= now))
			l.e[o++] = l.e[i];
	l.n = o;
	if (index_build(&x, &l, n) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct suppress_entry ne;
		size_t *sl;
		memset(&ne, 0, sizeof ne);
		if (suppress_normalize(it[i].addr, ne.addr, sizeof ne.addr) < 0) {
			skip++;
			continue;
		}
		sl = index_find(&x, &l, ne.addr);
		if (*sl) {
			struct suppress_entry *e = &l.e[*sl - 1];
			e->last = now;
			e->expires = expiry > 0 ? now + expiry : 0;
			if (it[i].reason)
				clean_reason(e->reason, it[i].reason);
			continue;
		}
		ne.first = ne.last = now;
		ne.expires = expiry > 0 ? now + expiry : 0;
		clean_reason(ne.reason, it[i].reason ? it[i].reason : "added");
		if (list_push(&l, &ne) < 0)
			goto out;
		*sl = l.n;
	}
	if (list_write(home, &l) < 0)
		goto out;
	if (skipped)
		*skipped = skip;
	r = 0;
	{	/* issue 16 share: the entries this batch touched, for the other nodes */
		struct sjrec *jr = calloc(n, sizeof *jr);
		size_t k = 0;
		for (i = 0; jr && i < n; i++) {
			char a[ADDR_PATH_MAX + 1];
			size_t *sl;
			if (suppress_normalize(it[i].addr, a, sizeof a) < 0 || !*(sl = index_find(&x, &l, a)))
				continue;
			jr[k++].e = l.e[*sl - 1];
		}
		if (!jr)
			warn_("out of memory: %zu suppression(s) not shared", n);
		else
			journal(home, jr, k);
		free(jr);
	}
out:
	free(x.slot);
	free(l.e);
	lock_release(fd);
	return r;
}

/* issue 16 share: records from the other nodes, in order, in one change
 * and not journaled. An add keeps the earliest first-seen and the latest
 * last-seen; its expiry and reason are the news. */
int suppress_apply(const char *home, const struct sjrec *r, size_t n, time_t now, size_t *added,
                   size_t *removed)
{
	struct list l = {0, 0, 0};
	struct index x = {NULL, 0};
	unsigned long bad;
	size_t i, o;
	int fd, rc = -1;
	*added = *removed = 0;
	if (n == 0)
		return 0;
	if ((fd = lock_open(home)) < 0)
		return -1;
	if (list_read(home, &l, &bad) < 0 || index_build(&x, &l, n) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct suppress_entry ne = r[i].e;
		size_t *sl;
		if (suppress_normalize(r[i].e.addr, ne.addr, sizeof ne.addr) < 0)
			continue;
		sl = index_find(&x, &l, ne.addr);
		if (r[i].del) {
			if (*sl && l.e[*sl - 1].first >= 0) {
				l.e[*sl - 1].first = -1;   /* gone: dropped below */
				++*removed;
			}
			continue;
		}
		if (ne.expires && ne.expires <= now)
			continue;
		clean_reason(ne.reason, r[i].e.reason);
		++*added;
		if (*sl && l.e[*sl - 1].first >= 0) {
			struct suppress_entry *e = &l.e[*sl - 1];
			e->first = ne.first < e->first ? ne.first : e->first;
			e->last = ne.last > e->last ? ne.last : e->last;
			e->expires = ne.expires;
			memcpy(e->reason, ne.reason, sizeof e->reason);
		} else if (*sl) {
			l.e[*sl - 1] = ne;   /* removed, then added again */
		} else {
			if (list_push(&l, &ne) < 0)
				goto out;
			*sl = l.n;
		}
	}
	for (i = o = 0; i < l.n; i++)
		if (l.e[i].first >= 0 && !(l.e[i].expires && l.e[i].expires <= now))
			l.e[o++] = l.e[i];
	l.n = o;
	rc = list_write(home, &l);
out:
	free(x.slot);
	free(l.e);
	lock_release(fd);
	return rc;
}

int suppress_rebuild(const char *home)
{
	struct list l = {0, 0, 0};
	unsigned long bad;
	int fd, r = -1;
	if ((fd = lock_open(home)) < 0)
		return -1;
	if (list_read(home, &l, &bad) == 0 && list_write(home, &l) == 0)
		r = 0;
	free(l.e);
	lock_release(fd);
	return r;
}

int suppress_remove(const char *home, const char *addr)
{
	return change(home, addr, NULL, time(NULL), 0, 1);
}

int suppress_each(const char *home,
                  int (*fn)(const struct suppress_entry *e, void *arg), void *arg)
{
	struct list l = {0, 0, 0};
	unsigned long bad;
	size_t i;
	int r = 0;
	if (list_read(home, &l, &bad) < 0) {
		int e = errno;
		free(l.e);
		errno = e;
		return -1;
	}
	for (i = 0; i < l.n && !r; i++)
		r = fn(&l.e[i], arg);
	free(l.e);
	return r;
}
