/* Reading the event spool, merged across writers (events/stream.h). */
#include "events/stream.h"

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

#include "base/fileio.h"

#define READ_CHUNK 65536

int evstream_open(struct evstream *s, const char *home)
{
	memset(s, 0, sizeof *s);
	if ((size_t)snprintf(s->home, sizeof s->home, "%s", home) >= sizeof s->home) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void w_reset(struct evw *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->data.len = 0;
	w->data_off = w->off;
	w->scan = 0;
	w->peeked = 0;
}

void evstream_close(struct evstream *s)
{
	size_t i;
	for (i = 0; i < s->n; i++) {
		w_reset(&s->w[i]);
		buf_free(&s->w[i].data);
	}
	free(s->w);
	buf_free(&s->out);
	s->w = NULL;
	s->n = 0;
}

static struct evw *w_find(struct evstream *s, const char *name, int add)
{
	size_t i;
	struct evw *nw;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->w[i].name, name))
			return &s->w[i];
	if (!add || !evspool_name_ok(name))
		return NULL;
	if (!(nw = realloc(s->w, (s->n + 1) * sizeof *nw)))
		return NULL;
	s->w = nw;
	nw = &s->w[s->n++];
	memset(nw, 0, sizeof *nw);
	snprintf(nw->name, sizeof nw->name, "%s", name);
	nw->fd = -1;
	nw->seq = 0;    /* the first segment there is */
	return nw;
}

/* New writer directories (state/events/NAME, not consumers/). */
static int rescan(struct evstream *s)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	if (evspool_dir(dir, sizeof dir, s->home) < 0)
		return -1;
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "consumers") && evspool_name_ok(de->d_name))
			w_find(s, de->d_name, 1);
	closedir(d);
	return 0;
}

int evstream_load(struct evstream *s, const char *path)
{
	struct buf b = BUF_INIT;
	char *l, *nl;
	if (read_file(path, &b, 1 << 20) < 0) {
		buf_free(&b);
		return errno == ENOENT ? 0 : -1;
	}
	for (l = b.p; l && *l; l = nl ? nl + 1 : NULL) {
		char name[EVSPOOL_WRITER_MAX + 1];
		unsigned long long seq;
		long long off;
		struct evw *w;
		nl = strchr(l, '\n');
		if (sscanf(l, "%64s %llu %lld", name, &seq, &off) != 3 || off < 0 || !(w = w_find(s, name, 1))) {
			buf_free(&b);
			errno = EINVAL;
			return -1;
		}
		w->seq = seq;
		w->off = off;
		w_reset(w);
	}
	buf_free(&b);
	return 0;
}

int evstream_save(const struct evstream *s, const char *path)
{
	struct buf b = BUF_INIT;
	size_t i;
	int r;
	for (i = 0; i < s->n; i++)
		buf_printf(&b, "%s %llu %lld\n", s->w[i].name, s->w[i].seq, s->w[i].off);
	r = atomic_write(path, b.p ? b.p : "", b.len, 0644);
	buf_free(&b);
	return r;
}

size_t evstream_tell(const struct evstream *s, struct evpos **pos)
{
	size_t i;
	*pos = calloc(s->n ? s->n : 1, sizeof **pos);
	if (!*pos)
		return 0;
	for (i = 0; i < s->n; i++) {
		snprintf((*pos)[i].name, sizeof (*pos)[i].name, "%s", s->w[i].name);
		(*pos)[i].seq = s->w[i].seq;
		(*pos)[i].off = s->w[i].off;
	}
	return s->n;
}

void evstream_seek(struct evstream *s, const struct evpos *pos, size_t n)
{
	size_t i, j;
	for (i = 0; i < s->n; i++) {
		struct evw *w = &s->w[i];
		w->seq = 0;
		w->off = 0;
		for (j = 0; j < n; j++)
			if (!strcmp(pos[j].name, w->name)) {
				w->seq = pos[j].seq;
				w->off = pos[j].off;
			}
		w_reset(w);
	}
}

/* The smallest segment of w after seq (after: 1) or from seq on (0); 0 if none. */
static unsigned long long seg_from(struct evstream *s, struct evw *w, unsigned long long seq, int after)
{
	unsigned long long *v, r = 0;
	long i, n = evspool_segments(s->home, w->name, &v);
	for (i = 0; i < n; i++)
		if (after ? v[i] > seq : v[i] >= seq) {
			r = v[i];
			break;
		}
	free(v);
	return r;
}

static int seg_open(struct evstream *s, struct evw *w)
{
	char dir[PATH_MAX], p[PATH_MAX + 100];
	unsigned long long q;
	if (evspool_dir(dir, sizeof dir, s->home) < 0)
		return -1;
	for (;;) {
		snprintf(p, sizeof p, "%s/%s/%016llu", dir, w->name, w->seq);
		if (w->seq && (w->fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0)
			return 1;
		if (w->seq && errno != ENOENT)
			return -1;
		/* removed or not there yet: the first segment from it on */
		if (!(q = seg_from(s, w, w->seq, 0)))
			return 0;
		if (q != w->seq) {
			w->seq = q;
			w->off = 0;
			w->data_off = 0;
		}
	}
}

/* Make w's next record ready: 1, 0 none yet, -1 error. */
/* Take and drop LOCK_EX on fd, trying for at most SEAL_WAIT_MS: 0, or -1
 * when a writer held its lock all that time (the reader moves on; a line
 * that writer appends to this segment later is not read). */
#define SEAL_WAIT_MS 5000
static int seal_wait(int fd)
{
	const struct timespec tick = { 0, 10 * 1000 * 1000 };
	int ms;
	for (ms = 0; ms < SEAL_WAIT_MS; ms += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			flock(fd, LOCK_UN);
			return 0;
		}
		if (errno != EWOULDBLOCK && errno != EINTR)
			return 0;   /* no lock to wait for (the segment is read as it is) */
		nanosleep(&tick, NULL);
	}
	return -1;
}

static int peek(struct evstream *s, struct evw *w)
{
	int sealed = 0, skipping = 0;
	if (w->peeked)
		return 1;
	for (;;) {
		char *nl;
		const char *json;
		size_t len, jl;
		ssize_t got;
		if (w->fd < 0) {
			int r = seg_open(s, w);
			if (r <= 0)
				return r;
			w->data.len = 0;
			w->data_off = w->off;
			w->scan = 0;
		}
		nl = w->data.len > w->scan ? memchr(w->data.p + w->scan, '\n', w->data.len - w->scan) : NULL;
		if (nl) {
			len = (size_t)(nl - (w->data.p + w->scan));
			if (!skipping && evrec_check(w->data.p + w->scan, len, &json, &jl) == 0) {
				w->peeked = 1;
				w->p_off = w->data_off + (long long)w->scan;
				w->p_end = w->p_off + (long long)len + 1;
				w->p_time = evrec_time(json, jl);
				return 1;
			}
			/* not a record (torn by a crash, or damaged): skipped */
			if (!skipping || len)
				s->skipped++;
			skipping = 0;
			w->scan += len + 1;
			w->off = w->data_off + (long long)w->scan;
			continue;
		}
		if (w->data.len - w->scan > EVREC_MAX) {
			skipping = 1;   /* a line longer than any record: drop to its end */
			w->scan = w->data.len;
		}
		/* keep only the unfinished line, then read on */
		if (w->scan) {
			memmove(w->data.p, w->data.p + w->scan, w->data.len - w->scan);
			w->data.len -= w->scan;
			w->data_off += (long long)w->scan;
			w->scan = 0;
		}
		if (buf_reserve(&w->data, READ_CHUNK) < 0)
			return -1;
		got = pread(w->fd, w->data.p + w->data.len, READ_CHUNK,
		            w->data_off + (long long)w->data.len);
		if (got < 0)
			return -1;
		if (got > 0) {
			w->data.len += (size_t)got;
			sealed = 0;
			continue;
		}
		/* the end of this segment: the last one, or finished? */
		if (!seg_from(s, w, w->seq, 1))
			return 0;
		if (!sealed) {
			/* a next segment exists: wait out an append in progress
			 * (writers append under LOCK_SH), then read to the end
			 * again. Never for long: a local user can SIGSTOP their
			 * own setuid relay-queue while it holds the lock, and
			 * that must not stall every endpoint (hostile-inputs 66). */
			if (seal_wait(w->fd) < 0)
				s->seal_timeouts++;
			sealed = 1;
			continue;
		}
		if (w->data.len || skipping)
			s->skipped++;   /* a torn last line: never finished */
		skipping = 0;
		w->seq = seg_from(s, w, w->seq, 1);
		w->off = 0;
		w_reset(w);
	}
}

int evstream_next(struct evstream *s, struct evrec *r)
{
	size_t i, best;
	int pass, any;
	for (pass = 0; pass < 2; pass++) {
		any = 0;
		best = 0;
		for (i = 0; i < s->n; i++) {
			int p = peek(s, &s->w[i]);
			if (p < 0)
				return -1;
			if (p && (!any || s->w[i].p_time < s->w[best].p_time))
				best = i;
			any |= p;
		}
		if (any) {
			struct evw *w = &s->w[best];
			size_t at = w->scan, len = (size_t)(w->p_end - w->p_off) - 1;
			const char *json;
			size_t jl;
			evrec_check(w->data.p + at, len, &json, &jl);
			s->out.len = 0;
			if (buf_add(&s->out, json, jl) < 0)
				return -1;
			r->writer = w->name;
			r->seq = w->seq;
			r->off = w->p_off;
			r->json = s->out.p;
			r->len = jl;
			r->time = w->p_time;
			w->scan += len + 1;
			w->off = w->p_end;
			w->peeked = 0;
			return 1;
		}
		if (pass == 0 && rescan(s) < 0)
			return -1;
	}
	return 0;
}

long long evstream_lag_bytes(const struct evstream *s)
{
	char dir[PATH_MAX], p[PATH_MAX + 100];
	long long lag = 0;
	size_t i;
	long j, n;
	if (evspool_dir(dir, sizeof dir, s->home) < 0)
		return 0;
	for (i = 0; i < s->n; i++) {
		unsigned long long *v;
		struct stat st;
		n = evspool_segments(s->home, s->w[i].name, &v);
		for (j = 0; j < n; j++) {
			if (v[j] < s->w[i].seq)
				continue;
			snprintf(p, sizeof p, "%s/%s/%016llu", dir, s->w[i].name, v[j]);
			if (stat(p, &st) == 0)
				lag += st.st_size - (v[j] == s->w[i].seq ? s->w[i].off : 0);
		}
		free(v);
	}
	return lag < 0 ? 0 : lag;
}

int evstream_json(const struct evrec *r, struct buf *out)
{
	if (r->len < 2 || r->json[0] != '{')
		return -1;
	if (buf_printf(out, "{\"id\":\"%s:%llu:%lld\"%s", r->writer, r->seq, r->off, r->len > 2 ? "," : "") < 0)
		return -1;
	return buf_add(out, r->json + 1, r->len - 1);
}

/* One JSON string at *p (after its quote) into out, unescaped: \uXXXX
 * above 0x7f becomes '_' (the log line is ASCII). */
static int json_unstr(const char **p, const char *end, struct buf *out)
{
	const char *s = *p;
	while (s < end && *s != '"') {
		char c = *s++;
		if (c == '\\') {
			if (s >= end)
				return -1;
			c = *s++;
			switch (c) {
			case 'n': case 'r': case 't': case 'b': case 'f': c = ' '; break;
			case 'u': {
				unsigned v = 0;
				int i;
				if (end - s < 4)
					return -1;
				for (i = 0; i < 4; i++) {
					char h = *s++;
					v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 :
					                        h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
					if (v > 0xffff)
						return -1;
				}
				c = v >= 0x20 && v < 0x7f ? (char)v : '_';
				break;
			}
			case '"': case '\\': case '/': break;
			default: return -1;
			}
		}
		if (buf_addc(out, (unsigned char)c < 0x20 || (unsigned char)c >= 0x7f ? '_' : c) < 0)
			return -1;
	}
	if (s >= end)
		return -1;
	*p = s + 1;
	return 0;
}

int evstream_kv(const char *json, size_t len, struct buf *out)
{
	const char *p = json, *end = json + len;
	struct buf v = BUF_INIT;
	int first = 1, r = -1;
	if (len < 2 || *p++ != '{' || end[-1] != '}')
		return -1;
	end--;
	while (p < end) {
		size_t i;
		int quote = 0;
		if (!first && *p++ != ',')
			goto out;
		if (p >= end || *p++ != '"')
			goto out;
		if (!first)
			buf_addc(out, ' ');
		first = 0;
		v.len = 0;
		if (json_unstr(&p, end, &v) < 0 || p >= end || *p++ != ':')
			goto out;
		buf_add(out, v.p, v.len);
		buf_addc(out, '=');
		v.len = 0;
		if (p < end && *p == '"') {
			p++;
			if (json_unstr(&p, end, &v) < 0)
				goto out;
		} else {
			while (p < end && *p != ',' && (*p == '-' || *p == '.' || *p == '+' || *p == 'e' || *p == 'E' ||
			                                (*p >= '0' && *p <= '9')))
				buf_addc(&v, *p++);
			if (!v.len)
				goto out;
		}
		for (i = 0; i < v.len; i++)
			if (v.p[i] == ' ' || v.p[i] == '"' || v.p[i] == '=' || v.p[i] == '\\')
				quote = 1;
		if (!quote && v.len) {
			buf_add(out, v.p, v.len);
			continue;
		}
		buf_addc(out, '"');
		for (i = 0; i < v.len; i++) {
			if (v.p[i] == '"' || v.p[i] == '\\')
				buf_addc(out, '\\');
			buf_addc(out, v.p[i]);
		}
		buf_addc(out, '"');
	}
	r = 0;
out:
	buf_free(&v);
	return r;
}
