/* libFuzzer harness for etc/aliases: the line parser (conf_parse_alias)
 * and the expansion walk (conf_alias_expand) over the table it made, for
 * a recipient as a caller gives it. The first line of the input is the
 * recipient; every other line is a table line "KEY REST". Built by
 * scripts/fuzz-aliases. What must hold for any input: no crash, no read
 * out of bounds, canonical values parse again to themselves, every
 * emitted address fits CONF_ALIAS_ADDR_CAP, and the walk ends. */
#include "base/buf.h"
#include "conf/conf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 64

struct table {
	char key[MAX_ENTRIES][CONF_ALIAS_NAME_MAX + 1];
	struct buf val[MAX_ENTRIES];
	size_t n;
	size_t emitted;
};

static int lookup(void *ctx, const char *name, struct buf *val)
{
	struct table *t = ctx;
	size_t i;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->key[i], name) == 0) {
			val->len = 0;
			return buf_add(val, t->val[i].p, t->val[i].len) < 0 ? -1 : 1;
		}
	return 0;
}

static int emit(void *ctx, const char *a)
{
	struct table *t = ctx;
	if (strlen(a) >= CONF_ALIAS_ADDR_CAP)
		abort();
	t->emitted++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct table t;
	char *s = malloc(n + 1), *line, *next, *rcpt, err[512], ck[CONF_ALIAS_NAME_MAX + 1];
	char name[CONF_ALIAS_NAME_MAX + 1];
	struct buf again = BUF_INIT;
	size_t i;
	if (!s)
		return 0;
	memcpy(s, d, n);
	s[n] = 0;
	t.n = 0;
	t.emitted = 0;
	rcpt = s;
	next = strchr(s, '\n');
	if (next)
		*next++ = 0;
	for (line = next; line && t.n < MAX_ENTRIES; line = next) {
		char *sp;
		int r;
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (strlen(line) > 4096)
			continue;
		sp = line + strcspn(line, " \t");
		if (*sp)
			*sp++ = 0;
		r = conf_parse_alias(line, sp, ck, sizeof ck, &t.val[t.n], err, sizeof err);
		if (r != 0)
			continue;
		/* a canonical value is a value: it parses to itself */
		if (conf_parse_alias(ck, t.val[t.n].p, name, sizeof name, &again, err, sizeof err) != 0 ||
		    strcmp(name, ck) != 0 || strcmp(again.p, t.val[t.n].p) != 0)
			abort();
		strcpy(t.key[t.n++], ck);
	}
	if (conf_alias_local(rcpt, "relay.test", name, sizeof name)) {
		struct conf_alias_walk w = { lookup, emit, &t, "relay.test", "" };
		int r = conf_alias_expand(&w, name);
		if (r == 1 && t.emitted == 0)
			abort();  /* an alias names at least one address */
		if (r == -2 && !w.why[0])
			abort();
	}
	for (i = 0; i < MAX_ENTRIES; i++)
		t.val[i].len = 0;
	buf_free(&again);
	free(s);
	return 0;
}
