/* libFuzzer harness for what a node reads from the others in Redis
 * (issue 16 share, send/share_parse.h): a stream entry of
 * relay:suppress (its fields split at NUL bytes of the input), the
 * journal records inside it (bounce/sjournal.h), a verdict of
 * relay:health and an entry of relay:suppress:set (issue 16 sset; for
 * both the input's first line the field, the rest the value), and two
 * stream ids (the input's two halves).
 * Built and run by scripts/fuzz-run share (lib/send/ is not linked
 * there: the pure file is included). Whatever the input, a record taken
 * formats back to a line that parses to the same record, and a verdict
 * taken formats back to one that parses the same; an entry of the set is
 * an add record of the field's address; ids compare antisymmetrically. */
#include "../lib/send/share_parse.c"

#include <stdint.h>
#include <stdlib.h>

static void records(const char *recs, size_t len)
{
	struct sjrec *out = NULL, back;
	size_t n = 0, cap = 0, bad = 0, i;
	if (share_recs_parse(recs, len, &out, &n, &cap, &bad) < 0)
		abort();
	for (i = 0; i < n; i++) {
		struct buf b = BUF_INIT;
		if (sjournal_format(&b, &out[i]) < 0 || b.len == 0 || b.p[b.len - 1] != '\n' ||
		    sjournal_parse(b.p, b.len - 1, &back) < 0 || memcmp(&back, &out[i], sizeof back))
			abort();
		buf_free(&b);
	}
	free(out);
}

static void verdict(const char *d, size_t size)
{
	char s[1200], node[SHARE_NODE_MAX + 1], node2[SHARE_NODE_MAX + 1], *nl;
	struct health_entry e, e2;
	struct buf f = BUF_INIT, v = BUF_INIT;
	time_t when, when2;
	long iv, iv2;
	if (size >= sizeof s || memchr(d, 0, size))
		return;
	memcpy(s, d, size);
	s[size] = 0;
	if (!(nl = strchr(s, '\n')))
		return;
	*nl = 0;
	if (share_health_parse(s, nl + 1, &e, node, sizeof node, &when, &iv) < 0)
		return;
	if (share_health_format(&f, &v, &e, node, when, iv) < 0 || buf_addc(&f, 0) < 0 || buf_addc(&v, 0) < 0 ||
	    share_health_parse(f.p, v.p, &e2, node2, sizeof node2, &when2, &iv2) < 0 || strcmp(node, node2) ||
	    when != when2 || iv != iv2 || e.state != e2.state || e.since != e2.since || strcmp(e.pool, e2.pool) ||
	    strcmp(e.member, e2.member) || strcmp(e.reason, e2.reason))
		abort();
	buf_free(&f);
	buf_free(&v);
}

/* issue 16 sset */
static void set_entry(const char *d, size_t size)
{
	const char *nl = memchr(d, '\n', size);
	struct sjrec r, back;
	struct buf b = BUF_INIT;
	if (!nl || share_set_parse(d, (size_t)(nl - d), nl + 1, size - (size_t)(nl - d) - 1, &r) < 0)
		return;
	if (r.del || strlen(r.e.addr) != (size_t)(nl - d) || memcmp(r.e.addr, d, (size_t)(nl - d)) ||
	    sjournal_format(&b, &r) < 0 || sjournal_parse(b.p, b.len - 1, &back) < 0 || memcmp(&back, &r, sizeof r))
		abort();
	buf_free(&b);
}

static void ids(const char *d, size_t size)
{
	char a[64], b[64];
	size_t h = size / 2;
	if (h >= sizeof a || size - h >= sizeof b)
		return;
	memcpy(a, d, h);
	a[h] = 0;
	memcpy(b, d + h, size - h);
	b[size - h] = 0;
	if (share_id_cmp(a, a) != 0 || (share_id_cmp(a, b) > 0) != (share_id_cmp(b, a) < 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *f[16], *recs = NULL;
	size_t len[16], n = 0, rl = 0;
	char node[SHARE_NODE_MAX + 1];
	while (p <= end && n < 16) {
		const char *z = memchr(p, 0, (size_t)(end - p));
		f[n] = p;
		len[n++] = z ? (size_t)(z - p) : (size_t)(end - p);
		if (!z)
			break;
		p = z + 1;
	}
	if (share_entry_parse(f, len, n, node, sizeof node, &recs, &rl) == 0) {
		if (strlen(node) == 0 || strchr(node, ' '))
			abort();
		records(recs, rl);
	}
	records((const char *)data, size);
	verdict((const char *)data, size);
	set_entry((const char *)data, size);
	ids((const char *)data, size);
	return 0;
}
