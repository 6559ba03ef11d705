#include "conf/cdbw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"

int cdbw_start(struct cdbw *w, const char *path, mode_t mode)
{
	w->fd = -1;
	w->tmp[0] = 0;
	if (snprintf(w->path, sizeof w->path, "%s", path) >= (int)sizeof w->path ||
	    snprintf(w->tmp, sizeof w->tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof w->tmp) {
		w->tmp[0] = 0;
		errno = ENAMETOOLONG;
		return -1;
	}
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (w->fd < 0) {
		w->tmp[0] = 0; /* not ours to remove */
		return -1;
	}
	return cdb_make_start(&w->cm, w->fd);
}

int cdbw_add(struct cdbw *w, const void *key, size_t klen, const void *val, size_t vlen)
{
	if (klen > UINT_MAX || vlen > UINT_MAX) {
		errno = EFBIG;
		return -1;
	}
	return cdb_make_add(&w->cm, key, (unsigned)klen, val, (unsigned)vlen) < 0 ? -1 : 0;
}

int cdbw_finish(struct cdbw *w)
{
	int fd = w->fd;
	if (cdb_make_finish(&w->cm) < 0 || fsync_checked(fd) < 0)
		return -1;
	w->fd = -1;
	return close(fd);
}

int cdbw_rename(struct cdbw *w)
{
	if (rename(w->tmp, w->path) < 0)
		return -1;
	w->tmp[0] = 0;
	return 0;
}

int cdbw_commit(struct cdbw *w)
{
	if (cdbw_finish(w) < 0 || cdbw_rename(w) < 0)
		return -1;
	return fsync_parent(w->path);
}

void cdbw_abort(struct cdbw *w)
{
	int e = errno;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp[0])
		unlink(w->tmp);
	w->tmp[0] = 0;
	errno = e;
}
