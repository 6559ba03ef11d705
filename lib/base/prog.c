#include "base/prog.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RELAY_BINDIR
#define RELAY_BINDIR "/usr/local/bin"
#endif

static int copy(char *out, size_t cap, const char *s)
{
	if (strlen(s) >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(out, s);
	return 0;
}

int prog_find(const char *name, const char *envname, char *out, size_t cap)
{
	const char *e = getenv(envname);
	char self[PATH_MAX];
	ssize_t n;
	if (e && *e)
		return copy(out, cap, e);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		char *s;
		self[n] = 0;
		s = strrchr(self, '/');
		if (s && (size_t)(s - self) + 2 + strlen(name) <= sizeof self) {
			strcpy(s + 1, name);
			if (access(self, X_OK) == 0)
				return copy(out, cap, self);
		}
	}
	if (snprintf(out, cap, "%s/%s", RELAY_BINDIR, name) >= (int)cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
