/* relay-config -i: a new relay home (etc/ with commented examples of
 * every table, queue/, state/), compiled at the end. */
#include "conf/conf.h"
#include "conf/confmake.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fileio.h"

static const char ex_pools[] =
"# etc/pools: NAME STRATEGY MEMBER...        (relay-config(8))\n"
"#   STRATEGY: failover | roundrobin | weighted\n"
"#   MEMBER:   host[:port][*weight] (port 25 if left out; weight only with\n"
"#             weighted), or the word mx (deliver directly to the MX)\n"
"#\n"
"#smarthosts  failover   smtp1.example.net:587 smtp2.example.net:587\n"
"#spread      weighted   a.example.net:587*3 b.example.net:587*1\n"
"#direct      failover   mx\n";

static const char ex_routes[] =
"# etc/routes: KEY POOL          (first match wins, in this order:)\n"
"#   from:user@domain   from:@domain   class:NAME   to:domain   default\n"
"# Mail that matches no route goes directly to the recipient's MX.\n"
"#\n"
"#from:alerts@example.com  direct\n"
"#class:bulk               spread\n"
"#to:example.org           direct\n"
"#default                  smarthosts\n";

static const char ex_auth[] =
"# etc/auth: host:port USER PASSWORD      (this file must be mode 0600)\n"
"#   The password runs to the end of the line and may contain spaces.\n"
"#   AUTH is only ever sent over TLS.\n"
"#\n"
"#smtp1.example.net:587  relayuser  correct horse battery staple\n";

static const char ex_source[] =
"# etc/source: member [bind=ADDR[*W],...] [helo=NAME] [family=inet|inet6|any]\n"
"#   member: host:port of a relay, or mx (direct delivery)\n"
"#   bind=: source addresses, used in turn (ADDR*W: W times as often)\n"
"#   helo=: the EHLO name for them (checked against DNS at start)\n"
"#\n"
"#mx                    bind=192.0.2.10,192.0.2.11 helo=out.example.com\n"
"#smtp1.example.net:587 family=inet\n";

static const char ex_tls[] =
"# etc/tls: host:port-or-domain MODE [smtps] [ca=FILE]\n"
"#   MODE: none | may | encrypt | verify | dane | dane-only\n"
"#   smtps: TLS from the first byte (port 465), needs encrypt or verify\n"
"#   ca=FILE: trust these CAs (absolute or relative to etc/), needs verify\n"
"#   Default without an entry: port 465 verify smtps, else may.\n"
"#\n"
"#smtp1.example.net:587    verify\n"
"#smtp2.example.net:465    verify smtps\n"
"#127.0.0.1:2525           verify ca=test-ca.pem\n"
"#example.org              encrypt\n";

static const char ex_dkim[] =
"# etc/dkim: DOMAIN SELECTOR KEYFILE [rsa-sha256 | ed25519-sha256]\n"
"#   One line per signature; a domain may have several (RSA and Ed25519).\n"
"#   KEYFILE is absolute or relative to etc/; default rsa-sha256.\n"
"#\n"
"#example.com  rsa2026  dkim/example.com.rsa.pem\n"
"#example.com  ed2026   dkim/example.com.ed25519  ed25519-sha256\n";

static const char ex_limits[] =
"# etc/limits: host:port-or-domain [concurrency=N] [rate=N/s|N/m|N/h]\n"
"#\n"
"#smtp1.example.net:587  concurrency=10 rate=100/m\n"
"#gmail.com              concurrency=5\n";

static const char ex_retry[] =
"# etc/retry: CLASS [schedule=D,D,...] [lifetime=D] [priority=N] [reserve=N|N%]   D: 30s 5m 2h 5d 1w\n"
"#   The last interval repeats until the lifetime ends. What is left out\n"
"#   comes from the built-in schedule (relay-config(8)):\n"
"#\n"
"#transactional  schedule=1m,2m,5m,10m,30m,1h   lifetime=1d\n"
"#bulk           schedule=30m,1h,2h,4h,8h       lifetime=3d\n"
"#default        schedule=5m,15m,30m,1h,2h,4h   lifetime=5d\n";

/* issue 11: sendmail's local names */
static const char ex_aliases[] =
"# etc/aliases: NAME: ADDRESS, ADDRESS...   (or NAME ADDRESS ...)\n"
"#   Mail to a local name (no domain, or @hostname) from relay-inject\n"
"#   (sendmail) goes to these addresses instead. A target may be another\n"
"#   name. No programs, files or :include:: relay delivers nothing here.\n"
"#   Compile with newaliases (or relay-config); without an entry a local\n"
"#   name is sent on as name@hostname.\n"
"#\n"
"#postmaster:     root\n"
"#MAILER-DAEMON:  postmaster\n"
"#www-data:       root\n"
"#root:           ops@example.com\n";

/* relay-smtpd's tables */
static const char ex_clients[] =
"# etc/clients: CIDR ACTION     (relay-smtpd; the longest prefix wins)\n"
"#   ACTION: relay (may relay without AUTH) | auth (must AUTH) | deny\n"
"#   No table or no matching line: auth. Nothing relays without a relay\n"
"#   line or a successful AUTH.\n"
"#\n"
"#127.0.0.1/32     relay\n"
"#10.1.2.0/24      relay\n"
"#192.0.2.0/24     deny\n"
"#2001:db8::/32    auth\n";
/* issue 13: relay-httpd's tokens (conf/apikeys.h) */
static const char ex_apikeys[] =
"# etc/apikeys: NAME SHA256 [from=PATTERN,...] [class=NAME] [rate=N/m|N/h|N/d]\n"
"# relay-httpd's bearer tokens; add one with: relay-config apikey NAME [from=...]\n"
"# (it prints the token once and appends the digest here)\n";

static const char ex_users[] =
"# etc/users: USER HASH [from=PATTERN,...] [class=NAME] [rate=N/m|N/h|N/d]\n"
"#   HASH: the line relay-config passwd USER prints (Argon2id).\n"
"#   from=: the senders the user may use: @example.com, alice@example.org\n"
"#\n"
"#app1  $argon2id$v=19$m=65536,t=2,p=1$...  from=@example.com class=transactional\n";
static const char ex_settings_head[] =
"# etc/settings: KEY VALUE        (unknown keys are errors)\n"
"#   hostname    name in Message-ID, Received and EHLO (default: this host)\n"
"#   helo        EHLO name (default: hostname)\n"
"#   postmaster  address told of double bounces (default: postmaster@hostname)\n"
"#   maxsize     message size limit in bytes (default 33554432)\n"
"#   concurrency deliveries in flight at once (default 20)\n"
"#   dns_config  unbound config file for tests (default: system resolver)\n"
"#   bounce_delay_warning  delay before a \"delayed\" DSN (default 4h; 0s: none)\n"
"#   suppression_expiry    how long a hard-bounced address is suppressed (default 90d)\n"
"#   bounce_size_limit     bytes of the original message in a DSN (default 50000)\n"
"#   hopcount_limit        Received: lines past which a bounce is a loop (default 100)\n"
"#   smtp_timeout          one timeout for every SMTP stage (default 0s: RFC 5321's)\n"
"#\n";

static int mkdir_mode(const char *path, mode_t mode, int *made)
{
	struct stat st;
	if (mkdir(path, mode) == 0) {
		if (made)
			*made = 1;
		return chmod(path, mode); /* not the umask */
	}
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static int mkdir_at(const char *dir, const char *sub, mode_t mode)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s/%s", dir, sub) >= (int)sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdir_mode(p, mode, NULL) < 0) {
		warn_sys("unable to make %s", p);
		return -1;
	}
	return 0;
}

static int buckets(const char *dir, const char *sub)
{
	char p[PATH_MAX], b[8];
	int i;
	conf_pathf(p, sizeof p, "%s/%s", dir, sub);
	for (i = 0; i < 256; i++) {
		snprintf(b, sizeof b, "%02x", i);
		if (mkdir_at(p, b, 0750) < 0)
			return -1;
	}
	if (fsync_dir(p) < 0) {
		warn_sys("unable to sync %s", p);
		return -1;
	}
	return 0;
}

int conf_init_home(const char *dir, int force)
{
	static const char *const ex[T_N] = { ex_pools, ex_routes, ex_auth, ex_tls,
		ex_dkim, ex_limits, ex_retry, NULL, ex_aliases, ex_clients, ex_users,
		ex_apikeys /* issue 13 */, ex_source /* issue 15 */ };
	char etc[PATH_MAX], p[PATH_MAX], host[256];
	struct buf settings = BUF_INIT;
	struct stat st;
	int i, have = 0;

	if (strlen(dir) > PATH_MAX - 64 || conf_pathf(etc, sizeof etc, "%s/etc", dir) < 0) {
		errno = ENAMETOOLONG;
		warn_sys("unable to use %s", dir);
		return -1;
	}
	if (mkdir_mode(dir, 0755, NULL) < 0) {
		warn_sys("unable to make %s", dir);
		return -1;
	}
	for (i = 0; i < T_N; i++) {
		conf_pathf(p, sizeof p, "%s/%s", etc, conf_tables[i]);
		if (lstat(p, &st) == 0)
			have = 1;
		conf_pathf(p, sizeof p, "%s/%s.cdb", etc, conf_tables[i]);
		if (lstat(p, &st) == 0)
			have = 1;
	}
	if (have && !force) {
		fprintf(stderr, "%s: error: %s already has tables; not changing it "
		        "(-f adds only what is missing)\n", progname, etc);
		return 1;
	}
	if (mkdir_mode(etc, 0755, NULL) < 0) {
		warn_sys("unable to make %s", etc);
		return -1;
	}
	/* settings: the host name is filled in but left commented, so that
	 * one "hostname" line added later is not a duplicate. */
	if (gethostname(host, sizeof host) < 0 || !host[0])
		strcpy(host, "localhost");
	host[sizeof host - 1] = 0;
	{
		char safe[256];
		safe_text(safe, sizeof safe, host, strlen(host));
		if (buf_adds(&settings, ex_settings_head) < 0 ||
		    buf_printf(&settings, "#hostname     %s\n#helo         %s\n"
		               "#postmaster   postmaster@%s\n#maxsize      33554432\n"
		               "#concurrency  20\n#bounce_delay_warning  4h\n"
		               "#suppression_expiry    90d\n#bounce_size_limit     50000\n"
		               "#hopcount_limit        100\n#smtp_timeout          0s\n",
		               safe, safe, safe) < 0) {
			buf_free(&settings);
			warn_sys("unable to make settings");
			return -1;
		}
	}
	for (i = 0; i < T_N; i++) {
		const char *text = ex[i] ? ex[i] : settings.p;
		conf_pathf(p, sizeof p, "%s/%s", etc, conf_tables[i]);
		if (lstat(p, &st) == 0)
			continue; /* -f: keep what the operator has */
		if (atomic_write(p, text, strlen(text), i == T_AUTH || i == T_USERS ? 0600 : 0644) < 0) {
			warn_sys("unable to write %s", p);
			buf_free(&settings);
			return -1;
		}
	}
	buf_free(&settings);
	if (mkdir_at(dir, "queue", 0750) < 0 || mkdir_at(dir, "queue/tmp", 0700) < 0 ||
	    mkdir_at(dir, "queue/msg", 0750) < 0 || mkdir_at(dir, "queue/info", 0750) < 0 ||
	    mkdir_at(dir, "queue/hold", 0750) < 0 || mkdir_at(dir, "queue/corrupt", 0750) < 0 ||
	    buckets(dir, "queue/msg") < 0 || buckets(dir, "queue/info") < 0 ||
	    mkdir_at(dir, "state", 0750) < 0)
		return -1;
	conf_pathf(p, sizeof p, "%s/queue", dir);
	if (fsync_dir(p) < 0 || fsync_dir(dir) < 0) {
		warn_sys("unable to sync %s", dir);
		return -1;
	}
	return conf_compile(dir, 0);
}
