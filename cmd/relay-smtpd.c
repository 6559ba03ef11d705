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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/diag.h"
#include "bounce/suppress.h"
#include "bounce/unsub.h"
#include "events/intake.h"   /* events: the suppressed record */
#include "conf/clients.h"
#include "conf/conf.h"
#include "conf/users.h"
#include "intake/smtpin.h"
#include "net/smtpd.h"
#include "queue/queue.h"

#define PROXY_FROM "127.0.0.0/8,::1"   /* also what -p calls loopback */
#define PROXY_SECS 10u                 /* the header comes at once */

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

/* -P: the PROXY header (v1 or v2) a balancer sends first, only from
 * the peers of RELAY_SMTPD_PROXY_FROM (default loopback). 1 and the
 * client's address in ip (or the peer's for LOCAL/UNKNOWN), 0 the
 * connection is dropped (logged). */
static int proxy_header(struct smtpd_io *io, const char *peer, unsigned secs, char *ip, size_t cap)
{
	const char *from = getenv("RELAY_SMTPD_PROXY_FROM"), *why = "untrusted peer";
	struct proxy_hdr h;
	int r = peer && *peer ? conf_cidr_list_match(from && *from ? from : PROXY_FROM, peer) : 0;
	if (r < 0 && errno == EINVAL && peer && *peer)
		why = "RELAY_SMTPD_PROXY_FROM is not a list of prefixes";
	if (r == 1 && (r = smtpd_io_proxy(io, secs, &h, &why)) > 0) {
		snprintf(ip, cap, "%s", h.local ? peer : h.src);
		return 1;
	}
	if (r == PROXY_LONG)
		why = "header over the bound (107 octets v1, 528 v2)";
	fprintf(stderr, "%s: session client=%s end=\"dropped: PROXY: %s\"\n", progname,
	        peer && *peer ? peer : "unknown", why);
	return 0;
}

static int loopback(const char *ip)
{
	return conf_cidr_list_match(PROXY_FROM, ip) == 1;
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
	/* requiretls (issue 15): MAIL REQUIRETLS (RFC 8689), stored as the Q
	 * record; a queue filter that speaks qmail-queue would drop it */
	if (code < 300 && c->prm.requiretls) {
		if (!envelope_dsn_wanted()) {
			w->in.in_txn = 0;
			snprintf(r, cap, "5.5.4 REQUIRETLS cannot be queued here (a queue filter)");
			return 555;
		}
		w->in.e.requiretls = 1;
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
	sr = unsub_suppressed(w->home, w->in.e.rcpt[n], w->in.e.sender, &se);   /* scoped too (RFC 8058) */
	if (sr == 0)
		return code;
	if (sr > 0) {   /* events: the suppressed record */
		events_suppressed(w->home, "relay-smtpd", w->in.e.rcpt[n], w->in.e.sender, se.reason);
		snprintf(r, cap, "5.1.1 <%s> is suppressed (%s)", w->in.e.rcpt[n], se.reason);
	} else {
		snprintf(r, cap, "4.3.0 unable to read the suppression list");
	}
	free(w->in.e.rcpt[n]);
	w->in.e.nrcpt = n;
	return sr > 0 ? 550 : 451;
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
		.hide_user = s->cf->hide_user,
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
	struct buf host = BUF_INIT, cert = BUF_INIT, key = BUF_INIT, state = BUF_INIT;
	struct conf clients, users;
	struct smtpd_conf cf = {0};
	struct smtpd_io io;
	struct smtpd_session s;
	struct wiring w;
	struct smtpd_hooks h = { &w, h_mail, h_rcpt, h_data, h_reset };
	unsigned long maxsize, timeout, stimeout, hide = 0;
	int opt, implicit = 0, plain = 0, proxy = 0, r;
	char err[512], pfx[64], pip[64];
	struct stat st;

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
	if (optind != argc || (proxy && local))
		usage();
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
	/* hide the AUTH user in Received: the setting smtpd_hide_user once
	 * etc/settings knows it (EINVAL until then), or the environment */
	if (conf_setting_number(home, "smtpd_hide_user", &hide) < 0 && errno != EINVAL)
		die_sys(EXIT_TEMP, "unable to read setting smtpd_hide_user from etc/settings.cdb");
	cf.hide_user = hide || (getenv("RELAY_SMTPD_HIDE_USER") &&
	                        strcmp(getenv("RELAY_SMTPD_HIDE_USER"), "1") == 0);
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
			if (!proxy_header(&io, ip, timeout < PROXY_SECS ? (unsigned)timeout : PROXY_SECS,
			                  pip, sizeof pip))
				return 0;
			cf.proxy_peer = ip;
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

	/* a network client must wait for replies where RFC 2920 says so;
	 * a pipe is a local program (sendmail -bs) */
	cf.strict_sync = !local && fstat(0, &st) == 0 && S_ISSOCK(st.st_mode);
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
	if (!local) {
		/* rate= and the tarpit, shared by every session */
		if (buf_adds(&state, home) < 0 || buf_adds(&state, "/state/smtpd") < 0)
			die(EXIT_TEMP, "out of memory");
		cf.state_dir = state.p;
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
	buf_free(&state);
	return 0;
}
