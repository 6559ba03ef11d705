/* Priority lanes (lanes.h): the reservation rule, the kept table from
 * etc/retry, and a message's priority from its class. */
#include "send/lanes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/diag.h"
#include "conf/conf.h"
#include "queue/queue.h"
#include "send/qindex.h"
#include "send/sendconf.h"

int lanes_may_take(const unsigned kept[LANES], const unsigned busy[LANES], unsigned idle, unsigned q)
{
	unsigned above = 0;     /* units in use by mail of priority >= p */
	int p;
	if (idle == 0)
		return 0;
	for (p = LANES - 1; p > (int)q; p--) {
		above += busy[p];
		if (kept[p] && idle - 1 + above < kept[p])
			return 0;
	}
	return 1;
}

void lanes_kept(const unsigned reserve[LANES], unsigned total, unsigned kept[LANES])
{
	unsigned sum = 0, cap = total ? total - 1 : 0;
	int p;
	for (p = LANES - 1; p >= 0; p--) {
		sum += reserve[p] > cap ? cap : reserve[p];
		kept[p] = sum > cap ? cap : sum;
	}
}

void lanes_scale(const unsigned kept[LANES], unsigned nw, unsigned total, unsigned out[LANES])
{
	int p;
	for (p = 0; p < LANES; p++) {
		unsigned long long k = nw ? ((unsigned long long)kept[p] * total + nw - 1) / nw : 0;
		out[p] = k >= total ? (total ? total - 1 : 0) : (unsigned)k;
	}
}

/* ------------------------------------------------------------ etc/retry */

static int builtin_name(const char *class)
{
	return strcmp(class, "transactional") == 0 || strcmp(class, "bulk") == 0;
}

unsigned lanes_class_prio(struct sendconf *c, const char *class)
{
	struct buf v = BUF_INIT;
	struct conf_retry r;
	char err[256];
	const char *keys[2] = {class, "default"};
	int i, g;
	for (i = 0; i < 2; i++) {
		if (i == 1 && builtin_name(class))
			break;
		g = conf_get(&c->retry, keys[i], &v);
		if (g < 0)
			break;  /* sendconf_retry says so: the built-in one */
		if (g == 1 && conf_parse_retry(keys[i], v.p, &r, err, sizeof err) == 0) {
			buf_free(&v);
			return r.priority;
		}
	}
	buf_free(&v);
	conf_retry_builtin(class, &r);
	return r.priority;
}

static unsigned resolve(const struct conf_retry *r, int nw)
{
	if (!r->reserve_pct)
		return r->reserve;
	return (unsigned)(((unsigned long)r->reserve * (unsigned)nw + 99) / 100);
}

void lanes_refresh(struct lanes *l, struct sendconf *c, int nw, time_t now)
{
	static const char *const builtin[] = {"transactional", "bulk", "default"};
	unsigned reserve[LANES] = {0};
	int seen[3] = {0, 0, 0}, r, i;
	struct buf k = BUF_INIT, v = BUF_INIT;
	struct conf_retry rt;
	char err[256];
	if (l->at && l->nw == nw && now == l->at)
		return;
	conf_rewind(&c->retry);
	while ((r = conf_each(&c->retry, &k, &v)) == 1) {
		if (conf_parse_retry(k.p, v.p, &rt, err, sizeof err) < 0)
			continue;   /* relay-config checked it: a table of an old format */
		for (i = 0; i < 3; i++)
			if (strcmp(k.p, builtin[i]) == 0)
				seen[i] = 1;
		if (resolve(&rt, nw) > reserve[rt.priority])
			reserve[rt.priority] = resolve(&rt, nw);
	}
	buf_free(&k);
	buf_free(&v);
	if (r < 0) {
		/* never a weaker reservation on a read error: keep the last one */
		if (l->at)
			return;
		memset(seen, 0, sizeof seen);
		memset(reserve, 0, sizeof reserve);
	}
	for (i = 0; i < 3; i++)
		if (!seen[i]) {
			conf_retry_builtin(builtin[i], &rt);
			if (resolve(&rt, nw) > reserve[rt.priority])
				reserve[rt.priority] = resolve(&rt, nw);
		}
	lanes_kept(reserve, nw > 0 ? (unsigned)nw : 0, l->kept);
	l->nw = nw;
	l->at = now;
}

/* ------------------------------------------------------------ a message's class */

int lanes_classify(void *ctx, const char *id)
{
	struct sendconf *c = ctx;
	char path[PATH_MAX], head[1024], *p;
	ssize_t n;
	int fd;
	if (queue_path(path, sizeof path, "msg", id) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return LANE_DEFAULT;   /* held, gone, or read when started */
	n = read(fd, head, sizeof head - 1);
	close(fd);
	if (n < 0 || !(p = lanes_head_class(head, (size_t)n)))
		return LANE_DEFAULT;
	return (int)lanes_class_prio(c, p);
}

char *lanes_head_class(char *head, size_t n)
{
	char *p, *e, *end = head + n;
	/* "RQ1\n" "A<epoch>\n" "C<class>\n": the class is the third line */
	if (n < 4 || memcmp(head, QUEUE_MAGIC, 4) != 0)
		return NULL;
	if (!(p = memchr(head + 4, '\n', n - 4)) || end - p < 2 || p[1] != 'C')
		return NULL;
	p += 2;
	if (!(e = memchr(p, '\n', (size_t)(end - p))) || e == p || e - p > CONF_NAME_MAX ||
	    memchr(p, 0, (size_t)(e - p)))
		return NULL;
	*e = 0;
	return p;
}

void lanes_attach(struct qindex *index, struct sendconf *c)
{
	index->classify = lanes_classify;
	index->classify_ctx = c;
}
