/* The Message-ID of a queued message (events/msgid.h). */
#include "events/msgid.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/diag.h"

int events_message_id_mem(const char *p, size_t n, char *out, size_t cap)
{
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && p[e] != '\n')
			e++;
		if (e == i || (e == i + 1 && p[i] == '\r'))
			return 0;   /* the end of the header section */
		if (e - i > 11 && !strncasecmp(p + i, "message-id:", 11)) {
			char v[1024];
			size_t k = 0, j = i + 11;
			/* the value and its continuation lines */
			for (;;) {
				for (; j < e && k < sizeof v - 1; j++)
					if (p[j] != '\r')
						v[k++] = p[j] == '\t' ? ' ' : p[j];
				if (e + 1 < n && (p[e + 1] == ' ' || p[e + 1] == '\t')) {
					j = e + 1;
					for (e = j; e < n && p[e] != '\n'; e++)
						;
					continue;
				}
				break;
			}
			while (k && v[k - 1] == ' ')
				k--;
			for (j = 0; j < k && v[j] == ' '; j++)
				;
			if (j == k)
				return 0;
			safe_text(out, cap, v + j, k - j);
			return 1;
		}
		i = e + 1;
	}
	return 0;
}

int events_message_id(int fd, off_t off, char *out, size_t cap)
{
	char *b = malloc(EVMSGID_SCAN);
	ssize_t got;
	int r;
	if (!b)
		return -1;
	got = pread(fd, b, EVMSGID_SCAN, off);
	r = got < 0 ? -1 : events_message_id_mem(b, (size_t)got, out, cap);
	free(b);
	return r;
}
