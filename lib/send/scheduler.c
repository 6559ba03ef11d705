#include "send/scheduler.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "intake/addr.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/base64.h"
#include "bounce/classify.h"
#include "conf/conf.h"
#include "conf/member.h"
#include "health/counters.h"
#include "base/diag.h"
#include "base/evlog.h"
#include "base/fileio.h"
#include "health/health.h"
#include "send/job.h"
#include "base/netstring.h"
#include "send/pool.h"
#include "queue/queue.h"
#include "base/timers.h"
#include "send/worker.h"

#define POOLS_MAX     256
#define HOUSEKEEP_S   3600.0   /* tmp/ and orphan clean-up */
#define BOUNCE_RETRY  300.0    /* relay-bounce failed: try again after */
#define POOL_DIRECT   (-1)     /* no route: direct MX delivery */

/* ------------------------------------------------------------ state */

struct attempt;

struct qmsg {
	char id[QUEUE_ID_LEN + 1];
	double next;            /* monotonic time it is due */
	int heap;               /* index in the heap, or -1 */
	int ready;              /* on the ready list */
	int forced;             /* ignore the retry hint (SIGALRM, new) */
	struct attempt *a;      /* an attempt is in progress */
	struct qmsg *hnext;     /* hash chain */
	struct qmsg *rnext;     /* ready list */
};

struct rerr {                   /* the last outcome of one recipient */
	int code;
	char enh[16];
	char *text;
	char relay[300];
};

struct attempt {
	struct qmsg *m;
	int fd;
	struct buf env;
	struct queue_env e;
	unsigned char *st;      /* RS_* from the info file, then this attempt */
	unsigned char *now;     /* 'D' or 'F' decided in this attempt */
	struct rerr *err;
	int attempts;           /* attempts before this one */
	int tasks;              /* tasks not finished */
	int dispatched;
	double t0;
	int warned;             /* a delay warning was sent before */
	int has_info;           /* an info file exists (else nothing to remove) */
	struct buf sig;         /* DKIM header fields sent before the message */
	int sig_new;            /* made in this attempt: store it if we retry */
};

struct task {
	struct attempt *a;
	int pool;               /* index, or POOL_DIRECT */
	const char *domain;     /* recipient domain (mx members) */
	size_t n;
	size_t idx[JOB_RCPT_MAX];
	unsigned long tried;
	int member;
	struct smtp_result last; /* why the last member failed */
	int have_last;
	struct task *next;
};

struct wrk {
	pid_t pid;
	int sock;
	struct task *t;         /* in flight */
	unsigned long jobid;
	char key[600];          /* destination of its last job */
};

static struct {
	const struct sched_opts *o;
	const char *home;
	/* config */
	struct conf routes, tls, auth, limits, retry;
	struct pool_state pools[POOLS_MAX];
	size_t npools;
	struct pool_state direct;
	char helo[256];
	char dns_config[CONF_PATH_MAX + 1];
	int timeout_ms;
	unsigned long delay_warn;   /* seconds; 0: no delay warnings */
	/* queue */
	struct qmsg **hash;
	size_t hsize, count;
	struct qmsg **heap;
	size_t nheap, capheap;
	struct qmsg *rhead, *rtail;
	size_t active, max_active;
	struct task *thead;      /* tasks waiting for a worker or a member */
	/* workers */
	struct wrk *w;
	int nw;
	unsigned long jobseq;
	/* events */
	int ino;
	int sigpipe[2];
	volatile sig_atomic_t got_hup, got_alrm, got_term, got_chld;
	int terminating;
	double housekeep_at;
	/* reply classification (etc/classify, relay-bounce's table) */
	struct classify_table cls;
	/* the DKIM signer co-process (relay-dkim serve), when etc/dkim has keys */
	pid_t dkim_pid;
	int dkim_in, dkim_out;
	/* counters for relay-health, written at most once a second */
	struct ctr { char kind[8]; char name[300]; struct counts c; } *ctr;
	size_t nctr;
	double ctr_at;
	/* members relay-health marked down (state/health) */
	struct health_state health;
	struct timespec health_mtime;
	ino_t health_ino;
	time_t health_at;
} S;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ hash, heap, ready */

static size_t hid(const char *id)
{
	size_t h = 2166136261u;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

static struct qmsg *hfind(const char *id)
{
	struct qmsg *m;
	if (!S.hsize)
		return NULL;
	for (m = S.hash[hid(id) % S.hsize]; m; m = m->hnext)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

static void hadd(struct qmsg *m)
{
	size_t i;
	if (S.count + 1 > S.hsize) {
		size_t ns = S.hsize ? S.hsize * 2 : 4096;
		struct qmsg **nh = calloc(ns, sizeof *nh);
		if (!nh)
			die(EXIT_TEMP, "out of memory");
		for (i = 0; i < S.hsize; i++) {
			struct qmsg *x = S.hash[i], *nx;
			for (; x; x = nx) {
				nx = x->hnext;
				x->hnext = nh[hid(x->id) % ns];
				nh[hid(x->id) % ns] = x;
			}
		}
		free(S.hash);
		S.hash = nh;
		S.hsize = ns;
	}
	i = hid(m->id) % S.hsize;
	m->hnext = S.hash[i];
	S.hash[i] = m;
	S.count++;
}

static void hdel(struct qmsg *m)
{
	struct qmsg **pp = &S.hash[hid(m->id) % S.hsize];
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == m) {
			*pp = m->hnext;
			S.count--;
			return;
		}
}

static void hswap(size_t a, size_t b)
{
	struct qmsg *t = S.heap[a];
	S.heap[a] = S.heap[b];
	S.heap[b] = t;
	S.heap[a]->heap = (int)a;
	S.heap[b]->heap = (int)b;
}

static void hup(size_t i)
{
	while (i && S.heap[(i - 1) / 2]->next > S.heap[i]->next) {
		hswap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void hdown(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		if (l < S.nheap && S.heap[l]->next < S.heap[s]->next) s = l;
		if (r < S.nheap && S.heap[r]->next < S.heap[s]->next) s = r;
		if (s == i)
			return;
		hswap(i, s);
		i = s;
	}
}

static void heap_push(struct qmsg *m)
{
	if (S.nheap == S.capheap) {
		S.capheap = S.capheap ? S.capheap * 2 : 4096;
		S.heap = realloc(S.heap, S.capheap * sizeof *S.heap);
		if (!S.heap)
			die(EXIT_TEMP, "out of memory");
	}
	S.heap[S.nheap] = m;
	m->heap = (int)S.nheap++;
	hup((size_t)m->heap);
}

static struct qmsg *heap_pop(void)
{
	struct qmsg *m = S.heap[0];
	S.nheap--;
	if (S.nheap) {
		S.heap[0] = S.heap[S.nheap];
		S.heap[0]->heap = 0;
		hdown(0);
	}
	m->heap = -1;
	return m;
}

static void ready_push(struct qmsg *m)
{
	if (m->ready)
		return;
	m->ready = 1;
	m->rnext = NULL;
	if (S.rtail)
		S.rtail->rnext = m;
	else
		S.rhead = m;
	S.rtail = m;
}

static struct qmsg *ready_pop(void)
{
	struct qmsg *m = S.rhead;
	if (!m)
		return NULL;
	S.rhead = m->rnext;
	if (!S.rhead)
		S.rtail = NULL;
	m->ready = 0;
	return m;
}

/* A message found in the queue (scan or inotify): due now. */
static void msg_add(const char *id)
{
	struct qmsg *m = hfind(id);
	if (m) {
		if (!m->a && m->heap >= 0) {   /* released from hold: due now */
			m->next = 0;
			hup((size_t)m->heap);
			m->forced = 1;
		}
		return;
	}
	m = calloc(1, sizeof *m);
	if (!m)
		die(EXIT_TEMP, "out of memory");
	memcpy(m->id, id, QUEUE_ID_LEN + 1);
	m->heap = -1;
	hadd(m);
	ready_push(m);
}

static void msg_forget(struct qmsg *m)
{
	hdel(m);
	free(m);
}

/* ------------------------------------------------------------ config */

static void conf_must(struct conf *c, const char *table)
{
	if (conf_open(c, S.home, table) < 0)
		die_sys(EXIT_TEMP, "unable to open etc/%s.cdb", table);
}

static int setting(const char *key, char *out, size_t cap)
{
	struct buf v = BUF_INIT;
	int r = conf_setting(S.home, key, &v);
	const char *d;
	if (r < 0)
		die_sys(EXIT_TEMP, "unable to read etc/settings.cdb");
	d = r ? v.p : conf_setting_default(key);
	if (!d) {
		buf_free(&v);
		return 0;
	}
	snprintf(out, cap, "%s", d);
	buf_free(&v);
	return 1;
}

static void limits_for(struct member_state *ms, const struct conf_member *cm)
{
	struct buf k = BUF_INIT, v = BUF_INIT;
	struct conf_limits l;
	char err[256];
	ms->limit = 0;
	if (cm->mx)
		return;
	buf_printf(&k, "%s:%u", cm->host, cm->port);
	ms->rate = 0;
	ms->per = 0;
	if (conf_get(&S.limits, k.p, &v) == 1 && conf_parse_limits(v.p, &l, err, sizeof err) == 0) {
		ms->limit = l.concurrency;
		ms->rate = l.rate;
		ms->per = l.rate ? (double)l.rate_per : 0;
	}
	buf_free(&k);
	buf_free(&v);
}

static void load_config(void)
{
	struct conf pools;
	struct buf k = BUF_INIT, v = BUF_INIT;
	struct pool_state old[POOLS_MAX];
	size_t nold = S.npools, i, j;
	char t[64], err[256];
	int r;
	struct conf_pool direct = {0};

	memcpy(old, S.pools, sizeof(struct pool_state) * nold);
	conf_close(&S.routes); conf_close(&S.tls); conf_close(&S.auth);
	conf_close(&S.limits); conf_close(&S.retry);
	conf_must(&S.routes, "routes");
	conf_must(&S.tls, "tls");
	conf_must(&S.auth, "auth");
	conf_must(&S.limits, "limits");
	conf_must(&S.retry, "retry");
	conf_must(&pools, "pools");
	S.npools = 0;
	conf_rewind(&pools);
	while ((r = conf_each(&pools, &k, &v)) == 1) {
		struct conf_pool cp;
		if (S.npools >= POOLS_MAX) {
			warn_("more than %d pools; the rest are ignored", POOLS_MAX);
			break;
		}
		if (conf_parse_pool(v.p, &cp, err, sizeof err) < 0) {
			warn_("etc/pools.cdb: pool %s: %s", k.p, err);
			continue;
		}
		pool_init(&S.pools[S.npools], k.p, &cp);
		/* keep the cooling state of members that are still there */
		for (j = 0; j < nold; j++) {
			size_t a, b;
			if (strcmp(old[j].name, k.p))
				continue;
			for (a = 0; a < cp.n; a++)
				for (b = 0; b < old[j].cfg.n; b++)
					if (cp.m[a].mx == old[j].cfg.m[b].mx && cp.m[a].port == old[j].cfg.m[b].port &&
					    !strcmp(cp.m[a].host, old[j].cfg.m[b].host)) {
						S.pools[S.npools].ms[a] = old[j].ms[b];
						S.pools[S.npools].ms[a].active = old[j].ms[b].active;
					}
		}
		for (i = 0; i < cp.n; i++)
			limits_for(&S.pools[S.npools].ms[i], &cp.m[i]);
		S.npools++;
	}
	if (r < 0)
		die_sys(EXIT_TEMP, "unable to read etc/pools.cdb");
	conf_close(&pools);
	direct.strategy = CONF_FAILOVER;
	direct.n = 1;
	direct.m[0].mx = 1;
	direct.m[0].weight = 1;
	if (S.direct.cfg.n == 0)
		pool_init(&S.direct, "(direct)", &direct);

	if (!setting("helo", S.helo, sizeof S.helo) && !setting("hostname", S.helo, sizeof S.helo))
		gethostname(S.helo, sizeof S.helo);
	S.dns_config[0] = 0;
	if (setting("dns_config", S.dns_config, sizeof S.dns_config) && S.dns_config[0] != '/') {
		struct buf p = BUF_INIT;
		if (conf_path(S.home, S.dns_config, &p) == 0 && p.len < sizeof S.dns_config)
			memcpy(S.dns_config, p.p, p.len + 1);
		else
			warn_("dns_config: file name too long");
		buf_free(&p);
	}
	{
		char cp[PATH_MAX], cerr[256];
		classify_table_free(&S.cls);
		snprintf(cp, sizeof cp, "%s/etc/classify", S.home);
		if (classify_load(&S.cls, cp, cerr, sizeof cerr) < 0)
			warn_("etc/classify: %s; using the built-in rules", errno ? strerror(errno) : cerr);
	}
	S.delay_warn = 0;
	if (setting("bounce_delay_warning", t, sizeof t) &&
	    conf_parse_duration(t, &S.delay_warn, err, sizeof err) < 0)
		S.delay_warn = 0;
	S.timeout_ms = 0;
	if (setting("smtp_timeout", t, sizeof t)) {
		unsigned long secs;
		if (conf_parse_duration(t, &secs, err, sizeof err) == 0)
			S.timeout_ms = (int)(secs * 1000);
	}
	buf_free(&k);
	buf_free(&v);
}

static void retry_for(const char *class, struct conf_retry *r)
{
	struct buf v = BUF_INIT;
	char err[256];
	if (conf_get(&S.retry, class, &v) == 1 && conf_parse_retry(class, v.p, r, err, sizeof err) == 0) {
		buf_free(&v);
		return;
	}
	buf_free(&v);
	if (conf_get(&S.retry, "default", &v) == 1 && conf_parse_retry("default", v.p, r, err, sizeof err) == 0) {
		buf_free(&v);
		return;
	}
	buf_free(&v);
	conf_retry_builtin(class, r);
}

static struct pool_state *pool_of(int i)
{
	return i == POOL_DIRECT ? &S.direct : &S.pools[i];
}

static int pool_index(const char *name)
{
	size_t i;
	for (i = 0; i < S.npools; i++)
		if (strcmp(S.pools[i].name, name) == 0)
			return (int)i;
	return -2;
}


/* ------------------------------------------------------------ relay-health */

/* Members marked down by relay-health: one stat a second, the file re-read
 * when it changed; stale data (health_member_down) counts for nothing, so
 * passive cooling is all that applies then. If every relay of a pool
 * would be down, none is: relay-send then trusts its own cooling, rather
 * than hold mail back on a probe's word alone. */
static void health_refresh(void)
{
	char path[PATH_MAX], key[CONF_HOST_MAX + 8];
	struct stat st;
	time_t now = time(NULL);
	size_t p, i;
	if (now == S.health_at)
		return;
	S.health_at = now;
	snprintf(path, sizeof path, "%s/%s", S.home, HEALTH_FILE);
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			warn_sys("unable to stat %s", path);
		health_free(&S.health);
		S.health_ino = 0;
	} else if (st.st_ino != S.health_ino || st.st_mtim.tv_sec != S.health_mtime.tv_sec ||
		   st.st_mtim.tv_nsec != S.health_mtime.tv_nsec) {
		if (health_read(S.home, &S.health) < 0) {
			warn_sys("unable to read %s; ignored", path);
			health_free(&S.health);
		}
		S.health_ino = st.st_ino;
		S.health_mtime = st.st_mtim;
	}
	for (p = 0; p < S.npools; p++) {
		size_t relays = 0, down = 0;
		for (i = 0; i < S.pools[p].cfg.n; i++) {
			const struct conf_member *cm = &S.pools[p].cfg.m[i];
			int d = 0;
			if (!cm->mx) {
				snprintf(key, sizeof key, "%s:%u", cm->host, cm->port);
				conf_lower(key);
				d = health_member_down(&S.health, S.pools[p].name, key, now);
				relays++;
				down += d > 0;
			}
			if ((d > 0) != S.pools[p].ms[i].health_down) {
				ev_begin(d > 0 ? "member_down" : "member_up");
				ev_str("pool", S.pools[p].name);
				ev_str("relay", cm->mx ? "mx" : key);
				ev_str("source", "relay-health");
				ev_end();
			}
			S.pools[p].ms[i].down = S.pools[p].ms[i].health_down = d > 0;
		}
		if (relays && down == relays)
			for (i = 0; i < S.pools[p].cfg.n; i++)
				S.pools[p].ms[i].down = 0;
	}
}

/* ------------------------------------------------------------ workers */

static void spawn_worker(int i)
{
	int sv[2];
	pid_t pid;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_sys(EXIT_TEMP, "unable to make a socketpair");
	pid = fork();
	if (pid < 0)
		die_sys(EXIT_TEMP, "unable to fork a worker");
	if (pid == 0) {
		int k;
		close(sv[0]);
		for (k = 0; k < S.nw; k++)
			if (S.w[k].sock >= 0)
				close(S.w[k].sock);
		if (S.ino >= 0)
			close(S.ino);
		close(S.sigpipe[0]);
		close(S.sigpipe[1]);
		signal(SIGHUP, SIG_IGN);
		signal(SIGALRM, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (S.o->drop) {
			if (setgroups(0, NULL) < 0 || setgid(S.o->worker_gid) < 0 || setuid(S.o->worker_uid) < 0)
				die_sys(EXIT_TEMP, "worker: unable to drop privileges");
		}
		worker_run(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	S.w[i].pid = pid;
	S.w[i].sock = sv[0];
	S.w[i].t = NULL;
	S.w[i].key[0] = 0;
}

static int any_idle(void)
{
	int i;
	for (i = 0; i < S.nw; i++)
		if (S.w[i].sock >= 0 && !S.w[i].t)
			return 1;
	return 0;
}

static int idle_worker(const char *key)
{
	int i, any = -1;
	for (i = 0; i < S.nw; i++) {
		if (S.w[i].sock < 0 || S.w[i].t)
			continue;
		if (strcmp(S.w[i].key, key) == 0)
			return i;	/* it may still hold a connection there */
		if (any < 0 || !S.w[any].key[0])
			any = i;
	}
	return any;
}

/* ------------------------------------------------------------ info file */

static int info_append(struct attempt *a, const char *data, size_t len, int sync)
{
	const char *id = a->m->id;
	char path[PATH_MAX];
	int fd, e;
	if (queue_path(path, sizeof path, "info", id) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -1;
	a->has_info = 1;
	if (write_all(fd, data, len) < 0 || (sync && fsync_checked(fd) < 0)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* Remove a message: the queue file first, then its info file (an info
 * file without a queue file is a leftover that clean-up removes; the
 * other order could resend to every recipient). No fsync: if the unlink
 * is lost in a crash, the recipients are recorded in the info file or the
 * message is delivered again (the at-least-once window). */
static void msg_remove(struct attempt *a)
{
	char path[PATH_MAX];
	if (queue_path(path, sizeof path, "msg", a->m->id) == 0 && unlink(path) < 0 && errno == ENOENT) {
		/* held meanwhile: it is done, so it goes from hold/ too */
		if (queue_path_flat(path, sizeof path, "hold", a->m->id) == 0)
			unlink(path);
	}
	if (a->has_info && queue_path(path, sizeof path, "info", a->m->id) == 0)
		unlink(path);
}

static void quarantine(const char *id, const char *why)
{
	char from[PATH_MAX], to[PATH_MAX];
	ev_begin("corrupt");
	ev_str("id", id);
	ev_str("reason", why);
	ev_str("action", "moved to queue/corrupt");
	ev_end();
	if (queue_path(from, sizeof from, "msg", id) == 0 && queue_path_flat(to, sizeof to, "corrupt", id) == 0 &&
	    rename(from, to) < 0)
		warn_sys("unable to move %s to queue/corrupt", id);
}

/* ------------------------------------------------------------ bounces */

static const char *prog_path(const char *name, const char *envname, char *buf, size_t cap)
{
	const char *e = getenv(envname);
	ssize_t n;
	char *s;
	if (e && *e)
		return e;
	n = readlink("/proc/self/exe", buf, cap - 32);
	if (n <= 0)
		return name;
	buf[n] = 0;
	if (!(s = strrchr(buf, '/')))
		return name;
	strcpy(s + 1, name);
	return buf;
}

/* Hand the failed recipients (or, with delayed, the pending ones, for a
 * delay warning) to relay-bounce; 0 when it queued a DSN (or deliberately
 * dropped one). */
static int run_bounce(struct attempt *a, int delayed)
{
	char path[PATH_MAX], prog[PATH_MAX];
	struct buf rec = BUF_INIT;
	size_t i;
	int p[2], st, fd;
	pid_t pid;
	const char *bp = prog_path("relay-bounce", "RELAYBOUNCE", prog, sizeof prog);
	for (i = 0; i < a->e.nrcpt; i++) {
		struct rerr *r = &a->err[i];
		char mta[300], *c, enh[16];
		if (a->st[i] != (delayed ? RS_PENDING : RS_FAILED))
			continue;
		/* Remote-MTA is a host name: "host:port" loses the port, "mx:d" the prefix */
		snprintf(mta, sizeof mta, "%s", strncmp(r->relay, "mx:", 3) ? r->relay : r->relay + 3);
		if ((c = strrchr(mta, ':')) && !strchr(mta, ']'))
			*c = 0;
		if (!strcmp(mta, "dkim") || !strcmp(mta, "-"))
			mta[0] = 0;
		snprintf(enh, sizeof enh, "%s", r->enh[0] ? r->enh : delayed ? "4.0.0" : "5.0.0");
		if (delayed)
			enh[0] = '4';
		buf_printf(&rec, "%s\t%s\t%s\t%s\t", a->e.rcpt[i], delayed ? "delayed" : "failed", enh, mta);
		if (r->code)
			buf_printf(&rec, "%d ", r->code);
		buf_printf(&rec, "%s\t%lld\n", r->text ? r->text : "", (long long)time(NULL));
	}
	if (queue_path(path, sizeof path, "msg", a->m->id) < 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		buf_free(&rec);
		return -1;
	}
	if (pipe(p) < 0) {
		close(fd);
		buf_free(&rec);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(fd, 0);
		dup2(p[0], 3);
		if (p[0] != 3)
			close(p[0]);
		close(p[1]);
		execl(bp, bp, "dsn", (char *)NULL);
		_exit(111);
	}
	close(fd);
	close(p[0]);
	if (pid > 0)
		(void)!write_all(p[1], rec.p ? rec.p : "", rec.len);
	close(p[1]);
	buf_free(&rec);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}


/* ------------------------------------------------------------ counters */

static void count(const char *kind, const char *name, int type)
{
	size_t i;
	char n[300];
	snprintf(n, sizeof n, "%s", name);
	conf_lower(n);
	if (!counters_name_ok(kind, n))
		return;
	for (i = 0; i < S.nctr; i++)
		if (!strcmp(S.ctr[i].kind, kind) && !strcmp(S.ctr[i].name, n))
			break;
	if (i == S.nctr) {
		struct ctr *nc = realloc(S.ctr, (S.nctr + 1) * sizeof *nc);
		if (!nc)
			return;
		S.ctr = nc;
		memset(&S.ctr[i], 0, sizeof S.ctr[i]);
		snprintf(S.ctr[i].kind, sizeof S.ctr[i].kind, "%s", kind);
		snprintf(S.ctr[i].name, sizeof S.ctr[i].name, "%s", n);
		S.nctr++;
	}
	if (type == COUNTER_DELIVERED) S.ctr[i].c.delivered++;
	else if (type == COUNTER_DEFERRED) S.ctr[i].c.deferred++;
	else S.ctr[i].c.bounced++;
}

static void count_outcome(const char *relay, const char *sender, int type)
{
	const char *d = sender ? addr_domain(sender) : NULL;
	count("relay", relay, type);
	if (d && *d)
		count("domain", d, type);
}

/* Write what was counted; called at most once a second. */
static void counters_flush(void)
{
	size_t i;
	time_t now = time(NULL);
	for (i = 0; i < S.nctr; i++)
		if (counters_add_at(S.home, S.ctr[i].kind, S.ctr[i].name, &S.ctr[i].c, now) < 0)
			warn_sys("unable to update state/counters/%s/%s", S.ctr[i].kind, S.ctr[i].name);
	free(S.ctr);
	S.ctr = NULL;
	S.nctr = 0;
}

/* ------------------------------------------------------------ DKIM signer */

static int dkim_configured(void)
{
	struct conf c;
	struct buf k = BUF_INIT, v = BUF_INIT;
	int r;
	if (conf_open(&c, S.home, "dkim") < 0)
		die_sys(EXIT_TEMP, "unable to open etc/dkim.cdb");
	conf_rewind(&c);
	r = conf_each(&c, &k, &v);
	conf_close(&c);
	buf_free(&k);
	buf_free(&v);
	return r == 1;
}

/* relay-dkim serve, under its own uid: the only process that reads keys */
static void dkim_start(void)
{
	char prog[PATH_MAX];
	const char *p = prog_path("relay-dkim", "RELAYDKIM", prog, sizeof prog);
	int in[2], out[2];
	if (S.dkim_pid > 0 || !dkim_configured())
		return;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die_sys(EXIT_TEMP, "unable to make a pipe");
	S.dkim_pid = fork();
	if (S.dkim_pid < 0)
		die_sys(EXIT_TEMP, "unable to fork relay-dkim");
	if (S.dkim_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (S.o->drop && S.o->dkim_uid &&
		    (setgroups(0, NULL) < 0 || setgid(S.o->dkim_gid) < 0 || setuid(S.o->dkim_uid) < 0))
			die_sys(EXIT_TEMP, "relay-dkim: unable to drop privileges");
		execl(p, p, "serve", "-d", S.home, (char *)NULL);
		die_sys(EXIT_TEMP, "unable to run %s", p);
	}
	close(in[0]);
	close(out[1]);
	S.dkim_in = in[1];
	S.dkim_out = out[0];
	ev_begin("dkim");
	ev_str("signer", p);
	ev_num("pid", S.dkim_pid);
	ev_end();
}

static void dkim_stop(void)
{
	if (S.dkim_pid <= 0)
		return;
	close(S.dkim_in);
	close(S.dkim_out);
	waitpid(S.dkim_pid, NULL, 0);
	S.dkim_pid = 0;
}

/* Sign a's message once: 0 signed or no key (a->sig), 1 temporary, 2
 * permanent; why gets the reason. */
static int dkim_sign(struct attempt *a, char *why, size_t cap)
{
	struct buf m = BUF_INIT, r = BUF_INIT;
	struct stat st;
	int rc;
	if (S.dkim_pid <= 0)
		return 0;
	if (fstat(a->fd, &st) < 0 || buf_reserve(&m, (size_t)st.st_size) < 0 ||
	    pread(a->fd, m.p, (size_t)st.st_size - a->e.body_off, (off_t)a->e.body_off) !=
		    (ssize_t)((size_t)st.st_size - a->e.body_off)) {
		snprintf(why, cap, "unable to read the message for signing");
		buf_free(&m);
		return 1;
	}
	m.len = (size_t)st.st_size - a->e.body_off;
	if (netstring_write(S.dkim_in, m.p, m.len) < 0 || netstring_read(S.dkim_out, &r, 1 << 20) != 0 ||
	    r.len == 0) {
		snprintf(why, cap, "the DKIM signer stopped answering");
		warn_("relay-dkim serve stopped answering; restarting it");
		dkim_stop();
		if (!S.o->drop)
			dkim_start();
		buf_free(&m);
		buf_free(&r);
		return 1;
	}
	buf_free(&m);
	switch (r.p[0]) {
	case 'K':
		a->sig.len = 0;
		buf_add(&a->sig, r.p + 1, r.len - 1);
		a->sig_new = 1;
		rc = 0;
		break;
	case 'D':
		snprintf(why, cap, "DKIM: %.*s", (int)(r.len - 1), r.p + 1);
		rc = 2;
		break;
	default:
		snprintf(why, cap, "DKIM: %.*s", (int)(r.len > 1 ? r.len - 1 : 0), r.p + 1);
		rc = 1;
	}
	buf_free(&r);
	return rc;
}

/* ------------------------------------------------------------ attempts */

static void attempt_free(struct attempt *a)
{
	size_t i;
	if (a->fd >= 0)
		close(a->fd);
	for (i = 0; a->err && i < a->e.nrcpt; i++)
		free(a->err[i].text);
	free(a->err);
	free(a->st);
	free(a->now);
	queue_env_free(&a->e);
	buf_free(&a->env);
	buf_free(&a->sig);
	free(a);
}

static void set_err(struct attempt *a, size_t i, const struct smtp_result *r, const char *relay)
{
	struct rerr *e = &a->err[i];
	e->code = r->code;
	snprintf(e->enh, sizeof e->enh, "%s", r->enh);
	free(e->text);
	e->text = strdup(r->text);
	snprintf(e->relay, sizeof e->relay, "%s", relay ? relay : "");
}

static void log_outcome(const char *event, struct attempt *a, size_t i, const char *relay,
			const struct smtp_result *r, const char *tls)
{
	ev_begin(event);
	ev_str("id", a->m->id);
	ev_str("rcpt", a->e.rcpt[i]);
	ev_str("relay", relay);
	ev_num("code", r->code);
	ev_str("dsn", r->enh[0] ? r->enh : "-");
	ev_dbl("delay", (double)(time(NULL) - a->e.arrival));
	ev_num("attempt", a->attempts + 1);
	if (tls && *tls)
		ev_str("tls", tls);
	if (r->possible_dup)
		ev_str("note", "possible duplicate");
	if (strcmp(event, "delivered") != 0)
		ev_str("text", r->text);
	ev_end();
}

static void finish(struct attempt *a)
{
	struct qmsg *m = a->m;
	struct buf lines = BUF_INIT;
	struct conf_retry rt;
	size_t i, pending = 0, failed = 0, bounced_now = 0;
	time_t now = time(NULL);
	long long age = (long long)(now - a->e.arrival);

	S.active--;
	m->a = NULL;
	if (S.terminating && !a->dispatched) {
		/* stopping before any transaction started: nothing to record */
		heap_push(m);
		attempt_free(a);
		return;
	}
	retry_for(a->e.class, &rt);
	if (age < 0)
		age = 0;	/* clock stepped back: never expire from that */
	for (i = 0; i < a->e.nrcpt; i++) {
		if (a->now[i] == RS_DELIVERED) {
			a->st[i] = RS_DELIVERED;
			buf_printf(&lines, "D%zu %lld %s\n", i, (long long)now, a->err[i].relay);
		} else if (a->now[i] == RS_FAILED || (a->st[i] == RS_PENDING && (unsigned long)age >= rt.lifetime)) {
			struct rerr *e = &a->err[i];
			if (a->now[i] != RS_FAILED) {
				/* expired: the last reason goes into the DSN */
				char t[600];
				snprintf(t, sizeof t, "delivery time expired%s%s", e->text ? "; last error: " : "",
					 e->text ? e->text : "");
				free(e->text);
				e->text = strdup(t);
				snprintf(e->enh, sizeof e->enh, "5.4.7");
				ev_begin("expired");
				ev_str("id", m->id);
				ev_str("rcpt", a->e.rcpt[i]);
				ev_num("age", age);
				ev_end();
			}
			a->st[i] = RS_FAILED;
			buf_printf(&lines, "F%zu %lld %s %s\n", i, (long long)now, e->enh[0] ? e->enh : "5.0.0",
				   e->text ? e->text : "");
		}
		if (a->st[i] == RS_PENDING)
			pending++;
		else if (a->st[i] == RS_FAILED)
			failed++;
	}
	if (pending == 0 && failed == 0) {
		msg_remove(a);   /* every recipient delivered: no fsync needed */
		msg_forget(m);
		attempt_free(a);
		buf_free(&lines);
		return;
	}
	/* Outcomes are durable before anything depends on them: the DSN is
	 * queued only after the F lines, the X lines only after the DSN. */
	if (lines.len) {
		if (info_append(a, lines.p, lines.len, 1) < 0)
			warn_sys("unable to record outcomes of %s (they may repeat)", m->id);
		lines.len = 0;
	}
	if (failed) {
		if (run_bounce(a, 0) == 0) {
			/* a crash here repeats the DSN (the F lines stay): never loses one */
			crash_point("send-bounced");
			for (i = 0; i < a->e.nrcpt; i++)
				if (a->st[i] == RS_FAILED) {
					buf_printf(&lines, "X%zu\n", i);
					a->st[i] = RS_BOUNCED;
					bounced_now++;
				}
			ev_begin("bounced");
			ev_str("id", m->id);
			ev_num("recipients", (long long)bounced_now);
			ev_end();
			failed = 0;
		} else {
			ev_begin("bounce_deferred");
			ev_str("id", m->id);
			ev_str("reason", "relay-bounce failed; will retry");
			ev_end();
		}
	}
	if (pending == 0 && failed == 0) {
		msg_remove(a);
		msg_forget(m);
		attempt_free(a);
		buf_free(&lines);
		return;
	}
	if (pending && S.delay_warn && !a->warned && (unsigned long)age >= S.delay_warn) {
		if (run_bounce(a, 1) == 0) {
			buf_adds(&lines, "W\n");
			ev_begin("delay_warning");
			ev_str("id", m->id);
			ev_num("recipients", (long long)pending);
			ev_end();
		}
	}
	if (pending) {
		size_t k = (size_t)a->attempts < rt.n ? (size_t)a->attempts : rt.n - 1;
		double wait = (double)rt.schedule[k];
		m->next = mono() + wait;
		buf_printf(&lines, "R%lld %d\n", (long long)now + (long long)wait, a->attempts + 1);
		if (a->sig_new && a->sig.len) {
			buf_adds(&lines, "S");
			base64_encode(&lines, a->sig.p, a->sig.len);
			buf_adds(&lines, "\n");
		}
	} else
		m->next = mono() + BOUNCE_RETRY;
	if (lines.len && info_append(a, lines.p, lines.len, bounced_now > 0) < 0)
		warn_sys("unable to update the info file of %s", m->id);
	m->forced = 0;
	heap_push(m);
	buf_free(&lines);
	attempt_free(a);
}

static struct task *task_new(struct attempt *a, int pool, const char *domain)
{
	struct task *t = calloc(1, sizeof *t);
	if (!t)
		die(EXIT_TEMP, "out of memory");
	t->a = a;
	t->pool = pool;
	t->domain = domain;
	t->member = -1;
	a->tasks++;
	return t;
}

static void task_enqueue(struct task *t, int front)
{
	struct task **pp = &S.thead;
	if (front) {
		t->next = S.thead;
		S.thead = t;
		return;
	}
	while (*pp)
		pp = &(*pp)->next;
	t->next = NULL;
	*pp = t;
}

static void task_done(struct task *t)
{
	struct attempt *a = t->a;
	free(t);
	if (--a->tasks == 0)
		finish(a);
}

/* Every member of the pool is tried, cooling or down: defer the task. */
static void task_defer(struct task *t, const char *why)
{
	struct smtp_result r;
	size_t i;
	struct pool_state *p = pool_of(t->pool);
	if (t->have_last)
		r = t->last;
	else {
		memset(&r, 0, sizeof r);
		snprintf(r.enh, sizeof r.enh, "4.4.1");
		snprintf(r.text, sizeof r.text, "%s", why);
	}
	for (i = 0; i < t->n; i++) {
		set_err(t->a, t->idx[i], &r, p->name);
		log_outcome("deferred", t->a, t->idx[i], p->name, &r, NULL);
	}
	task_done(t);
}

/* Read the envelope and info, route every pending recipient. */
static void attempt_start(struct qmsg *m)
{
	char path[PATH_MAX];
	struct attempt *a;
	struct queue_info qi;
	const char *why;
	size_t i;
	struct task *open_tasks[64];
	size_t nopen = 0;

	if (queue_path(path, sizeof path, "msg", m->id) < 0)
		return;
	a = calloc(1, sizeof *a);
	if (!a)
		die(EXIT_TEMP, "out of memory");
	a->m = m;
	a->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (a->fd < 0) {
		if (errno != ENOENT)
			warn_sys("unable to open %s", path);
		free(a);
		if (errno == ENOENT)
			msg_forget(m);   /* delivered, deleted or held */
		else {
			m->next = mono() + 60;
			heap_push(m);
		}
		return;
	}
	if (queue_read_env_fd(a->fd, &a->env, &a->e, &why) < 0) {
		if (errno != ENOENT)
			quarantine(m->id, why);
		close(a->fd);
		buf_free(&a->env);
		free(a);
		msg_forget(m);
		return;
	}
	if (queue_info_read(m->id, a->e.nrcpt, &qi) < 0) {
		warn_sys("unable to read the info file of %s", m->id);
		close(a->fd);
		queue_env_free(&a->e);
		buf_free(&a->env);
		free(a);
		m->next = mono() + 60;
		heap_push(m);
		return;
	}
	a->st = qi.state;
	qi.state = NULL;
	a->attempts = qi.attempts;
	a->warned = qi.warned;
	a->has_info = qi.exists;
	if (qi.have_sig) {
		a->sig = qi.sig;	/* signed at the first attempt: the same bytes */
		memset(&qi.sig, 0, sizeof qi.sig);
	}
	queue_info_free(&qi);
	/* a retry hint from before a restart: wait for it unless forced */
	if (!m->forced && qi.next > (long long)time(NULL)) {
		m->next = mono() + (double)(qi.next - (long long)time(NULL));
		heap_push(m);
		close(a->fd);
		free(a->st);
		queue_env_free(&a->e);
		buf_free(&a->env);
		buf_free(&a->sig);
		free(a);
		return;
	}
	a->now = calloc(a->e.nrcpt, 1);
	a->err = calloc(a->e.nrcpt, sizeof *a->err);
	if (!a->now || !a->err)
		die(EXIT_TEMP, "out of memory");
	a->t0 = mono();
	m->a = a;
	S.active++;
	a->tasks = 1;   /* held while routing, released below */
	if (!a->sig.len && !a->sig_new) {
		char dwhy[500];
		int d = dkim_sign(a, dwhy, sizeof dwhy);
		if (d) {
			struct smtp_result e = {0};
			e.code = d == 2 ? 554 : 451;
			snprintf(e.enh, sizeof e.enh, d == 2 ? "5.7.0" : "4.7.0");
			snprintf(e.text, sizeof e.text, "%s", dwhy);
			for (i = 0; i < a->e.nrcpt; i++) {
				if (a->st[i] != RS_PENDING)
					continue;
				set_err(a, i, &e, "dkim");
				if (d == 2)
					a->now[i] = RS_FAILED;
				log_outcome(d == 2 ? "failed" : "deferred", a, i, "dkim", &e, NULL);
			}
			if (--a->tasks == 0)
				finish(a);
			return;
		}
	}

	for (i = 0; i < a->e.nrcpt; i++) {
		struct buf pool = BUF_INIT;
		const char *dom;
		char ldom[256];
		int pi, r;
		size_t k;
		struct task *t = NULL;
		if (a->st[i] != RS_PENDING)
			continue;
		dom = addr_domain(a->e.rcpt[i]);
		snprintf(ldom, sizeof ldom, "%s", dom ? dom : "");
		conf_lower(ldom);
		r = conf_route(&S.routes, a->e.sender, a->e.class, ldom, &pool);
		if (r < 0) {
			warn_sys("unable to read etc/routes.cdb");
			buf_free(&pool);
			continue;	/* stays pending: retried */
		}
		pi = r ? pool_index(pool.p) : POOL_DIRECT;
		buf_free(&pool);
		if (pi == -2) {
			struct smtp_result e = {0};
			snprintf(e.enh, sizeof e.enh, "4.3.5");
			snprintf(e.text, sizeof e.text, "route names an unknown pool");
			set_err(a, i, &e, "");
			log_outcome("deferred", a, i, "-", &e, NULL);
			continue;
		}
		/* group with the open task of the same pool (and domain, for
		 * pools with an mx member) */
		for (k = 0; k < nopen; k++) {
			struct task *o = open_tasks[k];
			struct pool_state *p = pool_of(pi);
			int has_mx = 0;
			size_t q;
			for (q = 0; q < p->cfg.n; q++)
				has_mx |= p->cfg.m[q].mx;
			if (o->pool == pi && o->n < JOB_RCPT_MAX &&
			    (!has_mx || strcasecmp(o->domain, dom ? dom : "") == 0)) {
				t = o;
				break;
			}
		}
		if (!t) {
			t = task_new(a, pi, dom ? dom : "");
			if (nopen < 64)
				open_tasks[nopen++] = t;
			task_enqueue(t, 0);
		}
		t->idx[t->n++] = i;
	}
	if (--a->tasks == 0)
		finish(a);
}

/* Give waiting tasks to idle workers. */
static void dispatch(void)
{
	struct task **pp = &S.thead;
	double now = mono();
	while (*pp) {
		struct task *t = *pp;
		struct pool_state *p = pool_of(t->pool);
		const struct conf_member *cm;
		struct job j;
		char key[600], tkey[300];
		struct conf_member_policy pol;
		char err[256];
		int busy, mi, wi;
		size_t i;

		if (S.terminating) {
			*pp = t->next;
			task_done(t);
			continue;
		}
		if (!any_idle())
			return;	/* a pick would advance the rotation for nothing */
		mi = pool_pick(p, now, t->tried, &busy);
		if (mi < 0) {
			if (busy) {
				pp = &t->next;
				continue;
			}
			*pp = t->next;
			task_defer(t, "no member of the pool is available");
			continue;
		}
		cm = &p->cfg.m[mi];
		if (cm->mx)
			snprintf(key, sizeof key, "mx:%s", t->domain);
		else
			snprintf(key, sizeof key, "%s:%u", cm->host, cm->port);
		/* TLS and AUTH policy: by host:port for relays, by domain for MX */
		if (cm->mx)
			snprintf(tkey, sizeof tkey, "%s", t->domain);
		else
			snprintf(tkey, sizeof tkey, "%s:%u", cm->host, cm->port);
		if (conf_member_policy(S.home, &S.tls, &S.auth, tkey, cm->mx ? 25 : cm->port,
		                       cm->mx, &pol, err, sizeof err) < 0) {
			/* never a weaker default: wait until the table reads again */
			warn_("%s: %s", tkey, err);
			*pp = t->next;
			task_defer(t, "unable to read the TLS or AUTH policy");
			continue;
		}
		wi = idle_worker(key);
		*pp = t->next;
		t->member = mi;
		memset(&j, 0, sizeof j);
		j.id = ++S.jobseq;
		j.mx = cm->mx;
		j.host = cm->mx ? t->domain : cm->host;
		j.port = cm->mx ? 25 : cm->port;
		j.tls = (int)pol.tls.mode;
		j.implicit_tls = pol.tls.smtps;
		j.ca = pol.ca;
		j.user = pol.have_auth ? pol.auth.user : "";
		j.pass = pol.have_auth ? pol.auth.pass : "";
		j.auth_plaintext_ok = pol.auth_plaintext_ok;
		j.helo = S.helo;
		j.dns_config = S.dns_config;
		j.body_off = t->a->e.body_off;
		j.prefix = t->a->sig.p ? t->a->sig.p : "";
		j.prefix_len = t->a->sig.len;
		j.timeout_ms = S.timeout_ms;
		j.sender = t->a->e.sender;
		for (i = 0; i < t->n; i++)
			j.rcpt[i] = t->a->e.rcpt[t->idx[i]];
		j.n = t->n;
		if (job_send(S.w[wi].sock, &j, t->a->fd) < 0) {
			warn_sys("unable to hand a job to worker %ld", (long)S.w[wi].pid);
			conf_member_policy_wipe(&pol);
			task_enqueue(t, 1);
			close(S.w[wi].sock);
			S.w[wi].sock = -1;
			return;
		}
		conf_member_policy_wipe(&pol);
		S.w[wi].t = t;
		S.w[wi].jobid = j.id;
		snprintf(S.w[wi].key, sizeof S.w[wi].key, "%s", key);
		pool_used(p, mi, now);
		t->a->dispatched = 1;
	}
}

static void member_name(struct task *t, char *out, size_t cap)
{
	struct pool_state *p = pool_of(t->pool);
	const struct conf_member *cm = &p->cfg.m[t->member];
	if (cm->mx)
		snprintf(out, cap, "mx:%s", t->domain);
	else
		snprintf(out, cap, "%s:%u", cm->host, cm->port);
}

static void on_result(int wi, struct job_result *res)
{
	struct task *t = S.w[wi].t, *again = NULL;
	struct attempt *a = t->a;
	struct pool_state *p = pool_of(t->pool);
	char relay[600];
	size_t i;
	int all_fault = 1, some_ok = 0, fault_again = 0;
	double now = mono();

	S.w[wi].t = NULL;
	if (p->ms[t->member].active)
		p->ms[t->member].active--;
	member_name(t, relay, sizeof relay);
	if (!res->conn_failed && res->n != t->n) {
		warn_("worker %ld answered for %zu recipients, not %zu", (long)S.w[wi].pid, res->n, t->n);
		res->conn_failed = 1;
		memset(&res->conn, 0, sizeof res->conn);
		snprintf(res->conn.text, sizeof res->conn.text, "bad answer from a worker");
		res->conn.temp = 1;
	}
	if (!res->conn_failed)
		for (i = 0; i < t->n; i++)
			if (!res->r[i].member_fault)
				all_fault = 0;
	if (res->conn_failed || all_fault) {
		const struct smtp_result *why = res->conn_failed ? &res->conn : &res->r[0];
		/* the member is at fault: cool it and try the next member now */
		pool_failed(p, t->member, now);
		count_outcome(relay, a->e.sender, COUNTER_DEFERRED);
		t->tried |= 1UL << t->member;
		t->last = *why;
		t->have_last = 1;
		ev_begin("failover");
		ev_str("id", a->m->id);
		ev_str("pool", p->name);
		ev_str("relay", relay);
		ev_str("stage", why->stage);
		ev_num("code", why->code);
		ev_str("text", why->text);
		ev_dbl("cooldown", p->ms[t->member].cool_until - now);
		ev_end();
		task_enqueue(t, 1);
		return;
	}
	pool_succeeded(p, t->member);
	for (i = 0; i < t->n; i++)
		some_ok |= res->r[i].code / 100 == 2;
	for (i = 0; i < t->n; i++) {
		size_t k = t->idx[i];
		const struct smtp_result *r = &res->r[i];
		struct classify_result cr;
		int failover = r->member_fault;
		if (r->code / 100 == 2) {
			a->now[k] = RS_DELIVERED;
			set_err(a, k, r, relay);
			log_outcome("delivered", a, k, relay, r, res->tls);
			count_outcome(relay, a->e.sender, COUNTER_DELIVERED);
			continue;
		}
		/* the shared table (etc/classify, relay-bounce's defaults) says
		 * whether a refusal is the relay's problem: rate limits, TLS and
		 * AUTH demands go to the next member, never to a bounce */
		classify(&S.cls, r->code, r->enh, r->text, &cr);
		if (cr.action == ACTION_FAILOVER && r->code)
			failover = 1;
		if (failover || (r->code == 452 && !strcmp(r->stage, "rcpt") && some_ok)) {
			/* 421 in mid-session: these go to the next member. 452 "too
			 * many recipients" after some were taken: a new transaction
			 * for the rest, on any member (RFC 5321 4.5.3.1.10) */
			if (!again) {
				again = task_new(a, t->pool, t->domain);
				again->tried = failover ? t->tried | (1UL << t->member) : t->tried;
				fault_again = failover;
			}
			again->idx[again->n++] = k;
			again->last = *r;
			again->have_last = 1;
			set_err(a, k, r, relay);
			if (failover)
				count_outcome(relay, a->e.sender, COUNTER_DEFERRED);
		} else if (r->temp || r->code / 100 != 5 || cr.action == ACTION_RETRY) {
			set_err(a, k, r, relay);
			log_outcome("deferred", a, k, relay, r, res->tls);
			count_outcome(relay, a->e.sender, COUNTER_DEFERRED);
		} else {
			a->now[k] = RS_FAILED;
			set_err(a, k, r, relay);
			log_outcome("failed", a, k, relay, r, res->tls);
			count_outcome(relay, a->e.sender, COUNTER_BOUNCED);
		}
	}
	if (again) {
		if (fault_again) {
			pool_failed(p, t->member, now);
			ev_begin("failover");
			ev_str("id", a->m->id);
			ev_str("pool", p->name);
			ev_str("relay", relay);
			ev_str("stage", again->last.stage);
			ev_num("code", again->last.code);
			ev_num("recipients", (long long)again->n);
			ev_str("text", again->last.text);
			ev_dbl("cooldown", p->ms[t->member].cool_until - now);
			ev_end();
		}
		task_enqueue(again, 1);
	}
	task_done(t);
}

static void worker_lost(int wi)
{
	struct task *t = S.w[wi].t;
	close(S.w[wi].sock);
	S.w[wi].sock = -1;
	if (t) {
		/* not the member's fault: the same member may be tried again */
		S.w[wi].t = NULL;
		if (pool_of(t->pool)->ms[t->member].active)
			pool_of(t->pool)->ms[t->member].active--;
		memset(&t->last, 0, sizeof t->last);
		snprintf(t->last.enh, sizeof t->last.enh, "4.3.0");
		snprintf(t->last.text, sizeof t->last.text, "network worker died");
		t->have_last = 1;
		task_defer(t, "network worker died");
	}
}

/* ------------------------------------------------------------ queue scan, clean-up */

static void scan_queue(void)
{
	char dir[PATH_MAX];
	int i;
	for (i = 0; i < QUEUE_BUCKETS; i++) {
		DIR *d;
		struct dirent *de;
		snprintf(dir, sizeof dir, "%s/queue/msg/%02x", S.home, i);
		if (!(d = opendir(dir))) {
			warn_sys("unable to open %s", dir);
			continue;
		}
		while ((de = readdir(d)))
			if (queue_id_valid(de->d_name))
				msg_add(de->d_name);
		closedir(d);
	}
}

static void housekeeping(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	DIR *d;
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	int i;
	/* tmp/: only files older than any relay-queue can live (timers.h) */
	snprintf(dir, sizeof dir, "%s/queue/tmp", S.home);
	if ((d = opendir(dir))) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			if (lstat(path, &st) == 0 && now - st.st_mtime > TMP_CLEAN_AGE && unlink(path) == 0) {
				ev_begin("cleanup");
				ev_str("file", path);
				ev_end();
			}
		}
		closedir(d);
	}
	/* info files whose message is gone (not queued, not held) */
	for (i = 0; i < QUEUE_BUCKETS; i++) {
		snprintf(dir, sizeof dir, "%s/queue/info/%02x", S.home, i);
		if (!(d = opendir(dir)))
			continue;
		while ((de = readdir(d))) {
			char m1[PATH_MAX], m2[PATH_MAX];
			if (!queue_id_valid(de->d_name))
				continue;
			if (queue_path(m1, sizeof m1, "msg", de->d_name) < 0 ||
			    queue_path_flat(m2, sizeof m2, "hold", de->d_name) < 0)
				continue;
			if (access(m1, F_OK) < 0 && errno == ENOENT && access(m2, F_OK) < 0 && errno == ENOENT) {
				snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
				if (unlink(path) == 0) {
					ev_begin("cleanup");
					ev_str("file", path);
					ev_end();
				}
			}
		}
		closedir(d);
	}
}

static void watch_queue(void)
{
	char dir[PATH_MAX];
	int i;
	S.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (S.ino < 0)
		die_sys(EXIT_TEMP, "unable to start inotify");
	for (i = 0; i < QUEUE_BUCKETS; i++) {
		snprintf(dir, sizeof dir, "%s/queue/msg/%02x", S.home, i);
		if (inotify_add_watch(S.ino, dir, IN_MOVED_TO | IN_CREATE) < 0)
			die_sys(EXIT_TEMP, "unable to watch %s", dir);
	}
}

static void read_inotify(void)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(S.ino, buf, sizeof buf), off = 0;
		if (n <= 0)
			return;
		while (off < n) {
			struct inotify_event *ev = (struct inotify_event *)(buf + off);
			if (ev->mask & IN_Q_OVERFLOW)
				scan_queue();
			else if (ev->len && queue_id_valid(ev->name))
				msg_add(ev->name);
			off += (ssize_t)sizeof *ev + ev->len;
		}
	}
}

/* ------------------------------------------------------------ signals, loop */

static void on_signal(int sig)
{
	int e = errno;
	switch (sig) {
	case SIGHUP: S.got_hup = 1; break;
	case SIGALRM: S.got_alrm = 1; break;
	case SIGTERM: case SIGINT: S.got_term = 1; break;
	case SIGCHLD: S.got_chld = 1; break;
	}
	(void)!write(S.sigpipe[1], "", 1);
	errno = e;
}

static void flush_all(void)
{
	size_t i, p;
	double now = mono();
	for (i = 0; i < S.nheap; i++) {
		S.heap[i]->next = 0;
		S.heap[i]->forced = 1;
	}
	for (p = 0; p < S.npools; p++)
		for (i = 0; i < S.pools[p].cfg.n; i++)
			pool_succeeded(&S.pools[p], (int)i);
	(void)now;
}

static int busy(void)
{
	return S.active > 0 || S.rhead != NULL;
}

int sched_run(const struct sched_opts *o)
{
	char n[32];
	int i;
	S.o = o;
	S.home = relay_home();
	S.ino = -1;
	S.housekeep_at = 0;
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(S.sigpipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die_sys(EXIT_TEMP, "unable to make a pipe");

	load_config();
	S.nw = o->workers;
	if (S.nw <= 0) {
		S.nw = setting("concurrency", n, sizeof n) ? atoi(n) : 20;
		if (S.nw <= 0)
			S.nw = 20;
	}
	if (S.nw > 1000)
		S.nw = 1000;
	S.max_active = (size_t)S.nw * 4 + 16;
	S.w = calloc((size_t)S.nw, sizeof *S.w);
	if (!S.w)
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < S.nw; i++)
		S.w[i].sock = -1;
	/* workers and the signer first, before the scheduler drops to its uid */
	for (i = 0; i < S.nw; i++)
		spawn_worker(i);
	dkim_start();
	if (o->drop && (setgroups(0, NULL) < 0 || setgid(o->sched_gid) < 0 || setuid(o->sched_uid) < 0))
		die_sys(EXIT_TEMP, "unable to drop privileges");

	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGALRM, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
	}
	if (!o->once) {
		char pidf[PATH_MAX], pidv[32];
		watch_queue();
		snprintf(pidf, sizeof pidf, "%s/queue/relay-send.pid", S.home);
		snprintf(pidv, sizeof pidv, "%ld\n", (long)getpid());
		if (atomic_write(pidf, pidv, strlen(pidv), 0644) < 0)
			warn_sys("unable to write %s (relay-qctl flush will not reach us)", pidf);
	}
	scan_queue();
	ev_begin("start");
	ev_num("workers", S.nw);
	ev_num("queued", (long long)S.count);
	ev_num("pools", (long long)S.npools);
	ev_end();
	ev_flush();

	for (;;) {
		struct pollfd *pf;
		int np = 0, timeout = -1, r;
		double now = mono();
		struct qmsg *m;

		if (now >= S.ctr_at) {
			counters_flush();
			S.ctr_at = now + 1;
		}
		if (S.got_hup) {
			S.got_hup = 0;
			load_config();
			S.health_at = 0;
			if (S.dkim_pid <= 0 && !o->drop)
				dkim_start();
			else if (S.dkim_pid <= 0 && dkim_configured())
				warn_("etc/dkim has keys now: restart relay-send to start the signer");
			ev_begin("reload");
			ev_num("pools", (long long)S.npools);
			ev_end();
		}
		if (S.got_alrm) {
			S.got_alrm = 0;
			flush_all();
			ev_begin("flush");
			ev_end();
		}
		if (S.got_term && !S.terminating) {
			S.terminating = 1;
			ev_begin("stopping");
			ev_num("in_flight", (long long)S.active);
			ev_end();
		}
		if (S.got_chld) {
			pid_t pid;
			int st;
			S.got_chld = 0;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				if (pid == S.dkim_pid) {
					warn_("relay-dkim serve exited; signing restarts with the next message");
					close(S.dkim_in);
					close(S.dkim_out);
					S.dkim_pid = 0;
					if (!o->drop)
						dkim_start();
				}
				for (i = 0; i < S.nw; i++)
					if (S.w[i].pid == pid) {
						if (!S.terminating)
							warn_("network worker %ld exited", (long)pid);
						if (S.w[i].sock >= 0)
							worker_lost(i);
						S.w[i].pid = 0;
						if (!S.terminating && !o->drop)
							spawn_worker(i);
					}
			}
		}
		if (!o->once && !S.terminating && now >= S.housekeep_at) {
			housekeeping();
			S.housekeep_at = now + HOUSEKEEP_S;
		}
		/* due messages become ready; start attempts within bounds */
		while (S.nheap && S.heap[0]->next <= now && !S.terminating) {
			m = heap_pop();
			ready_push(m);
		}
		while (!S.terminating && S.active < S.max_active && (m = ready_pop()))
			attempt_start(m);
		health_refresh();
		dispatch();
		ev_flush();

		if (S.terminating && S.active == 0)
			break;
		if (o->once && !busy() && (S.nheap == 0 || S.heap[0]->next > now))
			break;
		{
			int alive = 0;
			for (i = 0; i < S.nw; i++)
				alive += S.w[i].sock >= 0;
			if (alive == 0 && !S.terminating) {
				warn_("no network worker is left; exiting for the supervisor to restart");
				return EXIT_TEMP;
			}
		}

		/* wait: signals, inotify, workers; wake for the next due message
		 * or the first cooling member that tasks wait for */
		pf = calloc((size_t)S.nw + 2, sizeof *pf);
		if (!pf)
			die(EXIT_TEMP, "out of memory");
		pf[np].fd = S.sigpipe[0];
		pf[np++].events = POLLIN;
		if (S.ino >= 0) {
			pf[np].fd = S.ino;
			pf[np++].events = POLLIN;
		}
		for (i = 0; i < S.nw; i++) {
			pf[np].fd = S.w[i].sock;
			pf[np++].events = POLLIN;
		}
		if (S.nheap) {
			double d = S.heap[0]->next - now;
			timeout = d <= 0 ? 0 : (int)(d * 1000) + 1;
		}
		if (S.thead) {
			/* tasks wait for a worker or a member slot: results wake us;
			 * cooling members need a timer */
			int t = 1000;
			if (timeout < 0 || t < timeout)
				timeout = t;
		}
		if (!o->once) {
			int hk = (int)((S.housekeep_at - now) * 1000) + 1;
			if (timeout < 0 || hk < timeout)
				timeout = hk < 0 ? 0 : hk;
		}
		r = poll(pf, (nfds_t)np, timeout);
		if (r > 0) {
			int k = 0;
			if (pf[k++].revents) {
				char b[64];
				while (read(S.sigpipe[0], b, sizeof b) > 0)
					;
			}
			if (S.ino >= 0 && pf[k++].revents)
				read_inotify();
			for (i = 0; i < S.nw; i++, k++) {
				struct job_result *res;
				int rr;
				if (!pf[k].revents || S.w[i].sock < 0)
					continue;
				res = malloc(sizeof *res);
				if (!res)
					die(EXIT_TEMP, "out of memory");
				rr = job_result_recv(S.w[i].sock, res);
				if (rr > 0 && S.w[i].t && res->id == S.w[i].jobid)
					on_result(i, res);
				else if (rr > 0)
					warn_("unexpected answer from worker %ld", (long)S.w[i].pid);
				else
					worker_lost(i);
				free(res);
			}
		}
		free(pf);
	}
	for (i = 0; i < S.nw; i++)
		if (S.w[i].sock >= 0)
			close(S.w[i].sock);
	for (i = 0; i < S.nw; i++)
		if (S.w[i].pid > 0)
			waitpid(S.w[i].pid, NULL, 0);
	dkim_stop();
	counters_flush();
	ev_begin("stopped");
	ev_end();
	ev_flush();
	return 0;
}
