/* bench/sink: a tiny SMTP sink for latency runs. Accepts everything on
 * 127.0.0.1:PORT (PIPELINING, any number of connections, one thread,
 * epoll), and for each message writes "RECV_NS SUBJECT" to LOG when the
 * final dot arrives (CLOCK_REALTIME, before the 250 is sent).
 *   sink PORT LOG      runs until SIGTERM/SIGINT; prints the count */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ 262144
struct conn {
	int fd, data;       /* data: inside DATA */
	size_t len;
	char subj[200];
	char buf[BUFSZ];
};
static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }
static FILE *logf_;
static long count;

static void reply(struct conn *c, const char *s)
{
	size_t l = strlen(s);
	if (write(c->fd, s, l) < 0) { /* the peer went away; read() will say */ }
}

/* Handles complete lines in c->buf; returns -1 to close. */
static int lines(struct conn *c)
{
	size_t pos = 0;
	char out[4096];
	size_t ol = 0;
	for (;;) {
		char *nl = memchr(c->buf + pos, '\n', c->len - pos), *l = c->buf + pos;
		size_t ll;
		if (!nl)
			break;
		ll = (size_t)(nl - l);
		pos += ll + 1;
		if (ll && l[ll - 1] == '\r') ll--;
		if (c->data) {
			if (ll == 1 && l[0] == '.') {
				struct timespec t;
				clock_gettime(CLOCK_REALTIME, &t);
				fprintf(logf_, "%lld %s\n", t.tv_sec * 1000000000LL + t.tv_nsec, c->subj[0] ? c->subj : "-");
				count++;
				c->data = 0;
				ol += snprintf(out + ol, sizeof out - ol, "250 2.0.0 Ok queued\r\n");
			} else if (!c->subj[0] && ll > 9 && !strncasecmp(l, "Subject: ", 9)) {
				size_t n = ll - 9 < sizeof c->subj - 1 ? ll - 9 : sizeof c->subj - 1;
				memcpy(c->subj, l + 9, n);
				c->subj[n] = 0;
			}
			continue;
		}
		if (ll >= 4 && (!strncasecmp(l, "EHLO", 4)))
			ol += snprintf(out + ol, sizeof out - ol, "250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 0\r\n250 ENHANCEDSTATUSCODES\r\n");
		else if (ll >= 4 && !strncasecmp(l, "DATA", 4)) {
			c->data = 1;
			c->subj[0] = 0;
			ol += snprintf(out + ol, sizeof out - ol, "354 go\r\n");
		} else if (ll >= 4 && !strncasecmp(l, "QUIT", 4)) {
			ol += snprintf(out + ol, sizeof out - ol, "221 2.0.0 bye\r\n");
			if (write(c->fd, out, ol) < 0) {}
			return -1;
		} else
			ol += snprintf(out + ol, sizeof out - ol, "250 2.0.0 Ok\r\n");
		if (ol > sizeof out - 256) {
			if (write(c->fd, out, ol) < 0) {}
			ol = 0;
		}
	}
	if (ol && write(c->fd, out, ol) < 0) {}
	memmove(c->buf, c->buf + pos, c->len - pos);
	c->len -= pos;
	if (c->len == BUFSZ) /* a line longer than the buffer: drop it */
		c->len = 0;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int ls, ep, one = 1;
	struct sigaction act;
	if (argc != 3)
		return fprintf(stderr, "usage: sink PORT LOG\n"), 100;
	logf_ = fopen(argv[2], "w");
	if (!logf_)
		return perror(argv[2]), 111;
	memset(&act, 0, sizeof act);
	act.sa_handler = on_sig;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1024) < 0)
		return perror("bind"), 111;
	ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	while (!stop) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 200);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				int fd;
				while ((fd = accept4(ls, NULL, NULL, 0)) >= 0) {
					c = calloc(1, sizeof *c);
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
					reply(c, "220 sink ESMTP\r\n");
				}
				continue;
			}
			ssize_t r = read(c->fd, c->buf + c->len, BUFSZ - c->len);
			if (r <= 0 || (c->len += (size_t)r, lines(c) < 0)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				free(c);
			}
		}
		fflush(logf_);
	}
	fclose(logf_);
	printf("%ld\n", count);
	return 0;
}
