/* libFuzzer harness for the DSN records (queue/dsnrec.h, base/xtext.h):
 * relay-queue's fd-1 items through dsnrec_item, then the queue file it
 * would write read back with queue_parse and dsnrec_*_read; and the
 * xtext decoder. Built and run by scripts/fuzz-run dsnrec. The input is
 * an fd-1 envelope (items NUL-terminated), as a caller of relay-queue
 * could write it. */
#include "base/buf.h"
#include "base/xtext.h"
#include "queue/dsnrec.h"
#include "queue/queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* a value as stored: printable, no space, no control byte */
static void check_value(const char *v)
{
	if (!v)
		return;
	for (; *v; v++)
		if ((unsigned char)*v < 0x21 || (unsigned char)*v > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsnrec_seq s = DSNREC_SEQ_INIT;
	struct buf out = BUF_INIT;
	const char *p = (const char *)data, *why = NULL;
	size_t pos = 0, nt = 0;
	int ok = 1;
	char dec[DSN_ORCPT_MAX + 1];

	/* the decoder on the whole input, bounded */
	if (xtext_decode(p, size < DSN_ORCPT_MAX ? size : DSN_ORCPT_MAX, dec, sizeof dec) >= 0 &&
	    strlen(dec) > size)
		abort();
	buf_adds(&out, "RQ1\nA1\nCdefault\n");
	while (pos < size) {
		size_t used = 0, l;
		int d = dsnrec_item(&s, p + pos, size - pos, &out, &used, &why);
		if (d < 0) {
			if (!why)
				abort();
			ok = 0;
			break;
		}
		if (d > 0) {
			if (used == 0 || used > size - pos)
				abort();
			pos += used;
			continue;
		}
		if (p[pos] == 0)
			break;
		l = strnlen(p + pos, size - pos);
		if (l == size - pos || (p[pos] != 'F' && p[pos] != 'T') ||
		    memchr(p + pos, '\n', l) || memchr(p + pos, '\r', l)) {
			ok = 0;   /* relay-queue refuses these itself */
			break;
		}
		nt += p[pos] == 'T';
		buf_add(&out, p + pos, l);
		buf_addc(&out, '\n');
		pos += l + 1;
	}
	if (ok && pos < size && nt) {
		/* what relay-queue would write must read back, every DSN line valid */
		struct queue_env e;
		struct dsnrec_msg m;
		size_t k;
		buf_adds(&out, "L0\n\n");
		if (queue_parse(out.p, out.len, &e, &why) == 0) {
			dsnrec_msg_read(out.p, &e, &m);
			check_value(m.envid);
			check_value(m.ret);
			for (k = 0; k < e.nrcpt; k++) {
				const char *n, *o;
				dsnrec_rcpt_read(out.p, &e, k, &n, &o);
				check_value(n);
				check_value(o);
			}
			queue_env_free(&e);
		} else if (strstr(why, "DSN") || strstr(why, "NOTIFY") || strstr(why, "ORCPT") ||
		           strstr(why, "ENVID") || strstr(why, "RET"))
			abort();   /* relay-queue wrote a DSN line its own reader refuses */
	}
	buf_free(&out);
	return 0;
}
