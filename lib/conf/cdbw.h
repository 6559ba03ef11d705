#ifndef RELAY_CDBW_H
#define RELAY_CDBW_H
/* Writing a CDB that replaces another atomically and durably (tinycdb's
 * way): records go into a new temp file beside the target (PATH.tmp.PID),
 * which is finished, fsynced and closed, then renamed over PATH, then
 * the directory is fsynced. A reader sees the old file or the new one,
 * never a part. Each call returns 0, or -1 with errno; after a failure
 * call cdbw_abort (it removes the temp file).
 *
 * One file:    cdbw_start, cdbw_add..., cdbw_commit.
 * Several files all-or-nothing (relay-config): cdbw_finish each, then
 * cdbw_rename each, then fsync the directory once; cdbw_abort every one
 * not yet renamed if any step fails. */
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include <cdb.h>

struct cdbw {
	int fd;                 /* the temp file while records are added; -1 after */
	struct cdb_make cm;
	char path[PATH_MAX];    /* the target */
	char tmp[PATH_MAX];     /* the temp file; "" once renamed or removed */
};

/* Create PATH.tmp.PID with mode (less the umask) and start the CDB. The
 * caller may fchown or fchmod w->fd before adding records. */
int cdbw_start(struct cdbw *w, const char *path, mode_t mode);
int cdbw_add(struct cdbw *w, const void *key, size_t klen, const void *val, size_t vlen);
/* Write the index, fsync, close (checked): the temp file is complete. */
int cdbw_finish(struct cdbw *w);
/* Rename the finished temp file over the target. */
int cdbw_rename(struct cdbw *w);
/* cdbw_finish, cdbw_rename, and fsync of the target's directory. */
int cdbw_commit(struct cdbw *w);
/* Close the temp file if open and remove it if not renamed; keeps errno.
 * Harmless after cdbw_commit or a second time. */
void cdbw_abort(struct cdbw *w);
#endif
