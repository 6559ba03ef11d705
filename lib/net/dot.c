/* The DATA payload encoder: see dot.h. */
#include "net/dot.h"
#include "base/buf.h"

#include <stdint.h>
#include <string.h>

void smtp_dot_init(struct smtp_dot *d)
{
	d->bol = 1;
	d->cr = 0;
	d->any = 0;
}

int smtp_dot_add(struct smtp_dot *d, struct buf *out, const char *in, size_t n)
{
	size_t i, start;
	/* worst case every byte doubles (".\n" -> "..\r\n") */
	if (n > (SIZE_MAX - 8) / 2 || buf_reserve(out, 2 * n + 8) < 0)
		return -1;
	for (i = 0; i < n; ) {
		char c = in[i];
		if (d->cr) {
			d->cr = 0;
			out->p[out->len++] = '\r';
			out->p[out->len++] = '\n';
			d->bol = 1;
			if (c == '\n') {
				i++;
				continue;
			}
			/* a bare CR became CRLF; now handle c */
		}
		if (c == '\r') {
			d->cr = 1;
			i++;
			continue;
		}
		if (c == '\n') {
			out->p[out->len++] = '\r';
			out->p[out->len++] = '\n';
			d->bol = 1;
			i++;
			continue;
		}
		if (d->bol && c == '.')
			out->p[out->len++] = '.';
		d->bol = 0;
		/* copy the run of ordinary bytes */
		start = i;
		while (i < n && in[i] != '\r' && in[i] != '\n')
			i++;
		memcpy(out->p + out->len, in + start, i - start);
		out->len += i - start;
	}
	if (n)
		d->any = 1;
	out->p[out->len] = 0;
	return 0;
}

int smtp_dot_end(struct smtp_dot *d, struct buf *out)
{
	if (buf_reserve(out, 8) < 0)
		return -1;
	if (d->cr || !d->bol) {
		out->p[out->len++] = '\r';
		out->p[out->len++] = '\n';
	}
	d->cr = 0;
	d->bol = 1;
	memcpy(out->p + out->len, ".\r\n", 3);
	out->len += 3;
	out->p[out->len] = 0;
	return 0;
}
