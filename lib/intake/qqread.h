#ifndef RELAY_QQREAD_H
#define RELAY_QQREAD_H
/* The queue program's side of the qmail-queue protocol (submit.h has the
 * caller's): the message read from fd 0, the envelope bytes from fd 1
 * checked and turned into the queue file's envelope records, and the
 * trace of who queued it. Each returns 0 or a qmail-queue exit code
 * (QQ_*, submit.h) with *why; nothing here writes to the queue
 * (queue/commit.c does). Linked into the static relay-queue: libc only. */
#include <stddef.h>
#include <time.h>

#include "base/buf.h"

/* Read fd to EOF into m, turning bare LF into CRLF; a bare CR, a NUL or
 * more than limit bytes is QQ_REFUSED; a read error QQ_READMSG. */
int qq_read_message(int fd, struct buf *m, unsigned long long limit, const char **why);
/* The same on bytes in hand: add n bytes (cr: 0 before the first call,
 * kept between calls), then qq_msg_end once at the end. */
int qq_msg_add(struct buf *m, const char *in, size_t n, int *cr,
               unsigned long long limit, const char **why);
int qq_msg_end(int cr, const char **why);
/* The envelope e (len bytes, as read from fd 1):
 *     [C class NUL] F sender NUL (T rcpt NUL)+ NUL
 * checked (addr_check, envelope_class_valid) and appended to recs as the
 * queue file's lines "C<class>\n" ("Cdefault\n" when absent), "F<sender>\n",
 * "T<rcpt>\n"... QQ_BADENV for a bad envelope, QQ_TOOLONG for an address
 * too long, QQ_NOMEM. Records are added here, one branch each.
 * extra (may be NULL) sees every item first, from F on: it returns 1 and
 * *used when it took the item (written to recs itself: relay-queue's DSN
 * records, queue/dsnrec.h, which this wing may not include), 0 to leave
 * it to the branches here, -1 with *why to refuse the envelope (91), -2
 * out of memory. */
typedef int qq_extra_fn(void *arg, const char *p, size_t avail, struct buf *recs,
                        size_t *used, const char **why);
int qq_parse_envelope(const char *e, size_t len, struct buf *recs, qq_extra_fn *extra,
                      void *arg, const char **why);
/* Buffered netstrings on a pipe that only we read (relay-queue -S): one
 * read() for many small records, where base/netstring reads the length
 * byte by byte so as never to read past its record. */
struct qq_in {
	int fd;
	size_t pos, len;
	char b[65536];
};
/* Like netstring_read: 0; 1 at a clean end before the first byte; -1
 * with errno EPROTO (framing, EOF inside), EFBIG (longer than max: the
 * payload is skipped, the stream stays in step) or read()'s. */
int qq_netstring(struct qq_in *in, struct buf *out, size_t max);
/* "Received: (relay-queue invoked by uid UID);\r\n\t<date>\r\n" into t. */
int qq_trace(struct buf *t, unsigned long uid, time_t now);
#endif
