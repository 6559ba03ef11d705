#ifndef RELAY_FDPASS_H
#define RELAY_FDPASS_H
/* One datagram with descriptors (SCM_RIGHTS) over relay-send's
 * SOCK_SEQPACKET sockets: the scheduler's jobs to its workers (job.c) and
 * the fork server's worker sockets (forker.c). */
#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX 2   /* descriptors in one datagram */

/* len bytes of p with nfds (<= FDPASS_MAX) descriptors; EINTR is retried,
 * never SIGPIPE. 0, or -1 with errno (a short send is EPROTO). */
int fdpass_send(int sock, const void *p, size_t len, const int *fds, size_t nfds);
/* One datagram into p (cap bytes), its descriptors (close-on-exec) into
 * fds[0..maxfds) in the order sent, -1 for each not sent. flags as for
 * recvmsg (MSG_DONTWAIT). The length, 0 at EOF, or -1 with errno: a
 * datagram longer than cap or with more descriptors than maxfds is
 * EPROTO, and what it carried is closed. */
ssize_t fdpass_recv(int sock, void *p, size_t cap, int *fds, size_t maxfds, int flags);

#endif
