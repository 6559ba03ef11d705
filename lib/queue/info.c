/* The info records of a queued message (queue.h): read apart from
 * queue.c so that relay-queue, linked statically, does not pull in the
 * base64 decoder of the S line and what it links. */
#include "queue/queue.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/fileio.h"

int queue_info_read(const char *id, size_t nrcpt, struct queue_info *qi)
{
	char path[PATH_MAX];
	struct buf b = BUF_INIT;
	size_t pos = 0;
	memset(qi, 0, sizeof *qi);
	qi->state = calloc(nrcpt ? nrcpt : 1, 1);
	if (!qi->state)
		return -1;
	if (queue_path(path, sizeof path, "info", id) < 0)
		return -1;
	if (read_file(path, &b, 64UL * 1024 * 1024) < 0) {
		if (errno == ENOENT)
			return 0;
		return -1;
	}
	qi->exists = 1;
	while (pos < b.len) {
		char *line = b.p + pos, *nl = memchr(line, '\n', b.len - pos), *end;
		unsigned long long n;
		if (!nl)
			break;	/* torn last line */
		*nl = 0;
		pos = (size_t)(nl - b.p) + 1;
		switch (line[0]) {
		case 'D': case 'F': case 'X':
			errno = 0;
			n = strtoull(line + 1, &end, 10);
			if (errno || end == line + 1 || n >= nrcpt)
				break;
			/* X (bounced) and D (delivered) are final; F waits for X */
			if (line[0] != 'F' || qi->state[n] == RS_PENDING)
				qi->state[n] = (unsigned char)line[0];
			break;
		case 'W':
			qi->warned = 1;
			break;
		case 'S':
			qi->sig.len = 0;
			qi->have_sig = base64_decode(&qi->sig, line + 1, strlen(line + 1)) == 0;
			break;
		case 'R':
			qi->next = strtoll(line + 1, &end, 10);
			if (*end == ' ')
				qi->attempts = atoi(end + 1);
			break;
		}
	}
	buf_free(&b);
	return 0;
}

void queue_info_free(struct queue_info *qi)
{
	free(qi->state);
	qi->state = NULL;
	buf_free(&qi->sig);
}
