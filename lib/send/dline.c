/* Appends to an info file (dline.h). */
#include "send/dline.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fileio.h"

int dline_add(struct buf *b, size_t index, long long when, const char *relay)
{
	return buf_printf(b, "D%zu %lld %s\n", index, when, relay ? relay : "");
}

int dline_append(int fd, const char *data, size_t len, int sync)
{
	struct stat st, now;
	int e;
	if (fstat(fd, &st) < 0)
		return -1;
	if (write_all(fd, data, len) == 0 && (!sync || fsync_checked(fd) == 0))
		return 0;
	e = errno;
	/* no half line and no line not known to be on disk: cut back to
	 * where the file ended, when what follows is ours alone */
	if (fstat(fd, &now) == 0 && now.st_size > st.st_size && (size_t)(now.st_size - st.st_size) <= len &&
	    ftruncate(fd, st.st_size) < 0)
		warn_sys("unable to cut back an info file");
	errno = e;
	return -1;
}
