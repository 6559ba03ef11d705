/* The site lookups' child process (sitedns.h). */
#include "send/sitedns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/diag.h"
#include "net/dns.h"

#define LINE_MAX_ 300   /* a domain of at most 255 octets and a newline */

void sitedns_init(struct sitedns *r)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
}

/* The child: one question at a time, answered in order. */
static void serve(int fd, const char *dns_config)
{
	FILE *in = fdopen(fd, "r"), *out = fdopen(dup(fd), "w");
	struct dns_ctx *dns;
	char line[LINE_MAX_ + 2], err[256];
	if (!in || !out)
		_exit(111);
	dns = dns_new(dns_config && *dns_config ? dns_config : NULL, err, sizeof err);
	if (!dns)
		warn_("site lookups: %s", err);
	while (fgets(line, sizeof line, in)) {
		struct mx_list mx;
		size_t i, n = strcspn(line, "\n");
		if (line[n] != '\n')
			_exit(100);   /* not our question: the loop wrote it */
		line[n] = 0;
		fputs(line, out);
		if (dns && dns_mx(dns, line, &mx, err, sizeof err) == DNS_OK)
			for (i = 0; i < mx.n; i++)
				fprintf(out, " %s", mx.h[i].name);
		fputc('\n', out);
		if (fflush(out) == EOF)
			_exit(111);
	}
	_exit(0);
}

/* Close every descriptor from lo up (close_range(2) where the kernel has
 * it, else each one /proc/self/fd lists, else up to the limit). */
static void close_from(int lo)
{
	DIR *d;
	struct dirent *e;
	long max, fd;
	if (close_range((unsigned)lo, ~0U, 0) == 0)
		return;
	if ((d = opendir("/proc/self/fd"))) {
		int keep = dirfd(d);
		long fds[1024];
		size_t n = 0, i;
		while ((e = readdir(d)) && n < sizeof fds / sizeof fds[0])
			if ((fd = strtol(e->d_name, NULL, 10)) >= lo && fd != keep)
				fds[n++] = fd;
		closedir(d);
		for (i = 0; i < n; i++)
			close((int)fds[i]);
		if (n < sizeof fds / sizeof fds[0])
			return;
	}
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = lo; fd < max; fd++)
		close((int)fd);
}

static int start(struct sitedns *r, const char *dns_config)
{
	int sv[2];
	pid_t parent = getpid();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		warn_sys("site lookups: unable to make a socket pair");
		return -1;
	}
	r->pid = fork();
	if (r->pid < 0) {
		warn_sys("site lookups: unable to fork");
		close(sv[0]);
		close(sv[1]);
		r->pid = 0;
		return -1;
	}
	if (r->pid == 0) {
		signal(SIGHUP, SIG_IGN);
		signal(SIGALRM, SIG_IGN);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(0);
		/* nothing of the loop's: its end of the pair (or the child
		 * never sees EOF), worker sockets, lock, queue */
		if (sv[0] != 3)
			close(sv[0]);
		if (dup2(sv[1], 3) < 0)
			_exit(111);
		close_from(4);
		/* 0 and 1 (and 2 unless it is the log) may be the loop's too:
		 * a loop without stdin has a worker socket there */
		{
			int nul = open("/dev/null", O_RDWR), k;
			struct stat st;
			for (k = 0; k < 3 && nul >= 0; k++)
				if (k < 2 || (fstat(k, &st) == 0 && S_ISSOCK(st.st_mode)))
					dup2(nul, k);
			if (nul > 3)
				close(nul);
		}
		serve(3, dns_config);
	}
	close(sv[1]);
	r->fd = sv[0];
	if (fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK) < 0) {
		warn_sys("site lookups: fcntl");
		sitedns_stop(r);
		return -1;
	}
	return 0;
}

static void flush_out(struct sitedns *r)
{
	while (r->fd >= 0 && r->out.len) {
		ssize_t w = send(r->fd, r->out.p, r->out.len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sitedns_stop(r);   /* gone: asked again later */
			return;
		}
		memmove(r->out.p, r->out.p + w, r->out.len - (size_t)w);
		r->out.len -= (size_t)w;
	}
}

int sitedns_ask(struct sitedns *r, const char *dns_config, const char *domain)
{
	size_t i, n = strlen(domain);
	if (n == 0 || n > 255)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)domain[i] <= ' ' || domain[i] == 0x7f)
			return -1;
	if (r->fd < 0 && start(r, dns_config) < 0)
		return -1;
	if (r->out.len > 64 * 1024)
		return -1;   /* the child is far behind: the caller waits */
	if (buf_printf(&r->out, "%s\n", domain) < 0)
		return -1;
	flush_out(r);
	return r->fd >= 0 ? 0 : -1;
}

void sitedns_read(struct sitedns *r, void (*cb)(void *ctx, const char *domain, char **hosts, size_t n),
                  void *ctx)
{
	char b[4096];
	flush_out(r);
	while (r->fd >= 0) {
		ssize_t got = read(r->fd, b, sizeof b);
		char *line, *nl;
		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			sitedns_stop(r);
			break;
		}
		if (got < 0)
			break;
		if (buf_add(&r->in, b, (size_t)got) < 0 || buf_adds(&r->in, "") < 0) {
			sitedns_stop(r);
			break;
		}
		for (line = r->in.p; (nl = memchr(line, '\n', r->in.len - (size_t)(line - r->in.p))); line = nl + 1) {
			char *hosts[DNS_MX_MAX], *tok, *save = NULL;
			size_t n = 0;
			*nl = 0;
			tok = strtok_r(line, " ", &save);
			if (!tok)
				continue;
			while (n < DNS_MX_MAX && (hosts[n] = strtok_r(NULL, " ", &save)))
				n++;
			cb(ctx, tok, hosts, n);
		}
		r->in.len -= (size_t)(line - r->in.p);
		memmove(r->in.p, line, r->in.len);
	}
}

int sitedns_fd(const struct sitedns *r)
{
	return r->fd;
}

void sitedns_stop(struct sitedns *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);        /* it may be inside a lookup */
		waitpid(r->pid, NULL, 0);     /* ECHILD when the loop reaped it */
	}
	r->pid = 0;
	buf_free(&r->in);
	buf_free(&r->out);
}
