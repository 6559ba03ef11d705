#include "base/diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *progname = "relay";

void diag_init(const char *argv0)
{
	const char *s;
	if (!argv0 || !*argv0)
		return;
	s = strrchr(argv0, '/');
	progname = s ? s + 1 : argv0;
}

static void vsay(const char *level, int err, const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s: %s: %s\n", progname, level, msg, strerror(err));
	else
		fprintf(stderr, "%s: %s: %s\n", progname, level, msg);
	fflush(stderr);
}

void warn_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("warning", 0, fmt, ap);
	va_end(ap);
}

void warn_sys(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vsay("warning", e, fmt, ap);
	va_end(ap);
	errno = e;
}

void die(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("fatal", 0, fmt, ap);
	va_end(ap);
	exit(code);
}

void die_sys(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vsay("fatal", e, fmt, ap);
	va_end(ap);
	exit(code);
}

void die_errno(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vsay("fatal", e, fmt, ap);
	va_end(ap);
	exit(errno_temporary(e) ? EXIT_TEMP : EXIT_PERM);
}

int errno_temporary(int e)
{
	switch (e) {
	case EINTR: case EAGAIN: case ENOMEM: case EIO: case ENOSPC:
	case EDQUOT: case EMFILE: case ENFILE: case ETIMEDOUT: case EBUSY:
	case ECONNREFUSED: case ECONNRESET: case ECONNABORTED: case EPIPE:
	case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN: case EHOSTDOWN:
	case ENOBUFS: case EROFS: case ESTALE: case ETXTBSY: case ELOOP:
	case ENOLCK: case EDEADLK: case EINPROGRESS: case EALREADY:
	case ENOENT: /* a directory not there yet, a file moved by a peer */
		return 1;
	default:
		return 0;
	}
}

size_t safe_text(char *out, size_t cap, const char *in, size_t n)
{
	size_t i, o = 0;
	if (cap == 0)
		return 0;
	for (i = 0; i < n && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '\n')
			out[o++] = '/';
		else if (c == '\r')
			continue;
		else if (c < 0x20 || c >= 0x7f)
			out[o++] = '_';
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
	return o;
}
