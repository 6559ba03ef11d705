/* libFuzzer harness for envelope addresses (intake/addr.h, envelope.h):
 * addr_check, addr_strip, addr_domain, and the argument and sender
 * parsers of relay-inject. Built and run by scripts/fuzz-run addr.
 * The first byte picks the flags; the checks below hold for any input. */
#include "base/bounds.h"
#include "intake/addr.h"
#include "intake/envelope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void no_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a, out[ADDR_PATH_MAX + 8], err[300];
	const char *why = NULL, *d;
	int flags, st, n;
	struct envelope e;
	if (size < 1)
		return 0;
	flags = data[0] & 3;
	a = malloc(size);
	if (!a)
		return 0;
	memcpy(a, data + 1, size - 1);
	a[size - 1] = 0;
	st = addr_check(a, size - 1, flags, &why);
	if (!why || (st != ADDR_OK && st != ADDR_TOOLONG && st != ADDR_BAD))
		abort();
	if (st == ADDR_OK) {
		/* what goes into an envelope line and on the wire: no CR, LF,
		 * NUL, no other control byte, within the path limit */
		if (memchr(a, 0, size - 1) || size - 1 + 2 > ADDR_PATH_MAX)
			abort();
		no_control(a);
		/* and what relay-send can put in MAIL FROM:<> and RCPT TO:<> */
		if (strpbrk(a, " <>"))
			abort();
		if (size - 1 && !(flags & ADDR_ALLOW_NODOMAIN) && !addr_domain(a))
			abort();
	}
	d = addr_domain(a);
	if (d && (d < a || d > a + strlen(a)))
		abort();
	n = addr_strip(a, strlen(a), out, sizeof out);
	if (n >= 0 && ((size_t)n >= sizeof out || strlen(out) != (size_t)n))
		abort();
	/* relay-inject's sender and recipient arguments */
	envelope_init(&e, "host.example");
	if (envelope_sender(&e, a, "user", err, sizeof err) == 0) {
		if (e.sender[0] && addr_check(e.sender, strlen(e.sender), 0, &why) != ADDR_OK)
			abort();
		no_control(e.sender);
	}
	if (envelope_rcpt_arg(&e, a, err, sizeof err) == 0) {
		size_t i;
		for (i = 0; i < e.nrcpt; i++) {
			if (addr_check(e.rcpt[i], strlen(e.rcpt[i]), 0, &why) != ADDR_OK)
				abort();
			no_control(e.rcpt[i]);
		}
	}
	envelope_free(&e);
	free(a);
	return 0;
}
