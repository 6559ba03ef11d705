/* libFuzzer harness for the event spool's record reader: the input is a
 * segment's bytes (what a crash, a full disk or a hostile local writer may
 * leave); events/stream.c must return only whole records whose CRC
 * matches, each one a flat JSON object evstream_kv turns into a log line,
 * and never read past what is there. Also the Message-ID finder over a
 * message's header (outside input) and etc/webhooks' line parser.
 * Built by scripts/fuzz-events. */
#include "base/evspool.h"
#include "conf/webhooks.h"
#include "events/msgid.h"
#include "events/stream.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char home[256], seg[512];

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct evstream s;
	struct evrec r;
	struct buf kv = BUF_INIT;
	char out[512], err[300];
	struct conf_webhook w;
	int fd, got;
	if (!home[0]) {
		char p[300];
		snprintf(home, sizeof home, "%s/fuzz-events.%ld", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
		         (long)getpid());
		snprintf(p, sizeof p, "%s/state", home);
		mkdir(home, 0700);
		mkdir(p, 0700);
		snprintf(p, sizeof p, "%s/state/events", home);
		mkdir(p, 0700);
		snprintf(p, sizeof p, "%s/state/events/w", home);
		mkdir(p, 0700);
		snprintf(seg, sizeof seg, "%s/0000000000000001", p);
	}
	fd = open(seg, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, d, n) != (ssize_t)n)
		abort();
	close(fd);
	if (evstream_open(&s, home) < 0)
		abort();
	while ((got = evstream_next(&s, &r)) == 1) {
		const char *j;
		size_t jl;
		char line[EVREC_MAX + 16];
		size_t ln = evrec_format(line, sizeof line, r.json, r.len);
		/* what came out is a record that checks */
		if (!ln || evrec_check(line, ln - 1, &j, &jl) != 0 || jl != r.len)
			abort();
		if (r.off < 0 || (size_t)r.off + r.len > n)
			abort();
		kv.len = 0;
		(void)evstream_kv(r.json, r.len, &kv);
	}
	if (got < 0)
		abort();
	evstream_close(&s);
	buf_free(&kv);
	(void)events_message_id_mem((const char *)d, n, out, sizeof out);
	if (n < 4096) {
		char *t = malloc(n + 1);
		if (!t)
			return 0;
		memcpy(t, d, n);
		t[n] = 0;
		if (conf_parse_webhook("fuzz", t, &w, err, sizeof err) == 0 &&
		    (strlen(w.url) > WEBHOOK_URL_MAX || w.batch < 1 || w.batch > 1000))
			abort();
		free(t);
	}
	return 0;
}
