/* libFuzzer harness for queue files and info records (queue/queue.h):
 * queue_parse of an envelope, queue_info_parse of info lines. Built and
 * run by scripts/fuzz-run queue. The first byte picks which; for info
 * records it also gives the recipient count. */
#include "queue/queue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void env(char *d, size_t n)
{
	struct queue_env e;
	const char *why = NULL;
	size_t i;
	if (queue_parse(d, n, &e, &why) < 0) {
		if (!why || e.rcpt || e.nrcpt)
			abort();
		return;
	}
	if (e.nrcpt == 0 || !e.sender || !e.class || e.body_off > n || e.arrival < 0)
		abort();
	for (i = 0; i < e.nrcpt; i++)
		if (e.rcpt[i] < d || e.rcpt[i] >= d + n || strchr(e.rcpt[i], '\r'))
			abort();
	queue_env_free(&e);
}

static void info(char *d, size_t n, size_t nrcpt)
{
	struct queue_info qi;
	size_t i;
	if (queue_info_parse(d, n, nrcpt, &qi) < 0)
		return;
	for (i = 0; i < nrcpt; i++) {
		unsigned char s = qi.state[i];
		if (s != RS_PENDING && s != RS_DELIVERED && s != RS_FAILED && s != RS_BOUNCED)
			abort();
		if (qi.fail && qi.fail[i].text) {
			const char *t;
			for (t = qi.fail[i].text; *t; t++)
				if ((unsigned char)*t < 0x20 || *t == 0x7f)
					abort();
			if (strlen(qi.fail[i].enh) >= sizeof qi.fail[i].enh)
				abort();
			if (qi.fail[i].code && (qi.fail[i].code < 200 || qi.fail[i].code > 599))
				abort();
		}
	}
	if (qi.attempts < 0 || (qi.have_sig && !qi.sig.p))
		abort();
	queue_info_free(&qi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *d;
	if (size < 1)
		return 0;
	d = malloc(size);
	if (!d)
		return 0;
	memcpy(d, data + 1, size - 1);
	d[size - 1] = 0;
	if (data[0] & 0x80)
		info(d, size - 1, (size_t)(data[0] & 0x7f));
	else
		env(d, size - 1);
	free(d);
	return 0;
}
