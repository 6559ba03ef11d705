/* A message's own word on TLS: see msgtls.h. */
#include "send/msgtls.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "intake/msg.h"
#include "queue/queue.h"

int msgtls_env_requiretls(const char *env, size_t n)
{
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(env + i, '\n', n - i);
		size_t l = nl ? (size_t)(nl - (env + i)) : n - i;
		if (l == 0)
			break;   /* the end of the envelope */
		if (l == 1 && env[i] == 'Q')
			return 1;
		i += l + 1;
	}
	return 0;
}

int msgtls_header_no(const char *msg, size_t len)
{
	struct msg_headers h;
	struct buf v = BUF_INIT;
	char err[128];
	long k = 0;
	int no = 0;
	if (msg_headers(msg, len, &h, err, sizeof err) < 0)
		return 0;   /* unreadable: the policies stay */
	while (!no && (k = msg_find(msg, &h, "TLS-Required", (size_t)k)) >= 0) {
		v.len = 0;
		if (msg_value(msg, &h.f[k], &v) == 0 && v.p) {
			size_t a = 0, b = v.len;
			while (a < b && isspace((unsigned char)v.p[a]))
				a++;
			while (b > a && isspace((unsigned char)v.p[b - 1]))
				b--;
			no = b - a == 2 && tolower((unsigned char)v.p[a]) == 'n' &&
			     tolower((unsigned char)v.p[a + 1]) == 'o';
		}
		k++;
	}
	buf_free(&v);
	msg_headers_free(&h);
	return no;
}

int msgtls_read(int fd, unsigned long body_off, const char *msg, size_t len, struct msgtls *m)
{
	char *env;
	ssize_t r;
	memset(m, 0, sizeof *m);
	if (body_off > RCPT_MAX_ENV || !(env = malloc(body_off ? body_off : 1)))
		return -1;
	r = pread(fd, env, body_off, 0);
	if (r != (ssize_t)body_off || body_off < 4 || memcmp(env, QUEUE_MAGIC, 4) != 0) {
		free(env);
		return -1;
	}
	m->requiretls = msgtls_env_requiretls(env + 4, body_off - 4);
	free(env);
	/* RFC 8689 5: with REQUIRETLS the header field is ignored */
	m->tls_optional = !m->requiretls && msgtls_header_no(msg, len);
	return 0;
}
