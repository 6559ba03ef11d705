#ifndef RELAY_EVSPOOL_H
#define RELAY_EVSPOOL_H
/* The event spool (doc/events.md): every program that decides a
 * message's fate appends event records to its own directory
 *
 *   $RELAY_HOME/state/events/WRITER/SSSSSSSSSSSSSSSS   segments, 16 digits
 *   $RELAY_HOME/state/events/consumers/NAME            a consumer's checkpoint
 *
 * WRITER is the program (relay-send, relay-smtpd, ...): each runs as its
 * own uid, so no two uids ever append to one file. Several processes of
 * one writer (relay-smtpd per connection) may append to one segment: each
 * record is one write(2) with O_APPEND, under flock(LOCK_SH).
 *
 * A record is one line:  "E1 " CRC32-of-JSON (8 hex) " " JSON "\n"
 * The newline is the commit mark: a line without it is being written (or
 * was torn by a crash) and is never returned; a line whose CRC does not
 * match is skipped. A writer that finds a torn tail when it opens a
 * segment ends it with a newline first.
 *
 * Rotation: when a segment passes the size cap its writer creates the
 * next one (O_EXCL). A writer takes LOCK_SH on the segment, looks whether
 * a next one exists (then it moves on), appends, unlocks; a reader that
 * has reached the end of a segment with a next one takes LOCK_EX once
 * (waiting for an append in progress) and reads to the end again before
 * it moves on, so no append can land behind a reader.
 *
 * Durability: appended at once (a killed process loses nothing it
 * logged); fdatasync'd when the oldest unsynced record is
 * EVSPOOL_SYNC_MS old (at the next append or evspool_tick), before a
 * rotation, and at exit. An OS crash loses at most the records of that
 * window; a crash never loses a synced record; a reader that crashes
 * before saving its checkpoint sees records again (at-least-once). */
#include <stddef.h>

#define EVREC_MAX        8192               /* one record, the line included */
#define EVSPOOL_SEG_MAX  (4L * 1024 * 1024)  /* rotate past this (RELAY_EVENTS_SEGMENT_SIZE) */
#define EVSPOOL_SYNC_MS  200                 /* the bound on an unsynced record's age */
#define EVSPOOL_KEEP     4                   /* segments kept when no consumer is registered */
#define EVSPOOL_WRITER_MAX 64

/* ---- writing (one spool per process) ---- */

/* Enable the spool for this process: state/events/WRITER under home
 * (made if missing, when state/events/ exists). 0 enabled, 1 no
 * state/events/ or not ours to write (the spool is off, silently: a
 * relay-inject run by any user), -1 error (warned). */
int evspool_open(const char *home, const char *writer);
int evspool_enabled(void);
/* Append one record whose JSON is json (no newline in it). 0 or -1
 * (warned once per failure run; the event line on stdout is still written). */
int evspool_append(const char *json, size_t len);
/* fdatasync if the oldest unsynced record is due (force: if any). */
void evspool_tick(int force);
/* Milliseconds until a sync is due, -1 when nothing is unsynced: a loop
 * that sleeps bounds its poll timeout with it. */
long evspool_due_ms(void);
void evspool_close(void);   /* sync and close; also run at exit */

/* ---- records ---- */

/* Format a record line for json into out (cap >= len + 13). Returns its
 * length, or 0 if it does not fit or json holds a newline. */
size_t evrec_format(char *out, size_t cap, const char *json, size_t len);
/* Check one line (without its newline): 0 and *json, *jlen the JSON, or
 * -1 if it is not a valid record. */
int evrec_check(const char *line, size_t n, const char **json, size_t *jlen);
unsigned long evrec_crc32(const void *p, size_t n);
/* The time field of a record's JSON ("time":SECONDS.FRACTION), 0 if none. */
double evrec_time(const char *json, size_t len);

/* ---- segments ---- */

/* "home/state/events" into out. 0 or -1 (ENAMETOOLONG). */
int evspool_dir(char *out, size_t cap, const char *home);
/* The sequence numbers of WRITER's segments, ascending, in *seqs (malloc'd;
 * the caller frees). Returns the count, -1 error. */
long evspool_segments(const char *home, const char *writer, unsigned long long **seqs);
/* A writer name is [a-z0-9-]{1,64}: 1 or 0. */
int evspool_name_ok(const char *s);
/* The lowest segment every consumer still needs from writer: the minimum
 * over state/events/consumers/NAME of its segment of writer (0 if one has
 * none yet); ULLONG_MAX when there is no consumer. -1 on a read error
 * (then nothing is removed). */
int evspool_needed(const char *home, const char *writer, unsigned long long *seq);
#endif
