/* relay-inject: reads a message on stdin, checks it, completes its header
 * and hands it to relay-queue (or $RELAYQUEUE). sendmail compatible. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "intake/addr.h"
#include "base/bounds.h"
#include "base/buf.h"
#include "base/diag.h"
#include "base/fileio.h"
#include "intake/msg.h"
#include "queue/queue.h"
#include "conf/settings.h"
#include "bounce/suppress.h"

struct rcpts {
	char **a;
	size_t n, cap;
	const char *host;
};

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-inject [-t] [-i|-oi] [-f sender] [-F name] [-C class] [-v] [rcpt ...]");
}

static int add_rcpt(const char *s, size_t n, void *arg)
{
	struct rcpts *r = arg;
	char a[ADDR_PATH_MAX + 64], *p;
	const char *why;
	int l = addr_strip(s, n, a, sizeof a - strlen(r->host) - 2);
	int st;
	if (l < 0)
		die(EXIT_PERM, "bad recipient address \"%.*s\": too long or unbalanced <>", (int)(n > 200 ? 200 : n), s);
	st = addr_check(a, (size_t)l, ADDR_ALLOW_NODOMAIN, &why);
	if (st != ADDR_OK) {
		char safe[300];
		safe_text(safe, sizeof safe, s, n);
		die(EXIT_PERM, "bad recipient address \"%s\": %s", safe, why);
	}
	if (!addr_domain(a)) {     /* "root": append the host name */
		strcat(a, "@");
		strcat(a, r->host);
		if (addr_check(a, strlen(a), 0, &why) != ADDR_OK)
			die(EXIT_PERM, "bad recipient address \"%s\": %s", a, why);
	}
	if (r->n >= RCPT_MAX)
		die(EXIT_PERM, "more than %d recipients", RCPT_MAX);
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		char **na = realloc(r->a, nc * sizeof *na);
		if (!na)
			die(EXIT_TEMP, "out of memory");
		r->a = na;
		r->cap = nc;
	}
	if (!(p = strdup(a)))
		die(EXIT_TEMP, "out of memory");
	r->a[r->n++] = p;
	return 0;
}

static int valid_class(const char *c)
{
	size_t i, n = strlen(c);
	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
		      (c[i] >= '0' && c[i] <= '9') || c[i] == '-' || c[i] == '_' || c[i] == '.'))
			return 0;
	return 1;
}

/* A display name safe for a From: line: quoted, with \ and " escaped. */
static void quote_name(struct buf *b, const char *name)
{
	buf_addc(b, '"');
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;
		if (c < 32 || c == 127)
			continue;
		if (c == '"' || c == '\\')
			buf_addc(b, '\\');
		buf_addc(b, (char)c);
	}
	buf_addc(b, '"');
}

static const char *queue_program(char *buf, size_t cap)
{
	const char *q = getenv("RELAYQUEUE");
	ssize_t n;
	if (q && *q)
		return q;
	n = readlink("/proc/self/exe", buf, cap - 16);
	if (n > 0) {
		char *s;
		buf[n] = 0;
		s = strrchr(buf, '/');
		if (s) {
			strcpy(s + 1, "relay-queue");
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return RELAY_BINDIR "/relay-queue";
}

static const char *qq_reason(int code)
{
	switch (code) {
	case 11: return "address too long";
	case 31: return "message refused";
	case 51: return "out of memory";
	case 53: return "queue write error or disk full";
	case 54: return "unable to read the message";
	case 55: return "unable to read the envelope";
	case 81: return "internal bug";
	case 91: return "bad envelope";
	default: return "queue failure";
	}
}

static int exit_for(int code)
{
	if ((code >= 11 && code <= 40) || code == 91)
		return EXIT_PERM;
	return EXIT_TEMP;
}

int main(int argc, char **argv)
{
	const char *home, *sender = NULL, *fullname = NULL, *class = NULL;
	int opt_t = 0, opt_i = 0, opt_v = 0, i;
	char host[256], maxs[32], qpath[PATH_MAX], err[256], sbuf[ADDR_PATH_MAX + 64];
	unsigned long long maxsize = MSG_SIZE_DEFAULT;
	struct buf in = BUF_INIT, m = BUF_INIT, out = BUF_INIT, env = BUF_INIT, v = BUF_INIT;
	struct msg_headers h;
	struct rcpts r = {0};
	struct passwd *pw;
	char user[64];
	long long now = (long long)time(NULL);
	size_t k;

	diag_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	home = relay_home();

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) { i++; break; }
#define ARG(var) do { if (a[2]) var = a + 2; else if (i + 1 < argc) var = argv[++i]; else usage(); } while (0)
		switch (a[1]) {
		case 't': if (a[2]) usage(); opt_t = 1; break;
		case 'i': if (a[2]) usage(); opt_i = 1; break;
		case 'v': if (a[2]) usage(); opt_v = 1; break;
		case 'f': case 'r': ARG(sender); break;
		case 'F': ARG(fullname); break;
		case 'C': ARG(class); break;
		case 'o':  /* -oi, and the harmless -oem -oee -odb -odi -om ... */
			if (strcmp(a, "-oi") == 0) opt_i = 1;
			else if (!a[2]) usage();
			break;
		case 'B': case 'N': case 'R': case 'V': case 'h': case 'L': case 'O': {
			const char *ignored;
			ARG(ignored);
			(void)ignored;
			break;
		}
		case 'm': case 'n': case 'U': case 'G': if (a[2]) usage(); break;
		case 'b':
			if (strcmp(a, "-bm") == 0) break;
			die(EXIT_PERM, "option %s is not supported (relay-inject only submits mail)", a);
		default:
			die(EXIT_PERM, "unknown option %s", a);
		}
#undef ARG
	}

	if (setting_hostname(home, host, sizeof host) < 0)
		die_sys(EXIT_TEMP, "unable to read etc/settings.cdb");
	if (setting_get(home, "maxsize", maxs, sizeof maxs) > 0)
		maxsize = strtoull(maxs, NULL, 10);
	if (maxsize == 0)
		maxsize = MSG_SIZE_DEFAULT;
	r.host = host;

	pw = getpwuid(getuid());
	snprintf(user, sizeof user, "%s", pw && pw->pw_name ? pw->pw_name : "nobody");

	/* 1. read and normalize */
	if (read_fd(0, &in, (size_t)maxsize) < 0) {
		if (errno == EFBIG)
			die(EXIT_PERM, "message larger than the limit of %llu bytes", maxsize);
		die_sys(EXIT_TEMP, "unable to read the message");
	}
	if (msg_normalize(in.p ? in.p : "", in.len, !opt_i, &m, err, sizeof err) < 0)
		die(EXIT_PERM, "refused: %s", err);
	buf_free(&in);
	if (msg_headers(m.p ? m.p : "", m.len, &h, err, sizeof err) < 0)
		die(EXIT_PERM, "refused: %s", err);

	/* 2. envelope sender */
	if (sender) {
		int l = addr_strip(sender, strlen(sender), sbuf, sizeof sbuf);
		const char *why;
		if (l < 0 || addr_check(sbuf, (size_t)l, ADDR_ALLOW_EMPTY, &why) != ADDR_OK) {
			char safe[300];
			safe_text(safe, sizeof safe, sender, strlen(sender));
			die(EXIT_PERM, "bad sender address \"%s\": %s", safe, l < 0 ? "too long or unbalanced <>" : why);
		}
	} else {
		const char *why;
		snprintf(sbuf, sizeof sbuf, "%s@%s", user, host);
		if (addr_check(sbuf, strlen(sbuf), 0, &why) != ADDR_OK)
			die(EXIT_PERM, "cannot make a sender address from \"%s\": %s (use -f)", sbuf, why);
	}

	/* 3. recipients and class from the header */
	k = (size_t)msg_find(m.p, &h, "From", 0);
	if (k != (size_t)-1 && msg_find(m.p, &h, "From", k + 1) >= 0)
		die(EXIT_PERM, "refused: the message has more than one From: field");
	for (; i < argc; i++) {
		char safe[300];
		if (msg_addrlist(argv[i], strlen(argv[i]), add_rcpt, &r) < 0) {
			safe_text(safe, sizeof safe, argv[i], strlen(argv[i]));
			die(EXIT_PERM, "bad recipient address \"%s\": unbalanced quotes, comments or <>", safe);
		}
	}
	for (k = 0; k < h.n; k++) {
		const char *name = m.p + h.f[k].off;
		size_t nl = h.f[k].name_len;
		int is_rcpt = (nl == 2 && !strncasecmp(name, "To", 2)) || (nl == 2 && !strncasecmp(name, "Cc", 2)) ||
			      (nl == 3 && !strncasecmp(name, "Bcc", 3));
		if (opt_t && is_rcpt) {
			if (msg_value(m.p, &h.f[k], &v) < 0)
				die(EXIT_TEMP, "out of memory");
			if (msg_addrlist(v.p, v.len, add_rcpt, &r) < 0)
				die(EXIT_PERM, "refused: cannot parse the %.*s: field", (int)nl, name);
		}
		if (nl == 13 && !strncasecmp(name, "X-Relay-Class", 13)) {
			if (msg_value(m.p, &h.f[k], &v) < 0)
				die(EXIT_TEMP, "out of memory");
			if (!class) {
				static char cls[64];
				snprintf(cls, sizeof cls, "%s", v.p);
				class = cls;
			}
		}
	}
	if (r.n == 0)
		die(EXIT_PERM, "refused: no recipients");
	/* the suppression list: hard bounces of the past (relay-bounce) */
	for (k = 0; k < r.n; k++) {
		struct suppress_entry se;
		int s = suppress_lookup(home, r.a[k], &se);
		if (s < 0)
			die_sys(EXIT_TEMP, "unable to read the suppression list");
		if (s > 0)
			die(EXIT_PERM, "refused: <%s> is suppressed after a hard bounce (%s); "
			    "remove it with: relay-bounce suppress remove %s", r.a[k], se.reason, r.a[k]);
	}
	if (class && !valid_class(class))
		die(EXIT_PERM, "bad message class \"%.60s\" (letters, digits, - _ . only)", class);

	/* 4. the message as queued: Received, kept fields, added fields, body */
	{
		char date[64];
		uint32_t rnd = 0;
		msg_date(date, sizeof date, now);
		buf_printf(&out, "Received: (relay-inject invoked by uid %lu);\r\n\t%s\r\n",
			   (unsigned long)getuid(), date);
		for (k = 0; k < h.n; k++) {
			const char *name = m.p + h.f[k].off;
			size_t nl = h.f[k].name_len;
			if ((nl == 3 && !strncasecmp(name, "Bcc", 3)) ||
			    (nl == 13 && !strncasecmp(name, "X-Relay-Class", 13)))
				continue;
			buf_add(&out, m.p + h.f[k].off, h.f[k].len);
		}
		if (msg_find(m.p, &h, "Date", 0) < 0)
			buf_printf(&out, "Date: %s\r\n", date);
		if (msg_find(m.p, &h, "Message-ID", 0) < 0) {
			if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
				rnd = (uint32_t)getpid();
			buf_printf(&out, "Message-ID: <%llx.%08x.%lu@%s>\r\n", now, (unsigned)rnd,
				   (unsigned long)getpid(), host);
		}
		if (msg_find(m.p, &h, "From", 0) < 0) {
			buf_adds(&out, "From: ");
			if (fullname && *fullname) {
				quote_name(&out, fullname);
				buf_adds(&out, " ");
			}
			if (*sbuf)
				buf_printf(&out, "<%s>\r\n", sbuf);
			else
				buf_printf(&out, "<MAILER-DAEMON@%s>\r\n", host);
		}
		buf_adds(&out, "\r\n");
		if (buf_add(&out, m.p + h.body, m.len - h.body) < 0)
			die(EXIT_TEMP, "out of memory");
		if (out.len > maxsize)
			die(EXIT_PERM, "message larger than the limit of %llu bytes", maxsize);
	}

	/* 5. envelope */
	if (class)
		buf_printf(&env, "C%s%c", class, 0);
	buf_printf(&env, "F%s%c", sbuf, 0);
	for (k = 0; k < r.n; k++)
		buf_printf(&env, "T%s%c", r.a[k], 0);
	if (buf_addc(&env, 0) < 0)
		die(EXIT_TEMP, "out of memory");

	/* 6. hand over */
	{
		int mp[2], ep[2], ip[2] = {-1, -1}, st;
		pid_t pid;
		const char *prog = queue_program(qpath, sizeof qpath);
		if (pipe(mp) < 0 || pipe(ep) < 0 || (opt_v && pipe(ip) < 0))
			die_sys(EXIT_TEMP, "unable to make a pipe");
		pid = fork();
		if (pid < 0)
			die_sys(EXIT_TEMP, "unable to fork");
		if (pid == 0) {
			char fdn[16];
			if (dup2(mp[0], 0) < 0 || dup2(ep[0], 1) < 0)
				_exit(EXIT_TEMP);
			close(mp[0]); close(mp[1]); close(ep[0]); close(ep[1]);
			if (opt_v) {
				close(ip[0]);
				snprintf(fdn, sizeof fdn, "%d", ip[1]);
				setenv("RELAYQUEUE_IDFD", fdn, 1);
			} else
				unsetenv("RELAYQUEUE_IDFD");
			execl(prog, prog, (char *)NULL);
			fprintf(stderr, "%s: fatal: unable to run %s: %s\n", progname, prog, strerror(errno));
			_exit(120);
		}
		close(mp[0]);
		close(ep[0]);
		if (opt_v)
			close(ip[1]);
		/* relay-queue reads all of the message before the envelope */
		if (write_all(mp[1], out.p, out.len) < 0 || close(mp[1]) < 0 ||
		    write_all(ep[1], env.p, env.len) < 0 || close(ep[1]) < 0) {
			if (errno != EPIPE)
				warn_sys("unable to write to the queue program");
		}
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				die_sys(EXIT_TEMP, "unable to wait for the queue program");
		if (WIFSIGNALED(st))
			die(EXIT_TEMP, "queue program %s crashed (signal %d)", prog, WTERMSIG(st));
		if (WEXITSTATUS(st) == 120)
			die(EXIT_TEMP, "unable to run the queue program %s", prog);
		if (WEXITSTATUS(st) != 0)
			die(exit_for(WEXITSTATUS(st)), "queue program %s: %s (exit %d)", prog,
			    qq_reason(WEXITSTATUS(st)), WEXITSTATUS(st));
		if (opt_v) {
			char idl[64];
			ssize_t n = read_full(ip[0], idl, sizeof idl - 1);
			if (n > 0) {
				idl[n] = 0;
				printf("%s", idl);
			}
		}
	}
	for (k = 0; k < r.n; k++)
		free(r.a[k]);
	free(r.a);
	msg_headers_free(&h);
	buf_free(&m);
	buf_free(&out);
	buf_free(&env);
	buf_free(&v);
	return 0;
}
