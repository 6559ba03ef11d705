/* The queue program's side of the qmail-queue protocol; see qqread.h. */
#include "intake/qqread.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/netstring.h"
#include "intake/addr.h"
#include "intake/envelope.h"  /* envelope_class_valid */
#include "intake/msg.h"       /* msg_date */
#include "intake/submit.h"    /* QQ_* */

int qq_msg_add(struct buf *m, const char *in, size_t n, int *cr,
               unsigned long long limit, const char **why)
{
	size_t i;
	if (buf_reserve(m, n * 2) < 0) {
		*why = "out of memory";
		return QQ_NOMEM;
	}
	for (i = 0; i < n; i++) {
		char c = in[i];
		if (*cr && c != '\n') {
			*why = "message contains a bare CR";
			return QQ_REFUSED;
		}
		if (c == 0) {
			*why = "message contains a NUL byte";
			return QQ_REFUSED;
		}
		if (c == '\n' && !*cr)
			m->p[m->len++] = '\r';
		*cr = c == '\r';
		m->p[m->len++] = c;
	}
	if (m->len > limit) {
		*why = "message larger than the size limit";
		return QQ_REFUSED;
	}
	return 0;
}

int qq_msg_end(int cr, const char **why)
{
	if (cr) {
		*why = "message ends with a bare CR";
		return QQ_REFUSED;
	}
	return 0;
}

int qq_read_message(int fd, struct buf *m, unsigned long long limit, const char **why)
{
	char in[65536];
	int cr = 0, code;
	for (;;) {
		ssize_t r = read(fd, in, sizeof in);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*why = "unable to read message";
			return QQ_READMSG;
		}
		if (r == 0)
			break;
		if ((code = qq_msg_add(m, in, (size_t)r, &cr, limit, why)) != 0)
			return code;
	}
	return qq_msg_end(cr, why);
}

/* the next byte, refilling the buffer: 1, 0 at the end, -1 */
static int in_byte(struct qq_in *in, char *c)
{
	if (in->pos == in->len) {
		ssize_t r;
		do
			r = read(in->fd, in->b, sizeof in->b);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return (int)r;
		in->pos = 0;
		in->len = (size_t)r;
	}
	*c = in->b[in->pos++];
	return 1;
}

int qq_netstring(struct qq_in *in, struct buf *out, size_t max)
{
	unsigned long long n = 0;
	int digits = 0, r, big;
	char c;
	out->len = 0;
	for (;;) {
		int k;
		if ((r = in_byte(in, &c)) < 0)
			return -1;
		if (r == 0)
			return netstring_len_eof(digits);
		if ((k = netstring_len_byte(c, &n, &digits)) != 0) {
			if (k < 0)
				return -1;
			break;
		}
	}
	big = n > max;
	if (!big && buf_reserve(out, (size_t)n) < 0)
		return -1;
	while (n > 0) {
		size_t k;
		if (in->pos == in->len) {
			if ((r = in_byte(in, &c)) <= 0) {
				if (r == 0)
					errno = EPROTO;
				return -1;
			}
			in->pos--;
		}
		k = in->len - in->pos < n ? in->len - in->pos : (size_t)n;
		if (!big)
			memcpy(out->p + out->len, in->b + in->pos, k), out->len += k;
		in->pos += k;
		n -= k;
	}
	if ((r = in_byte(in, &c)) <= 0 || c != ',') {
		if (r >= 0)
			errno = EPROTO;
		return -1;
	}
	if (big) {
		out->len = 0;
		errno = EFBIG;
		return -1;
	}
	out->p[out->len] = 0;
	return 0;
}

#define BAD(code, text) do { *why = (text); return (code); } while (0)

int qq_parse_envelope(const char *e, size_t len, struct buf *recs, qq_extra_fn *extra,
                      void *arg, const char **why)
{
	size_t pos = 0, nrcpt = 0;
	int have_sender = 0;
	if (pos < len && e[pos] == 'C') {
		size_t l = strnlen(e + pos, len - pos);
		if (pos + l >= len)
			BAD(QQ_BADENV, "bad class record");
		if (!envelope_class_valid(e + pos + 1, l - 1))
			BAD(QQ_BADENV, "bad class name");
		if (buf_addc(recs, 'C') < 0 || buf_add(recs, e + pos + 1, l - 1) < 0 ||
		    buf_addc(recs, '\n') < 0)
			BAD(QQ_NOMEM, "out of memory");
		pos += l + 1;
	} else if (buf_adds(recs, "Cdefault\n") < 0)
		BAD(QQ_NOMEM, "out of memory");
	for (;;) {
		size_t l;
		char type;
		int st;
		if (pos >= len)
			BAD(QQ_BADENV, "envelope ends early");
		type = e[pos];
		if (extra) {
			size_t used = 0;
			int d = extra(arg, e + pos, len - pos, recs, &used, why);
			if (d < 0)
				return d == -2 ? QQ_NOMEM : QQ_BADENV;
			if (d > 0) {
				pos += used;
				continue;
			}
		}
		if (type == 0) {
			if (pos + 1 != len)
				BAD(QQ_BADENV, "data after the envelope");
			break;
		}
		l = strnlen(e + pos, len - pos);
		if (pos + l >= len)
			BAD(QQ_BADENV, "envelope record not terminated");
		if (type == 'F') {
			if (have_sender)
				BAD(QQ_BADENV, "sender record out of place");
			have_sender = 1;
			st = addr_check(e + pos + 1, l - 1, ADDR_ALLOW_EMPTY, why);
		} else if (type == 'T') {
			if (!have_sender)
				BAD(QQ_BADENV, "recipient before sender");
			st = addr_check(e + pos + 1, l - 1, 0, why);
			nrcpt++;
		} else
			BAD(QQ_BADENV, "unknown envelope record");
		if (st == ADDR_TOOLONG)
			return QQ_TOOLONG;
		if (st != ADDR_OK)
			return QQ_BADENV;
		if (buf_addc(recs, type) < 0 || buf_add(recs, e + pos + 1, l - 1) < 0 ||
		    buf_addc(recs, '\n') < 0)
			BAD(QQ_NOMEM, "out of memory");
		pos += l + 1;
	}
	if (nrcpt == 0)
		BAD(QQ_BADENV, "no recipients");
	return 0;
}

/* The trace of who queued the message, first, as qmail-queue adds it:
 * the real uid of the caller, which a setuid relay-queue knows and its
 * caller cannot forge (a "Received: (... invoked by uid 0)" the caller
 * wrote stays below it, for what it is). */
int qq_trace(struct buf *t, unsigned long uid, time_t now)
{
	char date[64];
	msg_date(date, sizeof date, (long long)now);
	return buf_printf(t, "Received: (relay-queue invoked by uid %lu);\r\n\t%s\r\n", uid, date);
}
