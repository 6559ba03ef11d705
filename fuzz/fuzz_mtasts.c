/* libFuzzer harness for MTA-STS parsing (net/mtasts.h): the policy file
 * (from a web server), the _mta-sts TXT record (from DNS) and the cache
 * line (from state/, written by relay). The first byte picks the parser;
 * the checks below must hold for any input. Run by scripts/fuzz-run mtasts. */
#include "net/mtasts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(const struct mtasts_policy *p)
{
	size_t i;
	if (p->mode < MTASTS_NONE || p->mode > MTASTS_ENFORCE || p->nmx > MTASTS_MX_MAX ||
	    p->max_age < 0 || p->max_age > MTASTS_MAX_AGE)
		abort();
	for (i = 0; i < p->nmx; i++)
		if (!p->mx[i][0] || strlen(p->mx[i]) >= sizeof p->mx[i])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mtasts_policy p, q;
	struct buf b = BUF_INIT;
	char err[200], id[33], *s;
	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	switch (data[0] % 3) {
	case 0:
		if (mtasts_parse(s, size - 1, &p, err, sizeof err) == 0) {
			check(&p);
			/* what is cached reads back the same */
			strcpy(p.id, "x1");
			if (mtasts_format(&p, &b) == 0) {
				b.p[b.len - 1] = 0;
				if (mtasts_unformat(b.p, &q) != 0 || q.mode != p.mode || q.nmx != p.nmx ||
				    q.max_age != p.max_age)
					abort();
			}
		}
		break;
	case 1:
		if (mtasts_txt_id(s, id, sizeof id) == 0 && (strlen(id) == 0 || strlen(id) > 32))
			abort();
		break;
	default:
		if (mtasts_unformat(s, &p) == 0) {
			check(&p);
			(void)mtasts_mx_match(&p, "mx.example.com");
		}
	}
	buf_free(&b);
	free(s);
	return 0;
}
