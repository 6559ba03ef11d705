#ifndef RELAY_FILEIO_H
#define RELAY_FILEIO_H
/* File and fd helpers: full reads and writes (EINTR handled), directory
 * fsync, and the atomic commit: temp file, write, fsync, close, rename,
 * directory fsync. Every call reports failure; none is silent. */
#include <stddef.h>
#include <sys/types.h>
#include "base/buf.h"

ssize_t read_full(int fd, void *p, size_t n);      /* short only at EOF */
int write_all(int fd, const void *p, size_t n);    /* 0 or -1 */
/* Read fd to EOF into b; more than max bytes: -1 with errno EFBIG. */
int read_fd(int fd, struct buf *b, size_t max);
int read_file(const char *path, struct buf *b, size_t max);
int fsync_dir(const char *dir);
int fsync_parent(const char *path);
/* Write data to path atomically and durably (see the file comment). */
int atomic_write(const char *path, const void *data, size_t len, mode_t mode);
/* Open (creating with mode, never through a symlink) the lock file path
 * and take an exclusive flock on it, waiting; the fd, or -1 (errno).
 * lock_release closes it (the flock goes with it), errno kept. */
int lock_take(const char *path, mode_t mode);
void lock_release(int fd);
/* Test-only fault injection: when RELAY_CRASH_AT names this point, the
 * process kills itself with SIGKILL there. Compiled in always; costs one
 * getenv per call. */
void crash_point(const char *name);
/* Test-only: RELAY_FAIL_FSYNC=1 makes fsync_checked fail with EIO. */
int fsync_checked(int fd);

#endif
