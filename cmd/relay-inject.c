/* relay-inject: reads a message on stdin, checks it, completes its header
 * and hands it to relay-queue (or $RELAYQUEUE). sendmail compatible.
 * Wiring only: the envelope is lib/intake/envelope.c, the completion
 * lib/intake/complete.c, the hand-over lib/intake/submit.c. */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/diag.h"
#include "base/fileio.h"
#include "bounce/suppress.h"
#include "conf/conf.h"
#include "intake/complete.h"
#include "intake/envelope.h"
#include "intake/msg.h"
#include "intake/submit.h"
#include "queue/queue.h"

struct opts {
	const char *sender, *fullname, *class;
	int t, i, v;
};

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-inject [-t] [-i|-oi] [-f sender] [-F name] [-C class] [-v] [rcpt ...]");
}

/* The options (sendmail's, the harmless ones ignored); returns the index
 * of the first recipient argument. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	int i;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) { i++; break; }
#define ARG(var) do { if (a[2]) var = a + 2; else if (i + 1 < argc) var = argv[++i]; else usage(); } while (0)
		switch (a[1]) {
		case 't': if (a[2]) usage(); o->t = 1; break;
		case 'i': if (a[2]) usage(); o->i = 1; break;
		case 'v': if (a[2]) usage(); o->v = 1; break;
		case 'f': case 'r': ARG(o->sender); break;
		case 'F': ARG(o->fullname); break;
		case 'C': ARG(o->class); break;
		case 'o':  /* -oi, and the harmless -oem -oee -odb -odi -om ... */
			if (strcmp(a, "-oi") == 0) o->i = 1;
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
	return i;
}

/* Settings hostname and maxsize (0 means the default). */
static void settings(const char *home, char *host, size_t cap, unsigned long *maxsize)
{
	struct buf v = BUF_INIT;
	int r = conf_setting_value(home, "hostname", &v);
	if (r < 0 || conf_setting_number(home, "maxsize", maxsize) < 0)
		die_sys(EXIT_TEMP, "unable to read etc/settings.cdb");
	if (r == 0 || v.len >= cap)
		die(EXIT_TEMP, "setting hostname: no usable host name");
	memcpy(host, v.p, v.len + 1);
	buf_free(&v);
	if (*maxsize == 0)
		*maxsize = MSG_SIZE_DEFAULT;
}

static void check(int status, const char *err)
{
	if (status)
		die(status, "%s", err);
}

/* The suppression list: hard bounces of the past (relay-bounce). */
static void check_suppressed(const char *home, const struct envelope *e)
{
	size_t k;
	for (k = 0; k < e->nrcpt; k++) {
		struct suppress_entry se;
		int s = suppress_lookup(home, e->rcpt[k], &se);
		if (s < 0)
			die_sys(EXIT_TEMP, "unable to read the suppression list");
		if (s > 0)
			die(EXIT_PERM, "refused: <%s> is suppressed after a hard bounce (%s); "
			    "remove it with: relay-bounce suppress remove %s", e->rcpt[k], se.reason, e->rcpt[k]);
	}
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	const char *home;
	char host[256], user[64], err[512], trace[64];
	unsigned long maxsize;
	struct buf in = BUF_INIT, m = BUF_INIT, out = BUF_INIT, env = BUF_INIT;
	struct msg_headers h;
	struct envelope e;
	struct complete c;
	struct submit s;
	struct passwd *pw;
	int i, r;

	diag_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	home = relay_home();
	i = parse_args(argc, argv, &o);
	settings(home, host, sizeof host, &maxsize);
	pw = getpwuid(getuid());
	snprintf(user, sizeof user, "%s", pw && pw->pw_name ? pw->pw_name : "nobody");

	/* 1. the message, normalized, and its header section */
	if (read_fd(0, &in, (size_t)maxsize) < 0) {
		if (errno == EFBIG)
			die(EXIT_PERM, "message larger than the limit of %lu bytes", maxsize);
		die_sys(EXIT_TEMP, "unable to read the message");
	}
	check(complete_parse(in.p ? in.p : "", in.len, !o.i, &m, &h, err, sizeof err), err);
	buf_free(&in);

	/* 2. the envelope: sender, recipients, class */
	envelope_init(&e, host);
	check(envelope_sender(&e, o.sender, user, err, sizeof err), err);
	check(complete_one_from(m.p, &h, err, sizeof err), err);
	for (; i < argc; i++)
		check(envelope_rcpt_arg(&e, argv[i], err, sizeof err), err);
	e.class = o.class;
	check(envelope_header(&e, m.p, &h, o.t, err, sizeof err), err);
	if (e.nrcpt == 0)
		die(EXIT_PERM, "refused: no recipients");
	check_suppressed(home, &e);
	check(envelope_class_check(&e, err, sizeof err), err);

	/* 3. the message as queued, and the hand-over */
	snprintf(trace, sizeof trace, "(relay-inject invoked by uid %lu)", (unsigned long)getuid());
	c = (struct complete){ .host = host, .sender = e.sender, .fullname = o.fullname,
	                       .trace = trace, .now = (long long)time(NULL), .maxsize = maxsize };
	check(complete_message(&c, m.p, m.len, &h, &out, err, sizeof err), err);
	if (envelope_records(&e, &env) < 0)
		die(EXIT_TEMP, "out of memory");
	if ((r = submit(&s, out.p, out.len, env.p, env.len, o.v)) != 0) {
		submit_describe(&s, err, sizeof err);
		die(r, "%s", err);
	}
	if (o.v && s.id[0])
		printf("%s\n", s.id);

	envelope_free(&e);
	msg_headers_free(&h);
	buf_free(&m);
	buf_free(&out);
	buf_free(&env);
	return 0;
}
