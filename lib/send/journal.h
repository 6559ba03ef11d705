#ifndef RELAY_JOURNAL_H
#define RELAY_JOURNAL_H
/* The network workers' journals, queue/journal/W<slot> (doc/queue.md):
 * a worker whose scheduler is gone (killed -9) cannot send its result,
 * so it appends there one line per recipient it delivered,
 *     "<queue id> D<index> <time> <relay>\n"
 * in one write, synced. A scheduler applies the journals at start-up and
 * before it tries again a message it found locked (attempt.c): each line
 * whose message is still queued becomes that message's D line
 * (send/dline.h), then the journal is truncated. The journal is locked
 * (flock) while written and while applied. */
#include <stddef.h>

/* The journal of worker slot, opened to be handed to its workers with
 * each job (queue/journal made 0700 when missing), or -1 with errno. */
int journal_open(int slot);
/* Apply every journal. The lines taken, or -1 when one could not be
 * applied (it is kept for the next time). */
int journal_apply(void);
/* One line of a journal (len bytes, no newline): 1 parsed (id, the D
 * line "D<index> <time> <relay>" at *dline, *dlen bytes), 0 malformed. */
int journal_parse(const char *line, size_t len, char id[23], const char **dline, size_t *dlen);

#endif
