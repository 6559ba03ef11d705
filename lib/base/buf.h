#ifndef RELAY_BUF_H
#define RELAY_BUF_H
/* A growable byte buffer with explicit length (NUL bytes are data). */
#include <stddef.h>

struct buf {
	char *p;
	size_t len, cap;
};

#define BUF_INIT {0, 0, 0}

/* Each returns 0, or -1 with errno ENOMEM. The buffer always stays
 * NUL-terminated after p[len] once anything was added. */
int buf_reserve(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

#endif
