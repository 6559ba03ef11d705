#ifndef RELAY_DLINE_H
#define RELAY_DLINE_H
/* Appending to a message's info file (doc/queue.md), shared by the
 * scheduler (record.c) and the network worker, which records its own
 * deliveries right after the reply to the final dot (worker.c, through
 * the descriptor the scheduler passed with the job: job.h). */
#include <stddef.h>
#include "base/buf.h"

/* One delivered recipient: "D<index> <time> <relay>\n". -1 out of memory. */
int dline_add(struct buf *b, size_t index, long long when, const char *relay);
/* Append data to the info file open at fd (O_APPEND), with sync: fsync
 * before returning. All of it or nothing: a write that fails part-way
 * (ENOSPC, EIO) or an fsync that fails is cut back to where the file
 * ended, unless another writer appended meanwhile (workers of one
 * message append at once; their lines are each one write). 0, or -1
 * with errno: the lines are not recorded. */
int dline_append(int fd, const char *data, size_t len, int sync);

#endif
