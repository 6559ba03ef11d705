/* libFuzzer harness for the queue program's side of the qmail-queue
 * protocol (intake/qqread.h), which the setuid relay-queue runs on what
 * any local user sends: relay-queue -S's requests, netstrings (message,
 * envelope) read through qq_netstring, the message through qq_msg_add,
 * the envelope through qq_parse_envelope. Built and run by
 * scripts/fuzz-run qqread. */
#include "intake/qqread.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "intake/submit.h"

static struct qq_in in;

/* recs: "C..\n" first, then "F..\n" once, then "T..\n" at least once;
 * no NUL, CR or LF inside a line */
static void check_recs(const struct buf *r)
{
	size_t i = 0, nf = 0, nt = 0, line = 0;
	while (i < r->len) {
		const char *nl = memchr(r->p + i, '\n', r->len - i);
		size_t l;
		if (!nl)
			abort();
		l = (size_t)(nl - (r->p + i));
		if (l == 0 || memchr(r->p + i, 0, l) || memchr(r->p + i, '\r', l))
			abort();
		if (line == 0 && r->p[i] != 'C')
			abort();
		if (line > 0 && r->p[i] == 'F')
			nf++;
		else if (line > 0 && r->p[i] == 'T') {
			if (nf != 1)
				abort();
			nt++;
		} else if (line > 0)
			abort();
		i += l + 1;
		line++;
	}
	if (nf != 1 || nt == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf raw = BUF_INIT, msg = BUF_INIT, env = BUF_INIT, recs = BUF_INIT;
	int fd = memfd_create("qq", 0), k;
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	in.fd = fd;
	in.pos = in.len = 0;
	for (k = 0; k < 8; k++) {
		const char *why = NULL;
		int cr = 0, code;
		if (qq_netstring(&in, &raw, 4096) != 0)
			break;
		if (raw.len > 4096)
			abort();
		msg.len = 0;
		code = qq_msg_add(&msg, raw.p, raw.len, &cr, 8192, &why);
		if (code == 0)
			code = qq_msg_end(cr, &why);
		if (code != 0 && (code != QQ_REFUSED && code != QQ_NOMEM))
			abort();
		if (code == 0 && (memchr(msg.p ? msg.p : "", 0, msg.len) || msg.len < raw.len))
			abort();
		if (qq_netstring(&in, &env, 65536) != 0)
			break;
		recs.len = 0;
		code = qq_parse_envelope(env.p, env.len, &recs, NULL, NULL, &why);
		if (code == 0)
			check_recs(&recs);
		else if (code != QQ_BADENV && code != QQ_TOOLONG && code != QQ_NOMEM)
			abort();
	}
	close(fd);
	buf_free(&raw);
	buf_free(&msg);
	buf_free(&env);
	buf_free(&recs);
	return 0;
}
