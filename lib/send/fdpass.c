/* Datagrams with descriptors (fdpass.h). */
#include "send/fdpass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

union fdpass_ctl {
	struct cmsghdr align;
	char b[CMSG_SPACE(FDPASS_MAX * sizeof(int))];
};

int fdpass_send(int sock, const void *p, size_t len, const int *fds, size_t nfds)
{
	struct iovec iov = { (void *)p, len };
	union fdpass_ctl u;
	struct msghdr mh;
	ssize_t n;
	if (nfds > FDPASS_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof u);
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

ssize_t fdpass_recv(int sock, void *p, size_t cap, int *fds, size_t maxfds, int flags)
{
	struct iovec iov = { p, cap };
	union fdpass_ctl u;
	struct msghdr mh;
	struct cmsghdr *c;
	size_t i, got = 0;
	int over = 0;
	ssize_t n;
	for (i = 0; i < maxfds; i++)
		fds[i] = -1;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.b;
	mh.msg_controllen = sizeof u.b;
	while ((n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
			continue;
		for (k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
			if (got < maxfds)
				fds[got++] = fd;
			else {
				close(fd);
				over = 1;
			}
		}
	}
	if (over || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (i = 0; i < got; i++) {
			close(fds[i]);
			fds[i] = -1;
		}
		errno = EPROTO;
		return -1;
	}
	return n;
}
