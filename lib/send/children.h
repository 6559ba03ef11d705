#ifndef RELAY_CHILDREN_H
#define RELAY_CHILDREN_H
/* The processes relay-send runs: its network workers (worker.h, one
 * socketpair each, under their own uid), the DKIM signer co-process
 * (relay-dkim serve, the only process that reads keys) and relay-bounce
 * (one run per DSN, waited for). State: struct children (owned by the
 * loop, passed by pointer): the worker slots with the transaction each
 * has in flight, and the signer's pid and pipes. Reaping is the loop's
 * (SIGCHLD): it asks children_worker_of and children_dkim_exited. */
#include <stddef.h>
#include <sys/types.h>
#include "base/buf.h"
#include "send/forker.h"
#include "send/scheduler.h"

struct task;

struct worker_slot {
	pid_t pid;              /* 0: exited, not restarted */
	int sock;               /* -1: lost */
	struct task *t;         /* in flight (the loop's), or NULL: idle */
	unsigned long jobid;
	char key[600];          /* destination of its last job */
	double started;         /* monotonic time of its spawn */
	int jfd;                /* the slot's journal (send/journal.h), -1 not open yet, -2 failed */
};

struct children {
	const struct sched_opts *o;
	const char *home;
	struct worker_slot *w;
	int nw;
	int loop_fds[3];        /* the loop's own fds, closed in a new worker (-1: none) */
	double respawn_at;      /* no new worker before (monotonic; back-off) */
	unsigned respawn_fails; /* spawns in a row that failed or died at once */
	struct forker fk;       /* privileged: the workers' fork server (forker.h) */
	int forked;             /* 1: workers come from fk, not from fork() here */
	pid_t dkim_pid;         /* relay-dkim serve, or 0 */
	int dkim_wanted;        /* etc/dkim had keys at start: never send unsigned */
	int dkim_in, dkim_out;
};

/* nw slots, none started yet. */
void children_init(struct children *ch, const struct sched_opts *o, const char *home, int nw);
/* From now on workers come from this fork server (a privileged
 * relay-send, which started it before it read any table or dropped). */
void children_use_forker(struct children *ch, const struct forker *fk);
/* A new worker can be had: not privileged, or the fork server runs. */
int children_can_spawn(const struct children *ch);
/* The next worker exit the fork server reported: 1 with *pid, 0 when
 * none is there now (or no server), -1 when the server is gone (logged
 * once; no worker can be replaced from then on). */
int children_forker_exit(struct children *ch, pid_t *pid);
/* pid (reaped) was the fork server: 1 (logged), else 0. */
int children_forker_exited(struct children *ch, pid_t pid);
/* Start (or restart) the worker in slot i: 0, or -1 (logged) when no
 * socketpair or fork could be had (the slot stays empty). */
int children_spawn_worker(struct children *ch, int i);
/* Restart the workers that are gone, at most once per back-off step
 * (1 s doubling to 60 s after a spawn that failed or a worker that died
 * within a second); never while terminating. 0, or the seconds until the
 * next try when a slot is still empty. */
double children_respawn(struct children *ch, double now);
/* Worker i exited (reaped): its slot waits for children_respawn. */
void children_worker_exited(struct children *ch, int i, double now);
/* Some worker is idle. */
int children_any_idle(const struct children *ch);
/* An idle worker, preferring one whose last job went to key (it may
 * still hold a connection there); -1 if none is idle. */
int children_idle_worker(const struct children *ch, const char *key);
/* How many workers still have a socket. */
int children_alive(const struct children *ch);
/* The slot of the worker with this pid, or -1. */
int children_worker_of(const struct children *ch, pid_t pid);
/* The worker in slot i is gone or broke the protocol: close its socket. */
void children_worker_close(struct children *ch, int i);
/* SIGTERM: no more jobs. Each worker socket is shut for writing: an
 * idle worker ends, one whose session has not had its 354 to DATA drops
 * it at once (the loop sees the socket close: the task is not an
 * attempt), and one past it finishes and answers (worker.c). */
void children_quiesce(struct children *ch);
/* Close every worker socket, wait for the workers and the signer. */
void children_stop(struct children *ch);
/* Free the slots (after children_stop, or at an exit that cannot wait). */
void children_free(struct children *ch);

/* etc/dkim.cdb has a key (dies when it cannot be read). */
int children_dkim_configured(const struct children *ch);
/* Start relay-dkim serve when etc/dkim has keys and it is not running
 * (dies only when etc/dkim.cdb cannot be read at start; a pipe or fork
 * that fails is logged, and signing waits for the next try). */
void children_dkim_start(struct children *ch);
/* Privileged, the signer is gone and cannot be started again (the
 * scheduler is relayq, the signer relayd): the loop ends for the
 * supervisor to restart relay-send. Mail is deferred meanwhile, never
 * sent unsigned. */
int children_dkim_lost(const struct children *ch);
void children_dkim_stop(struct children *ch);
/* pid was the signer: say so and start it again unless privileges are
 * dropped (it could not be). 1 if it was, else 0. */
int children_dkim_exited(struct children *ch, pid_t pid);
enum dkim_outcome {
	DKIM_NONE,          /* no signer: sent unsigned */
	DKIM_SIGNED,        /* sig holds the header fields to send first */
	DKIM_TEMP,          /* a temporary failure: why */
	DKIM_PERM,          /* the signer refuses the message: why */
};
/* Sign the message of queue file fd (starting at body_off). With keys
 * configured and no signer running: DKIM_TEMP (never sent unsigned). */
enum dkim_outcome children_dkim_sign(struct children *ch, int fd, size_t body_off, struct buf *sig,
                                     char *why, size_t cap);

/* Run relay-bounce dsn on queued message id with input in: 0 when it
 * queued a DSN (or deliberately dropped one), -1 otherwise. */
int children_bounce(const char *id, const struct buf *in);

#endif
