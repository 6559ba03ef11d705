/* relay-smtpd: speaks SMTP with one client on fd 0 and 1 (under
 * tcpserver, s6-tcpserver or a systemd socket with Accept=yes; or -u for
 * a local caller, sendmail -bs) and hands each accepted message to the
 * queue. Wiring only: the protocol is lib/net/smtpd.c, the intake
 * lib/intake/smtpin.c, who may relay lib/conf/clients.c and users.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/diag.h"
#include "bounce/suppress.h"
#include "conf/clients.h"
#include "conf/conf.h"
#include "conf/users.h"
#include "intake/smtpin.h"
#include "net/smtpd.h"
#include "queue/queue.h"

struct wiring {
	const char *home;
	struct smtpin in;
};

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-smtpd [-s] [-p] [-P] [-u user]");
}

static unsigned long number(const char *home, const char *key)
{
	unsigned long v = 0;
	if (conf_setting_number(home, key, &v) < 0)
		die_sys(EXIT_TEMP, "unable to read setting %s from etc/settings.cdb", key);
	return v;
}

/* A setting that names a file: "" when unset; relative to etc/. */
static void path_setting(const char *home, const char *key, struct buf *out)
{
	struct buf v = BUF_INIT;
	int r = conf_setting_value(home, key, &v);
	out->len = 0;
	if (r < 0)
		die_sys(EXIT_TEMP, "unable to read setting %s from etc/settings.cdb", key);
	if (r == 0 || conf_path(home, v.p, out) < 0)
		buf_adds(out, "");
	buf_free(&v);
}

/* -P: the PROXY v1 line HAProxy sends first. 1 and the client's address
 * in ip, 0 none to use (UNKNOWN), -1 the connection is dropped. */
static int proxy_line(struct smtpd_io *io, char *ip, size_t cap)
{
	struct smtpd_line l;
	size_t used;
	int r;
	smtpd_line_init(&l);
	for (;;) {
		if (io->off < io->len) {
			r = smtpd_line_feed(&l, io->in + io->off, io->len - io->off, &used);
			io->off += used;
			if (r)
				break;
			continue;
		}
		if (smtpd_io_fill(io) <= 0)
			return -1;
	}
	if (l.bad)
		return -1;
	return smtpd_proxy_v1(l.p, l.len, ip, cap);
}

static int loopback(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
	       strncmp(ip, "::ffff:127.", 11) == 0 || strcmp(ip, "local") == 0;
}

/* ---- the hooks: net/smtpd.h to intake/smtpin.h ---- */

static int h_mail(void *arg, const struct smtpd_session *s, const struct smtpd_cmd *c,
                  char *r, size_t cap)
{
	struct wiring *w = arg;
	w->in.account = s->authed && s->account.hash[0] ? &s->account : NULL;
	int code = smtpin_mail(&w->in, c->path, c->prm.smtputf8, r, cap);
	/* dsn: RET and ENVID stored with the message (intake/envelope.h) */
	if (code < 300 && envelope_dsn_mail(&w->in.e, c->prm.ret, c->prm.envid, r + 6, cap - 6)) {
		memcpy(r, "5.5.4 ", 6);
		w->in.in_txn = 0;
		return 501;
	}
	return code;
}

static int h_rcpt(void *arg, const struct smtpd_session *s, const struct smtpd_cmd *c,
                  char *r, size_t cap)
{
	struct wiring *w = arg;
	size_t n = w->in.e.nrcpt;
	int code = smtpin_rcpt(&w->in, c->path, s->mail.smtputf8, r, cap);
	struct suppress_entry se;
	int sr;
	if (code >= 300)
		return code;
	/* dsn: NOTIFY and ORCPT of this recipient (intake/envelope.h) */
	if ((sr = envelope_dsn_rcpt(&w->in.e, n, c->prm.notify, c->prm.orcpt, r + 6, cap - 6))) {
		memcpy(r, sr == EXIT_TEMP ? "4.3.0 " : "5.5.4 ", 6);
		free(w->in.e.rcpt[n]);
		w->in.e.nrcpt = n;
		return sr == EXIT_TEMP ? 451 : 501;
	}
	/* the suppression list, as relay-inject checks it */
	sr = suppress_lookup(w->home, w->in.e.rcpt[n], &se);
	if (sr == 0)
		return code;
	free(w->in.e.rcpt[n]);
	w->in.e.nrcpt = n;
	if (sr < 0) {
		snprintf(r, cap, "4.3.0 unable to read the suppression list");
		return 451;
	}
	snprintf(r, cap, "5.1.1 <%s> is suppressed after a hard bounce", w->in.e.rcpt[n] ? "" : "");
	return 550;
}

static int h_data(void *arg, const struct smtpd_session *s, const struct buf *msg,
                  char *r, size_t cap)
{
	struct wiring *w = arg;
	struct smtpin_trace t = {
		.helo = s->helo, .client = s->cf->client,
		.tls_version = s->io->ssl ? s->io->tls_version : NULL,
		.tls_cipher = s->io->ssl ? s->io->tls_cipher : NULL,
		.user = s->authed ? s->user : NULL, .esmtp = s->esmtp,
	};
	return smtpin_data(&w->in, &t, msg->p ? msg->p : "", msg->len, r, cap);
}

static void h_reset(void *arg)
{
	struct wiring *w = arg;
	smtpin_reset(&w->in);
}

int main(int argc, char **argv)
{
	const char *home, *ip, *local = NULL;
	struct buf host = BUF_INIT, cert = BUF_INIT, key = BUF_INIT;
	struct conf clients, users;
	struct smtpd_conf cf = {0};
	struct smtpd_io io;
	struct smtpd_session s;
	struct wiring w;
	struct smtpd_hooks h = { &w, h_mail, h_rcpt, h_data, h_reset };
	unsigned long maxsize, timeout, stimeout;
	int opt, implicit = 0, plain = 0, proxy = 0, r;
	char err[512], pfx[64], pip[64];

	diag_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "spPu:")) != -1) {
		switch (opt) {
		case 's': implicit = 1; break;
		case 'P': proxy = 1; break;
		case 'p': plain = 1; break;
		case 'u': local = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || (proxy && (implicit || local)))
		usage();   /* PROXY before implicit TLS is not built */
	home = relay_home();

	if (conf_setting_value(home, "hostname", &host) <= 0)
		die_sys(EXIT_TEMP, "unable to read setting hostname from etc/settings.cdb");
	maxsize = number(home, "maxsize");
	if (maxsize == 0)
		maxsize = MSG_SIZE_DEFAULT;
	timeout = number(home, "smtpd_timeout");
	stimeout = number(home, "smtpd_session_timeout");
	cf.hostname = host.p;
	cf.maxsize = maxsize;
	cf.max_rcpt = (unsigned)number(home, "smtpd_max_recipients");
	cf.max_errors = (unsigned)number(home, "smtpd_max_errors");
	cf.auth_delay = (unsigned)number(home, "smtpd_auth_delay");
	cf.greeting_delay = local ? 0 : (unsigned)number(home, "smtpd_greeting_delay");
	path_setting(home, "smtpd_cert", &cert);
	path_setting(home, "smtpd_key", &key);

	if (conf_open(&users, home, "users") < 0)
		die_sys(EXIT_TEMP, "unable to open etc/users.cdb");
	cf.users = &users;
	if (local) {
		char k[CONF_USER_MAX + 1];
		if (conf_parse_user_key(local, k, sizeof k, err, sizeof err) < 0)
			die(EXIT_PERM, "-u: %s", err);
		cf.local_user = local;
		cf.client = "local";
		cf.action = CLIENT_AUTH;
	} else {
		ip = getenv("TCPREMOTEIP");
		if (proxy) {
			smtpd_io_init(&io, 0, 1, (unsigned)timeout, time(NULL) + (time_t)stimeout);
			r = proxy_line(&io, pip, sizeof pip);
			if (r < 0) {
				fprintf(stderr, "%s: session client=%s end=\"dropped: no PROXY line\"\n",
				        progname, ip && *ip ? ip : "unknown");
				return 0;
			}
			if (r > 0)
				ip = pip;
		}
		cf.client = ip && *ip ? ip : "unknown";
		if (conf_open(&clients, home, "clients") < 0)
			die_sys(EXIT_TEMP, "unable to open etc/clients.cdb");
		r = ip && *ip ? conf_client_lookup(&clients, ip, &cf.action, pfx, sizeof pfx) : 0;
		if (r < 0 && errno != EINVAL)
			die_sys(EXIT_TEMP, "unable to read etc/clients.cdb");
		if (r < 0)
			cf.action = CLIENT_AUTH;   /* not an address: no relay line can match */
		conf_close(&clients);
		cf.auth_plain_ok = plain && loopback(cf.client);
		if (plain && !cf.auth_plain_ok)
			warn_("-p ignored: client %s is not on loopback", cf.client);
	}

	if (!proxy)
		smtpd_io_init(&io, 0, 1, (unsigned)timeout, time(NULL) + (time_t)stimeout);
	/* a backstop for a read stuck inside OpenSSL; the commit is exempt */
	alarm((unsigned)(stimeout + timeout));
	if (!local && cert.len) {
		if (smtpd_tls_setup(&io, cert.p, key.len ? key.p : NULL, err, sizeof err) < 0) {
			if (implicit)
				die(EXIT_TEMP, "%s", err);
			warn_("%s: STARTTLS not offered", err);
		} else {
			cf.tls_ok = 1;
		}
	}
	if (implicit) {
		if (!cf.tls_ok)
			die(EXIT_TEMP, "-s needs the settings smtpd_cert and smtpd_key");
		if (smtpd_tls_start(&io, err, sizeof err) < 0) {
			fprintf(stderr, "%s: session client=%s tls=failed end=\"%s\"\n", progname, cf.client, err);
			return 0;
		}
		cf.implicit_tls = 1;
	}
	w.home = home;
	smtpin_init(&w.in, home, host.p, maxsize);
	smtpd_run(&s, &cf, &io, &h);
	smtpin_free(&w.in);
	smtpd_io_free(&io);
	conf_close(&users);
	buf_free(&host);
	buf_free(&cert);
	buf_free(&key);
	return 0;
}
