#ifndef RELAY_DSNREC_H
#define RELAY_DSNREC_H
/* The DSN records (RFC 3461 parameters) of an envelope: on relay-queue's
 * fd 1 and in the queue file. doc/queue.md describes them.
 *
 * fd 1 (qmail-queue's protocol, extended; every item NUL-terminated):
 *     [C class] F sender [E envid] [R ret] ([N notify] [O orcpt] T rcpt)+ NUL
 * queue file: the same records as lines, "E<envid>" and "R<FULL|HDRS>"
 * after F, "N<notify>" and "O<orcpt>" just before the T line of their
 * recipient. Values as base/xtext.h checks them (xtext kept encoded,
 * RET and NOTIFY upper case). Absent parameters write nothing, so a
 * message without them is byte for byte what it was before.
 * requiretls (issue 15): "Q" with no value (RFC 8689 REQUIRETLS), once,
 * after F and before the first T, on fd 1 and as the line "Q" in the
 * queue file; an older relay-send quarantines a file that has it (an
 * unknown record), never sends it without the requirement.
 *
 * relay-queue is linked statically with libc only: this file needs
 * nothing but base/buf and base/xtext. */
#include <stddef.h>

#include "base/buf.h"
#include "queue/queue.h"

/* Where relay-queue is in the fd-1 items: E R once each after F and
 * before the first T; N O at most once each before every T. */
struct dsnrec_seq {
	int have_f, have_t, e, r, n, o;
	int q;   /* requiretls: the Q item was seen */
};
#define DSNREC_SEQ_INIT {0, 0, 0, 0, 0, 0, 0}

/* Look at the fd-1 item at p (avail bytes to the end of the envelope).
 * An E R N O Q item is checked, its place too, and copied to out as a
 * queue file line ("N" value "\n"): returns 1 and *used (the item with
 * its NUL). Any other item (C F T, the final NUL) only moves the place:
 * returns 0 and the caller goes on as before. -1 with *why: refuse the
 * envelope (91); -2: out of memory (51). */
int dsnrec_item(struct dsnrec_seq *s, const char *p, size_t avail, struct buf *out,
                size_t *used, const char **why);

/* A queue file line line[0..n) of type E R N O Q is valid: 1, else 0 and
 * *why (queue_parse quarantines the file). */
int dsnrec_line_ok(const char *line, size_t n, const char **why);

/* Reading a queue file's DSN records, in data as queue_parse left it
 * (lines NUL-terminated) with its parsed e. Values are NULL when the
 * record is absent. */
struct dsnrec_msg {
	const char *ret;      /* "FULL" | "HDRS" */
	const char *envid;    /* xtext */
	int requiretls;       /* requiretls: a Q line (RFC 8689) */
};
void dsnrec_msg_read(const char *data, const struct queue_env *e, struct dsnrec_msg *m);
/* Recipient k's NOTIFY and ORCPT (the lines just before its T line). */
void dsnrec_rcpt_read(const char *data, const struct queue_env *e, size_t k,
                      const char **notify, const char **orcpt);
#endif
