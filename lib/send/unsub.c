/* RFC 8058 headers per recipient, signed with them (send/unsub.h). */
#include "send/unsub.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "bounce/unsub.h"
#include "intake/msg.h"

#define MSG_READ_MAX (1UL << 30)

/* The message as it is queued (from body_off). 0 or -1. */
static int read_msg(const struct attempt *a, struct buf *m)
{
	struct stat st;
	size_t n;
	if (fstat(a->fd, &st) < 0 || (unsigned long long)st.st_size < a->e.body_off ||
	    (unsigned long long)st.st_size - a->e.body_off > MSG_READ_MAX)
		return -1;
	n = (size_t)st.st_size - a->e.body_off;
	if (buf_reserve(m, n + 1) < 0 || pread(a->fd, m->p, n, (off_t)a->e.body_off) != (ssize_t)n)
		return -1;
	m->len = n;
	return 0;
}

int unsub_wanted(const char *home, const struct attempt *a)
{
	struct unsub_conf c;
	struct msg_headers h;
	struct buf m = BUF_INIT;
	char err[200];
	int r = unsub_conf_read(home, &c, err, sizeof err);
	if (r <= 0)
		return r;
	if (!unsub_class_marked(&c, a->e.class) || !a->e.sender || !strchr(a->e.sender, '@'))
		return 0;
	if (read_msg(a, &m) < 0) {
		buf_free(&m);
		return -1;
	}
	/* an application's own List-Unsubscribe is left alone */
	memset(&h, 0, sizeof h);
	if (msg_headers(m.p, m.len, &h, err, sizeof err) < 0)
		r = errno == ENOMEM ? -1 : 0;   /* malformed: relay-queue took it; sent as it is */
	else
		r = msg_find(m.p, &h, "list-unsubscribe", 0) < 0;
	msg_headers_free(&h);
	buf_free(&m);
	return r;
}

static int fields(const struct unsub_conf *c, const unsigned char *key, const char *sender,
                  const char *rcpt, struct buf *out)
{
	const char *at = strrchr(sender, '@');
	if (!at || buf_printf(out, "List-Unsubscribe: <%s/u/", c->url) < 0 ||
	    unsub_token(key, at + 1, rcpt, out) < 0 || buf_addc(out, '>') < 0)
		return -1;
	if (c->mailto[0] && buf_printf(out, ",\r\n <mailto:%s?subject=unsubscribe>", c->mailto) < 0)
		return -1;
	return buf_adds(out, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
}

int unsub_prefix(struct children *kids, struct attempt *a, size_t i, char *why, size_t cap)
{
	struct unsub_conf c;
	unsigned char key[UNSUB_KEY_LEN];
	struct buf f = BUF_INIT, m = BUF_INIT, sig = BUF_INIT;
	char err[200];
	enum dkim_outcome d;
	int fd = -1, r = -1;

	if (unsub_conf_read(kids->home, &c, err, sizeof err) != 1) {
		snprintf(why, cap, "unable to read etc/unsubscribe%s%s", errno == EPROTO ? ": " : "",
		         errno == EPROTO ? err : "");
		return -1;
	}
	if (unsub_key_read(kids->home, key) < 0) {
		snprintf(why, cap, "unable to read etc/unsubscribe.key: %s", strerror(errno));
		return -1;
	}
	if (fields(&c, key, a->e.sender, a->e.rcpt[i], &f) < 0) {
		snprintf(why, cap, "unable to make the List-Unsubscribe field");
		goto out;
	}
	/* the signer reads the message from an fd: the fields and the message */
	if (read_msg(a, &m) < 0 || (fd = memfd_create("relay-unsub", MFD_CLOEXEC)) < 0 ||
	    write_all(fd, f.p, f.len) < 0 || write_all(fd, m.p, m.len) < 0) {
		snprintf(why, cap, "unable to prepare the message for signing");
		goto out;
	}
	buf_free(&m);
	d = children_dkim_sign(kids, fd, 0, &sig, why, cap);
	if (d == DKIM_TEMP || d == DKIM_PERM)
		goto out;
	a->sig.len = 0;
	if ((d == DKIM_SIGNED && buf_add(&a->sig, sig.p, sig.len) < 0) || buf_add(&a->sig, f.p, f.len) < 0) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	memset(key, 0, sizeof key);
	buf_free(&f);
	buf_free(&m);
	buf_free(&sig);
	return r;
}
