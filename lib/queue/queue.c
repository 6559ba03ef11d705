#include "queue/queue.h"
#include "queue/dsnrec.h" /* dsn: the E R N O records */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

const char *relay_home(void)
{
	static const char *home;
	const char *h;
	if (home)
		return home;
	/* A setuid or setgid program must not let its caller pick the queue. */
	if (getuid() != geteuid() || getgid() != getegid())
		return home = "/var/relay";
	h = getenv("RELAY_HOME");
	return home = h && *h ? h : "/var/relay";
}

void queue_id_new(char id[QUEUE_ID_LEN + 1])
{
	struct timeval tv;
	uint32_t r;
	unsigned long long us;
	gettimeofday(&tv, NULL);
	us = (unsigned long long)tv.tv_sec * 1000000ULL + (unsigned long long)tv.tv_usec;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (uint32_t)getpid() * 2654435761u ^ (uint32_t)us;
	snprintf(id, QUEUE_ID_LEN + 1, "%013llx.%08x", us & 0xfffffffffffffULL, (unsigned)r);
}

int queue_id_valid(const char *id)
{
	size_t i;
	if (strlen(id) != QUEUE_ID_LEN || id[13] != '.')
		return 0;
	for (i = 0; i < QUEUE_ID_LEN; i++) {
		if (i == 13)
			continue;
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	}
	return 1;
}

int queue_path(char *out, size_t cap, const char *sub, const char *id)
{
	int n = snprintf(out, cap, "%s/queue/%s/%.2s/%s", relay_home(), sub, id + 14, id);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int queue_path_flat(char *out, size_t cap, const char *sub, const char *id)
{
	int n = id ? snprintf(out, cap, "%s/queue/%s/%s", relay_home(), sub, id)
		   : snprintf(out, cap, "%s/queue/%s", relay_home(), sub);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int queue_parse(char *data, size_t len, struct queue_env *e, const char **why)
{
	size_t pos = 4, cap = 0;
	int have_a = 0, have_c = 0, have_f = 0;
	memset(e, 0, sizeof *e);
	if (len < 4 || memcmp(data, QUEUE_MAGIC, 4) != 0) {
		*why = "bad magic";
		return -1;
	}
	for (;;) {
		char *nl, *line;
		size_t l;
		if (pos >= len) {
			*why = "envelope not terminated";
			goto fail;
		}
		line = data + pos;
		nl = memchr(line, '\n', len - pos);
		if (!nl) {
			*why = "envelope line not terminated";
			goto fail;
		}
		l = (size_t)(nl - line);
		*nl = 0;
		pos += l + 1;
		if (l == 0)
			break;
		if (memchr(line, 0, l) || memchr(line, '\r', l)) {
			*why = "control byte in envelope";
			goto fail;
		}
		switch (line[0]) {
		case 'A': {
			char *end;
			long long t;
			errno = 0;
			t = strtoll(line + 1, &end, 10);
			if (errno || *end || end == line + 1 || t < 0) {
				*why = "bad arrival time";
				goto fail;
			}
			e->arrival = (time_t)t;
			have_a = 1;
			break;
		}
		case 'L': {
			char *end;
			unsigned long long v;
			errno = 0;
			v = strtoull(line + 1, &end, 10);
			if (errno || *end || end == line + 1 || line[1] < '0' || line[1] > '9' || e->has_len) {
				*why = "bad message length";
				goto fail;
			}
			e->body_len = v;
			e->has_len = 1;
			break;
		}
		/* dsn: RFC 3461 records (queue/dsnrec.h), read by dsnrec_*_read */
		case 'E': case 'R': case 'N': case 'O':
		case 'Q':   /* requiretls (issue 15): RFC 8689 */
			if (!dsnrec_line_ok(line, l, why))
				goto fail;
			break;
		case 'C': e->class = line + 1; have_c = 1; break;
		case 'F': e->sender = line + 1; have_f = 1; break;
		case 'T':
			if (e->nrcpt == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				char **n = realloc(e->rcpt, ncap * sizeof *n);
				if (!n) {
					*why = "out of memory";
					goto fail;
				}
				e->rcpt = n;
				cap = ncap;
			}
			e->rcpt[e->nrcpt++] = line + 1;
			break;
		default:
			*why = "unknown envelope record";
			goto fail;
		}
	}
	if (!have_a || !have_c || !have_f || e->nrcpt == 0) {
		*why = "envelope incomplete";
		goto fail;
	}
	e->body_off = pos;
	return 0;
fail:
	free(e->rcpt);
	e->rcpt = NULL;
	e->nrcpt = 0;
	return -1;
}

int queue_check_body(int fd, const struct queue_env *e, const char **why)
{
	static char msg[160];
	struct stat st;
	if (fstat(fd, &st) < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		errno = EBADMSG;
		return -1;
	}
	if (!e->has_len)
		return 0;
	if ((unsigned long long)st.st_size != (unsigned long long)e->body_off + e->body_len) {
		unsigned long long size = (unsigned long long)st.st_size,
		                   have = size > e->body_off ? size - e->body_off : 0;
		snprintf(msg, sizeof msg, "message %s: %llu bytes, %llu committed",
		         have < e->body_len ? "truncated" : "grown", have, e->body_len);
		*why = msg;
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

void queue_env_free(struct queue_env *e)
{
	free(e->rcpt);
	e->rcpt = NULL;
	e->nrcpt = 0;
}

int queue_read_env(const char *path, struct buf *data, struct queue_env *e, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r, er;
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	r = queue_read_env_fd(fd, data, e, why);
	er = errno;
	close(fd);
	errno = er;
	return r;
}

int queue_read_env_fd(int fd, struct buf *data, struct queue_env *e, const char **why)
{
	data->len = 0;
	for (;;) {
		ssize_t r;
		if (buf_reserve(data, 8192) < 0) {
			*why = "out of memory";
			return -1;
		}
		r = pread(fd, data->p + data->len, 8192, (off_t)data->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*why = strerror(errno);
			return -1;
		}
		data->len += (size_t)r;
		data->p[data->len] = 0;
		if (r == 0 || memmem(data->p, data->len, "\n\n", 2))
			break;
		if (data->len > (size_t)RCPT_MAX_ENV) {
			*why = "envelope too large";
			return -1;
		}
	}
	return queue_parse(data->p, data->len, e, why);
}
