#include "queue/qscan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/fileio.h"
#include "queue/queue.h"

static struct qscan_class *class_of(struct qscan *q, const char *name)
{
	size_t i;
	char n[CONF_NAME_MAX + 1];
	snprintf(n, sizeof n, "%s", name && *name ? name : "default");
	for (i = 0; i < q->n; i++)
		if (!strcmp(q->c[i].name, n))
			return &q->c[i];
	if (q->n == QSCAN_CLASSES_MAX - 1)
		snprintf(n, sizeof n, "other");
	for (i = 0; i < q->n; i++)
		if (!strcmp(q->c[i].name, n))
			return &q->c[i];
	memset(&q->c[q->n], 0, sizeof q->c[0]);
	snprintf(q->c[q->n].name, sizeof q->c[0].name, "%s", n);
	return &q->c[q->n++];
}

/* 1 if the info file has a retry line */
static int deferred(const char *home, const char *bucket, const char *id)
{
	struct buf p = BUF_INIT, b = BUF_INIT;
	int r = 0;
	size_t i;
	if (buf_printf(&p, "%s/queue/info/%s/%s", home, bucket, id) == 0 &&
	    read_file(p.p, &b, 64UL * 1024 * 1024) == 0)
		for (i = 0; i < b.len; i++)
			if (b.p[i] == 'R' && (i == 0 || b.p[i - 1] == '\n')) {
				r = 1;
				break;
			}
	buf_free(&p);
	buf_free(&b);
	return r;
}

static void one(struct qscan *q, const char *path, const char *home, const char *bucket,
                const char *id)
{
	struct buf d = BUF_INIT;
	struct queue_env e;
	const char *why;
	memset(&e, 0, sizeof e);
	if (queue_read_env(path, &d, &e, &why) < 0) {
		q->unreadable++;
	} else {
		struct qscan_class *c = class_of(q, e.class);
		if (bucket && e.arrival > 0 && (!q->oldest || e.arrival < q->oldest))
			q->oldest = e.arrival;   /* issue 13: the oldest message's age */
		if (!bucket)
			c->held++;
		else if (deferred(home, bucket, id))
			c->deferred++;
		else
			c->queued++;
		queue_env_free(&e);
	}
	buf_free(&d);
}

static int scan_dir(struct qscan *q, const char *home, const char *dir, const char *bucket)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	char path[4096];
	if (!dp)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(dp))) {
		if (!queue_id_valid(de->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path)
			continue;
		one(q, path, home, bucket, de->d_name);
	}
	closedir(dp);
	return 0;
}

int qscan_run(const char *home, struct qscan *q)
{
	char dir[4096];
	DIR *dp;
	struct dirent *de;
	memset(q, 0, sizeof *q);
	snprintf(dir, sizeof dir, "%s/queue/msg", home);
	dp = opendir(dir);
	if (!dp)
		return -1;
	while ((de = readdir(dp))) {
		char sub[4096];
		if (strlen(de->d_name) != 2 || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= sizeof sub)
			continue;
		if (scan_dir(q, home, sub, de->d_name) < 0) {
			closedir(dp);
			return -1;
		}
	}
	closedir(dp);
	snprintf(dir, sizeof dir, "%s/queue/hold", home);
	return scan_dir(q, home, dir, NULL);
}
