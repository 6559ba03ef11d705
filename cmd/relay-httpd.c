/* relay-httpd: the HTTP API (POST /v1/messages with a bearer token),
 * /metrics, /v1/status and the status page, on one TCP address
 * (loopback by default). Wiring only: the HTTP side is lib/http/server.c,
 * the message lib/http/mime.c and api.c, the tokens lib/conf/apikeys.c.
 * It runs in the foreground as its own uid (relayw), never as root; the
 * main thread waits for TERM (issue 13: the page's 24 h plots are read
 * from state/history/, which relay-send writes; no sampling here). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/diag.h"
#include "conf/conf.h"
#include "http/server.h"
#include "queue/queue.h"
#include "bounce/unsub.h"

#define LISTEN_DEFAULT "127.0.0.1:8025"

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-httpd [-l ADDR:PORT] [-c CONNECTIONS] [-t SECONDS] | relay-httpd -K");
}

static unsigned long num(const char *s, unsigned long lo, unsigned long hi)
{
	char *e;
	unsigned long v;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || !*s || *e || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static struct httpd h;   /* large (the rate table) */
	const char *listen = LISTEN_DEFAULT, *colon;
	struct buf host = BUF_INIT;
	unsigned long maxsize = 0, port;
	char addr[64], err[256];
	sigset_t set;
	int opt, sig, makekey = 0;

	diag_init(argv[0]);
	h.conn_max = 64;
	h.timeout = 30;
	while ((opt = getopt(argc, argv, "l:c:t:K")) != -1) {
		switch (opt) {
		case 'K': makekey = 1; break;
		case 'l': listen = optarg; break;
		case 'c': h.conn_max = (unsigned)num(optarg, 1, 10000); break;
		case 't': h.timeout = (unsigned)num(optarg, 1, 3600); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (makekey) {   /* RFC 8058's token key (bounce/unsub.h), once */
		int r = unsub_key_make(relay_home());
		if (r < 0)
			die_sys(EXIT_TEMP, "unable to make %s/etc/unsubscribe.key", relay_home());
		printf("%s/etc/unsubscribe.key %s\n", relay_home(), r ? "made" : "exists: kept");
		return 0;
	}
	if (geteuid() == 0 || getuid() == 0)
		die(EXIT_PERM, "refusing to run as root: run relay-httpd as its own user (relayw)");
	colon = strrchr(listen, ':');
	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof addr)
		usage();
	memcpy(addr, listen, (size_t)(colon - listen));
	addr[colon - listen] = 0;
	port = num(colon + 1, 1, 65535);

	h.api.home = relay_home();
	if (conf_setting_value(h.api.home, "hostname", &host) <= 0)
		die_sys(EXIT_TEMP, "unable to read setting hostname from etc/settings.cdb");
	if (conf_setting_number(h.api.home, "maxsize", &maxsize) < 0)
		die_sys(EXIT_TEMP, "unable to read setting maxsize from etc/settings.cdb");
	h.api.host = host.p;
	h.api.maxsize = maxsize ? maxsize : MSG_SIZE_DEFAULT;
	/* base64 makes an attachment 4/3 as large; the JSON around it */
	h.body_max = (size_t)(h.api.maxsize / 3 * 4 + 65536);
	status_init(&h.st, h.api.home);

	/* the signals wait in the main thread: block them before MHD's
	 * thread starts, so that it inherits the mask */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (httpd_start(&h, addr, (unsigned)port, err, sizeof err) < 0)
		die(EXIT_TEMP, "%s", err);
	printf("relay-httpd: listening on %s:%lu\n", addr, port);
	fflush(stdout);
	for (;;) {
		/* issue 13: no sampling (state/history/ is relay-send's) */
		if (sigwait(&set, &sig) == 0 && (sig == SIGTERM || sig == SIGINT))
			break;
		/* HUP: nothing to reload: etc/apikeys.cdb is read per request */
	}
	httpd_stop(&h);
	printf("relay-httpd: stopped\n");
	buf_free(&host);
	return 0;
}
