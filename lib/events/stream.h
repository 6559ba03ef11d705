#ifndef RELAY_EVSTREAM_H
#define RELAY_EVSTREAM_H
/* Reading the event spool (base/evspool.h): every writer's segments, in
 * order per writer, merged across writers by the records' time, from a
 * position (a consumer's checkpoint) on. Used by relay-events tail and by
 * each webhook endpoint. The position of a writer is the segment and the
 * offset of the next record not yet consumed; a checkpoint file holds
 * one line "WRITER SEQ OFFSET" per writer (doc/events.md). */
#include <stddef.h>
#include "base/buf.h"
#include "base/evspool.h"

struct evw {
	char name[EVSPOOL_WRITER_MAX + 1];
	unsigned long long seq;     /* the position: next record to consume */
	long long off;
	int fd;                     /* segment seq, or -1 */
	struct buf data;            /* segment bytes from data_off on */
	long long data_off;
	size_t scan;                /* bytes of data already looked at */
	int peeked;                 /* a record is ready: */
	long long p_off, p_end;     /*   its offset and the offset after it */
	double p_time;
};

struct evrec {
	const char *writer;
	unsigned long long seq;
	long long off;
	const char *json;           /* valid until the next evstream_next */
	size_t len;
	double time;
};

struct evstream {
	char home[4096];
	struct evw *w;
	size_t n;
	unsigned long skipped;      /* lines that were not valid records */
	unsigned long seal_timeouts; /* segments left while a writer held its
	                              * lock past SEAL_WAIT_MS (a stopped writer) */
	struct buf out;
};

int evstream_open(struct evstream *s, const char *home);
void evstream_close(struct evstream *s);
/* Load positions from a checkpoint file: 0 (a missing file: the
 * beginning), -1 read error or bad file. */
int evstream_load(struct evstream *s, const char *path);
/* Write the positions atomically (temp, fsync, rename, dir fsync). */
int evstream_save(const struct evstream *s, const char *path);
/* The next record: 1, 0 none for now, -1 error (errno). Looks for new
 * writers when none has one. */
int evstream_next(struct evstream *s, struct evrec *r);
/* Copy the positions of a (an earlier state) into s: undo what was read
 * since (a retry re-reads the same batch). */
struct evpos { char name[EVSPOOL_WRITER_MAX + 1]; unsigned long long seq; long long off; };
size_t evstream_tell(const struct evstream *s, struct evpos **pos);
void evstream_seek(struct evstream *s, const struct evpos *pos, size_t n);
/* Records from each writer's position to its end (the lag). */
long long evstream_lag_bytes(const struct evstream *s);
/* The record as the stream's JSON: {"id":"WRITER:SEQ:OFF",...the record's fields}. */
int evstream_json(const struct evrec *r, struct buf *out);
/* A record's flat JSON object as "key=value ..." (the log line's form):
 * strings made safe and quoted where needed. 0, or -1 not flat JSON. */
int evstream_kv(const char *json, size_t len, struct buf *out);
#endif
