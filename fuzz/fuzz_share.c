/* libFuzzer harness for what a node reads from the others in Redis
 * (issue 16 share, send/share_parse.h): a stream entry of
 * relay:suppress (its fields split at NUL bytes of the input), the
 * journal records inside it (bounce/sjournal.h), and a verdict of
 * relay:health (the input's first line the field, the rest the value).
 * Built and run by scripts/fuzz-run share (lib/send/ is not linked
 * there: the pure file is included). Whatever the input, a record taken
 * formats back to a line that parses to the same record, and a verdict
 * taken formats back to one that parses the same. */
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
	return 0;
}
