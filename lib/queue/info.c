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

/* "5.1.1": class 2, 4 or 5, then two numbers of 1 to 3 digits */
static int enh_ok(const char *s, size_t n)
{
	size_t i = 2, d;
	int part;
	if (n < 5 || n >= sizeof ((struct queue_fail *)0)->enh || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	for (part = 0; part < 2; part++) {
		for (d = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
		if (d < 1 || d > 3)
			return 0;
		if (part == 0) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i == n;
}

/* "F<n> <epoch> <status>[ <text>]": rest points after "F<n>". The first
 * F line of a recipient is kept (a later one is a repeat). 0, or -1 when
 * out of memory. */
static int fail_line(struct queue_info *qi, size_t nrcpt, size_t n, char *rest)
{
	struct queue_fail *f;
	char *end, *st, *p;
	size_t sl;
	if (!qi->fail) {
		if (!(qi->fail = calloc(nrcpt ? nrcpt : 1, sizeof *qi->fail)))
			return -1;
		qi->nfail = nrcpt;
	}
	f = &qi->fail[n];
	if (f->text)
		return 0;
	if (*rest == ' ')
		rest++;
	errno = 0;
	f->when = strtoll(rest, &end, 10);
	if (errno || end == rest || f->when < 0)
		f->when = 0;
	st = end;
	while (*st == ' ')
		st++;
	sl = strcspn(st, " ");
	if (enh_ok(st, sl))
		memcpy(f->enh, st, sl);
	f->enh[sl < sizeof f->enh && enh_ok(st, sl) ? sl : 0] = 0;
	p = st + sl;
	if (*p == ' ')
		p++;
	if (p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
	    (p[3] == ' ' || p[3] == 0)) {
		f->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		p += p[3] ? 4 : 3;
	}
	if (!(f->text = strdup(p)))
		return -1;
	for (p = f->text; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '_';
	return 0;
}

int queue_info_parse(char *data, size_t len, size_t nrcpt, struct queue_info *qi)
{
	size_t pos = 0;
	memset(qi, 0, sizeof *qi);
	qi->state = calloc(nrcpt ? nrcpt : 1, 1);
	if (!qi->state) {
		errno = ENOMEM;
		return -1;
	}
	while (pos < len) {
		char *line = data + pos, *nl = memchr(line, '\n', len - pos), *end;
		unsigned long long n;
		long a;
		if (!nl)
			break;	/* torn last line */
		*nl = 0;
		pos = (size_t)(nl - data) + 1;
		switch (line[0]) {
		case 'D': case 'F': case 'X':
			errno = 0;
			n = strtoull(line + 1, &end, 10);
			if (errno || end == line + 1 || line[1] < '0' || line[1] > '9' || n >= nrcpt)
				break;
			if (line[0] == 'F' && qi->state[n] == RS_PENDING && fail_line(qi, nrcpt, (size_t)n, end) < 0) {
				queue_info_free(qi);
				errno = ENOMEM;
				return -1;
			}
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
			errno = 0;
			qi->next = strtoll(line + 1, &end, 10);
			if (errno || end == line + 1)
				qi->next = 0;
			if (*end == ' ') {
				errno = 0;
				a = strtol(end + 1, NULL, 10);
				qi->attempts = errno || a < 0 ? 0 : a > 1000000 ? 1000000 : (int)a;
			}
			break;
		}
	}
	return 0;
}

int queue_info_read(const char *id, size_t nrcpt, struct queue_info *qi)
{
	char path[PATH_MAX];
	struct buf b = BUF_INIT;
	int r;
	if (queue_path(path, sizeof path, "info", id) < 0) {
		memset(qi, 0, sizeof *qi);
		return -1;
	}
	if (read_file(path, &b, 64UL * 1024 * 1024) < 0) {
		int e = errno;
		buf_free(&b);
		if (e == ENOENT)
			return queue_info_parse(NULL, 0, nrcpt, qi);
		memset(qi, 0, sizeof *qi);
		errno = e;
		return -1;
	}
	r = queue_info_parse(b.p, b.len, nrcpt, qi);
	if (r == 0)
		qi->exists = 1;
	buf_free(&b);
	return r;
}

void queue_info_free(struct queue_info *qi)
{
	size_t i;
	for (i = 0; qi->fail && i < qi->nfail; i++)
		free(qi->fail[i].text);
	free(qi->fail);
	qi->fail = NULL;
	free(qi->state);
	qi->state = NULL;
	buf_free(&qi->sig);
}
