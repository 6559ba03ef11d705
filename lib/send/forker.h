#ifndef RELAY_FORKER_H
#define RELAY_FORKER_H
/* relay-send's worker fork server, for a relay-send started as root.
 * The scheduler drops to relayq, and a relayq process cannot make a
 * relayn one; so before the drop (and before any table is read) start()
 * forks this small process, which drops at once to the workers' uid
 * (relayn, its own group, no supplementary groups), closes every fd but
 * its socket and stdout/stderr, and from then on forks network workers
 * on request. A worker is a copy of it: already relayn, and no process
 * keeps root nor any capability to replace a worker that died.
 *
 * Protocol (SOCK_SEQPACKET, one struct forker_msg per packet):
 *   scheduler -> server  'S'            fork a worker
 *   server -> scheduler  'W' pid        its socket (SCM_RIGHTS: the
 *                                       scheduler's end of its socketpair)
 *                        'E' err        socketpair or fork failed (errno)
 *                        'X' pid status a worker exited (the server reaps)
 * The server ends when its socket closes (it waits for its workers
 * first) and dies with the scheduler (PR_SET_PDEATHSIG); its workers
 * see their sockets close and end (a transaction past its data first
 * finishes and records its deliveries: worker.c). doc/security.md. */
#include <stddef.h>
#include <sys/types.h>

struct forker_exit {
	pid_t pid;
	int status;
};

struct forker {
	pid_t pid;                 /* the server, or 0 */
	int sock;                  /* -1: not started, or gone */
	struct forker_exit *pend;  /* exits read while waiting for a 'W' */
	size_t npend, cap;
};

/* Fork the server, which drops to uid/gid. 0, or -1 (logged). */
int forker_start(struct forker *f, uid_t uid, gid_t gid);
/* A new worker: 0 with its pid and the scheduler's end of its socket;
 * -1 with errno when the server could not make one (transient: back off
 * and ask again) or is gone (EPIPE; f->sock is then -1). */
int forker_spawn(struct forker *f, pid_t *pid, int *sock);
/* The next worker exit the server reported, without blocking: 1 with
 * *e, 0 when there is none now, -1 when the server is gone. */
int forker_exited(struct forker *f, struct forker_exit *e);
/* Close the socket and wait for the server (which waits for its workers:
 * close their sockets first). */
void forker_stop(struct forker *f);
#endif
