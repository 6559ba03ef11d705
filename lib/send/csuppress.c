/* issue 16 share: the suppression list across the nodes (csuppress.h). */
#include "send/csuppress.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/evlog.h"
#include "base/fileio.h"
#include "bounce/sjournal.h"
#include "bounce/suppress.h"
#include "send/share_parse.h"

void csuppress_init(struct csuppress *cs, const char *home, const char *node)
{
	memset(cs, 0, sizeof *cs);
	cs->home = home;
	snprintf(cs->node, sizeof cs->node, "%s", node);
	snprintf(cs->last, sizeof cs->last, "0");
}

static int id_ok(const char *s)
{
	size_t i, n = strlen(s);
	if (n == 0 || n > CSUPPRESS_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static void cursor_load(struct csuppress *cs)
{
	char p[PATH_MAX], id[CSUPPRESS_ID_MAX + 1];
	struct buf b = BUF_INIT;
	long long off;
	cs->loaded = 1;
	snprintf(p, sizeof p, "%s/state/%s", cs->home, CSUPPRESS_CURSOR);
	if (read_file(p, &b, 256) < 0) {
		if (errno != ENOENT)
			warn_sys("unable to read %s; the journal is pushed again and the stream read from its start", p);
	} else if (buf_addc(&b, 0) < 0 || sscanf(b.p, "CS1 %lld %63s", &off, id) != 2 || off < 0 || !id_ok(id)) {
		warn_("%s does not parse; the journal is pushed again and the stream read from its start", p);
	} else {
		cs->off = off;
		memcpy(cs->last, id, strlen(id) + 1);
	}
	buf_free(&b);
}

static int cursor_save(void *arg)
{
	struct csuppress *cs = arg;
	char p[PATH_MAX], v[128];
	int n;
	snprintf(p, sizeof p, "%s/state/%s", cs->home, CSUPPRESS_CURSOR);
	n = snprintf(v, sizeof v, "CS1 %lld %s\n", cs->off, cs->last);
	if (atomic_write(p, v, (size_t)n, 0600) < 0) {
		warn_sys("unable to write %s", p);
		return -1;
	}
	return 0;
}

/* The journal from cs->off: complete lines, the good ones only, up to
 * CSUPPRESS_CHUNK bytes, into recs; *used: the bytes of the journal they
 * took (bad lines included); *size the journal's size. 0, or -1. */
static int journal_chunk(struct csuppress *cs, struct buf *recs, size_t *used, long long *size)
{
	char p[PATH_MAX], *chunk;
	struct stat st;
	ssize_t got;
	size_t i, start = 0;
	int fd;
	*used = 0;
	*size = 0;
	snprintf(p, sizeof p, "%s/state/%s", cs->home, SJOURNAL_FILE);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	*size = (long long)st.st_size;
	if (cs->off > *size)
		cs->off = 0;   /* truncated since (the cursor was written first) */
	if (!(chunk = malloc(CSUPPRESS_CHUNK))) {
		close(fd);
		return -1;
	}
	got = pread(fd, chunk, CSUPPRESS_CHUNK, (off_t)cs->off);
	close(fd);
	for (i = 0; got > 0 && i < (size_t)got; i++) {
		struct sjrec r;
		if (chunk[i] != '\n')
			continue;
		if (sjournal_parse(chunk + start, i - start, &r) == 0)
			buf_add(recs, chunk + start, i - start + 1);
		else
			warn_("%s: a line that does not parse at byte %lld, skipped", p, cs->off + (long long)start);
		start = i + 1;
	}
	/* a line longer than a whole chunk cannot be a record: skip it */
	if (got == CSUPPRESS_CHUNK && start == 0)
		start = (size_t)got;
	*used = start;
	free(chunk);
	return got < 0 ? -1 : 0;
}

static int push(struct csuppress *cs, struct rconn *r, char *err, size_t cap)
{
	int k;
	long long size = 0;
	for (k = 0; k < CSUPPRESS_PUSH_MAX; k++) {
		struct buf recs = BUF_INIT;
		size_t used, nrec = 0, i;
		redisReply *rep;
		if (journal_chunk(cs, &recs, &used, &size) < 0) {
			if (!cs->warned)   /* once, not every second */
				warn_sys("unable to read %s/state/%s (is it relayq's?); kept for later", cs->home, SJOURNAL_FILE);
			cs->warned = 1;
			buf_free(&recs);
			return 0;
		}
		cs->warned = 0;
		if (used == 0) {
			buf_free(&recs);
			break;
		}
		if (recs.len) {
			const char *a[10] = { "XADD", CSUPPRESS_KEY, "MAXLEN", "~", CSUPPRESS_STREAM_MAX, "*",
			                      "node", cs->node, "recs", NULL };
			if (buf_addc(&recs, 0) < 0) {
				buf_free(&recs);
				return 0;
			}
			a[9] = recs.p;
			for (i = 0; recs.p[i]; i++)
				nrec += recs.p[i] == '\n';
			if (!(rep = rconn_cmd(r, 10, a, err, cap))) {
				buf_free(&recs);
				return -1;
			}
			rconn_free(rep);
			cs->pushed += nrec;
			ev_begin_log("suppress_shared");
			ev_str("dir", "out");
			ev_num("records", (long long)nrec);
			ev_end();
		}
		buf_free(&recs);
		cs->off += (long long)used;
		cursor_save(cs);
	}
	if (cs->off > 0 && cs->off == size) {
		long long was = cs->off;
		cs->off = 0;   /* what the cursor says under the lock */
		if (sjournal_trim(cs->home, was, cursor_save, cs) != 1)
			cs->off = was;
	}
	return 0;
}

/* One XREAD: the others' records into *recs. The number of entries read,
 * or -1. */
static int pull_once(struct csuppress *cs, struct rconn *r, struct sjrec **recs, size_t *n, size_t *ncap,
                     size_t *bad, char *err, size_t cap)
{
	const char *a[6] = { "XREAD", "COUNT", CSUPPRESS_READ_COUNT, "STREAMS", CSUPPRESS_KEY, cs->last };
	redisReply *rep = rconn_cmd(r, 6, a, err, cap), *es;
	size_t i;
	int got = 0;
	if (!rep)
		return -1;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 || rep->element[0]->type != REDIS_REPLY_ARRAY ||
	    rep->element[0]->elements < 2 || rep->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
		rconn_free(rep);
		return 0;   /* nil: nothing new */
	}
	es = rep->element[0]->element[1];
	for (i = 0; i < es->elements; i++) {
		redisReply *e = es->element[i], *fv;
		const char *f[16];
		size_t len[16], j, m, rlen = 0;
		const char *rs = NULL;
		char node[SHARE_NODE_MAX + 1];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[0]->type != REDIS_REPLY_STRING ||
		    !id_ok(e->element[0]->str))
			continue;
		snprintf(cs->last, sizeof cs->last, "%s", e->element[0]->str);
		got++;
		fv = e->element[1];
		if (fv->type != REDIS_REPLY_ARRAY)
			continue;
		for (j = m = 0; j < fv->elements && m < 16; j++)
			if (fv->element[j]->type == REDIS_REPLY_STRING) {
				f[m] = fv->element[j]->str;
				len[m++] = fv->element[j]->len;
			}
		if (share_entry_parse(f, len, m, node, sizeof node, &rs, &rlen) < 0) {
			++*bad;
			continue;
		}
		if (!strcmp(node, cs->node))
			continue;   /* our own, already here */
		if (share_recs_parse(rs, rlen, recs, n, ncap, bad) < 0) {
			rconn_free(rep);
			snprintf(err, cap, "out of memory");
			return -1;
		}
	}
	rconn_free(rep);
	return got;
}

static int pull(struct csuppress *cs, struct rconn *r, time_t now, char *err, size_t cap)
{
	struct sjrec *recs = NULL;
	size_t n = 0, ncap = 0, bad = 0, added = 0, removed = 0;
	char before[CSUPPRESS_ID_MAX + 1];
	int k, got = 0, rc = 0;
	memcpy(before, cs->last, sizeof before);
	for (k = 0; k < CSUPPRESS_READ_MAX; k++) {
		got = pull_once(cs, r, &recs, &n, &ncap, &bad, err, cap);
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got < atoi(CSUPPRESS_READ_COUNT))
			break;
	}
	if (n && suppress_apply(cs->home, recs, n, now, &added, &removed) < 0) {
		warn_sys("unable to apply %zu suppression record(s) of the other nodes (read again later)", n);
		memcpy(cs->last, before, sizeof before);
	} else {
		if (n || bad) {
			cs->applied += n;
			ev_begin_log("suppress_shared");
			ev_str("dir", "in");
			ev_num("records", (long long)n);
			ev_num("added", (long long)added);
			ev_num("removed", (long long)removed);
			ev_num("bad", (long long)bad);
			ev_end();
		}
		if (strcmp(before, cs->last))
			cursor_save(cs);
	}
	free(recs);
	return rc;
}

int csuppress_tick(struct csuppress *cs, struct rconn *r, time_t now, char *err, size_t cap)
{
	if (!cs->loaded)
		cursor_load(cs);
	if (push(cs, r, err, cap) < 0)
		return -1;
	return pull(cs, r, now, err, cap);
}
