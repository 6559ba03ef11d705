#include "conf/settings.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"

int setting_get(const char *home, const char *key, char *out, size_t cap)
{
	char path[PATH_MAX];
	unsigned dlen;
	int fd, r, e;
	if (snprintf(path, sizeof path, "%s/etc/settings.cdb", home) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	r = cdb_seek(fd, key, (unsigned)strlen(key), &dlen);
	if (r > 0) {
		if (dlen >= cap) {
			errno = ENAMETOOLONG;
			r = -1;
		} else if (read_full(fd, out, dlen) != (ssize_t)dlen) {
			if (errno == 0)
				errno = EIO;
			r = -1;
		} else
			out[dlen] = 0;
	}
	e = errno;
	close(fd);
	errno = e;
	return r < 0 ? -1 : r > 0;
}

int setting_hostname(const char *home, char *out, size_t cap)
{
	int r = setting_get(home, "hostname", out, cap);
	if (r != 0)
		return r;
	if (gethostname(out, cap) < 0)
		return -1;
	out[cap - 1] = 0;
	return 1;
}
