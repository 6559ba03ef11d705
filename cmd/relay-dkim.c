/* relay-dkim: DKIM signer and verifier. Argument handling only; the
 * work is in lib/dkim/. See doc/relay-dkim.8. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "base/bounds.h"
#include "base/buf.h"
#include "base/diag.h"
#include "dkim/dkim.h"
#include "dkim/dkim_serve.h"
#include "base/fileio.h"
#include "base/netstring.h"

#define MSG_MAX (8 * MSG_SIZE_DEFAULT)  /* what one message may be here */
#define SIGS_MAX 8

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-dkim sign -d domain -s selector -k keyfile [-a alg] "
	    "[-s selector -k keyfile [-a alg]]... [-c hcanon/bcanon] [-t time] [-x seconds] "
	    "[-h h:list] [-O names] [-i identity]\n"
	    "       relay-dkim keygen -a rsa|ed25519 -d domain -s selector [-b bits] [-o keyfile]\n"
	    "       relay-dkim verify [-r record]...\n"
	    "       relay-dkim serve [-d home]");
}

static int exit_for(int code) { return code == DKIM_OK ? EXIT_OK : code == DKIM_PERM ? EXIT_PERM : EXIT_TEMP; }

/* The message on stdin; *crlf is set to a copy with every bare LF made
 * CRLF (what the wire will carry), or to the message itself. */
static void read_message(struct buf *m, struct buf *crlf, int *lf_style)
{
	size_t i;
	const char *nl;
	if (read_fd(0, m, MSG_MAX) < 0)
		die_sys(errno == EFBIG ? EXIT_PERM : EXIT_TEMP, "unable to read the message");
	if (!m->p && buf_add(m, "", 0) < 0)
		die_sys(EXIT_TEMP, "out of memory");
	nl = memchr(m->p, '\n', m->len);
	*lf_style = nl && (nl == m->p || nl[-1] != '\r');
	for (i = 0; i < m->len; i++)
		if (m->p[i] == '\n' && (i == 0 || m->p[i - 1] != '\r'))
			break;
	if (i == m->len) {
		*crlf = *m;
		return;
	}
	for (i = 0; i < m->len; i++) {
		if (m->p[i] == '\n' && (i == 0 || m->p[i - 1] != '\r') && buf_addc(crlf, '\r') < 0)
			die_sys(EXIT_TEMP, "out of memory");
		if (buf_addc(crlf, m->p[i]) < 0)
			die_sys(EXIT_TEMP, "out of memory");
	}
}

static int canon_parse(const char *s, int *hc, int *bc)
{
	char h[16], b[16] = "simple";
	if (sscanf(s, "%15[a-z]/%15[a-z]", h, b) < 1)
		return -1;
	*hc = !strcmp(h, "relaxed") ? DKIM_RELAXED : !strcmp(h, "simple") ? DKIM_SIMPLE : -1;
	*bc = !strcmp(b, "relaxed") ? DKIM_RELAXED : !strcmp(b, "simple") ? DKIM_SIMPLE : -1;
	return *hc < 0 || *bc < 0 ? -1 : 0;
}

static long long num(const char *s)
{
	char *e;
	long long v;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (errno || *e || e == s || v < 0)
		die(EXIT_PERM, "bad number: %s", s);
	return v;
}

static int cmd_sign(int argc, char **argv)
{
	const char *sel[SIGS_MAX], *keyf[SIGS_MAX], *alg[SIGS_MAX] = {0};
	int nsel = 0, nkey = 0, nalg = 0, c, i, lf;
	struct dkim_sign_opts o;
	struct buf m = BUF_INIT, crlf = BUF_INIT, out = BUF_INIT;
	char why[512];

	memset(&o, 0, sizeof o);
	o.hcanon = o.bcanon = DKIM_RELAXED;
	o.t = -1;
	while ((c = getopt(argc, argv, "d:s:k:a:c:t:x:h:i:O:")) != -1) {
		switch (c) {
		case 'd': o.domain = optarg; break;
		case 's': if (nsel == SIGS_MAX) usage(); sel[nsel++] = optarg; break;
		case 'k': if (nkey == SIGS_MAX) usage(); keyf[nkey++] = optarg; break;
		case 'a': if (nalg == SIGS_MAX) usage(); alg[nalg++] = optarg; break;
		case 'c': if (canon_parse(optarg, &o.hcanon, &o.bcanon) < 0) die(EXIT_PERM, "bad -c %s", optarg); break;
		case 't': o.t = num(optarg); break;
		case 'x': o.expire = num(optarg); if (!o.expire) die(EXIT_PERM, "-x must be positive"); break;
		case 'h': o.hlist = optarg; break;
		case 'i': o.identity = optarg; break;
		case 'O': o.oversign = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || !o.domain || nsel == 0 || nsel != nkey || nalg > nkey)
		usage();
	read_message(&m, &crlf, &lf);
	for (i = 0; i < nkey; i++) {
		struct dkim_key k;
		int a = 0, r;
		if (alg[i] && !(a = dkim_alg_parse(alg[i])))
			die(EXIT_PERM, "unknown algorithm %s (rsa-sha256 or ed25519-sha256; never rsa-sha1)", alg[i]);
		r = dkim_key_load(&k, keyf[i], a, why, sizeof why);
		if (r != DKIM_OK)
			die(exit_for(r), "%s", why);
		if (k.alg == DKIM_RSA_SHA256 && k.bits < DKIM_RSA_WARN_BITS)
			warn_("key %s has %d bits; 2048 or more is recommended (RFC 8301)", keyf[i], k.bits);
		o.selector = sel[i];
		o.key = &k;
		r = dkim_sign_message(crlf.p, crlf.len, &o, &out, why, sizeof why);
		dkim_key_free(&k);
		if (r != DKIM_OK)
			die(exit_for(r), "not signed: %s", why);
	}
	if (lf) { /* answer in the input's line endings */
		size_t j, o2 = 0;
		for (j = 0; j < out.len; j++)
			if (!(out.p[j] == '\r' && j + 1 < out.len && out.p[j + 1] == '\n'))
				out.p[o2++] = out.p[j];
		out.len = o2;
	}
	if (write_all(1, out.p, out.len) < 0 || write_all(1, m.p, m.len) < 0)
		die_sys(EXIT_TEMP, "unable to write output");
	if (crlf.p != m.p)
		buf_free(&crlf);
	buf_free(&m);
	buf_free(&out);
	return 0;
}

static int cmd_keygen(int argc, char **argv)
{
	const char *dom = NULL, *sel = NULL, *file = NULL;
	char deffile[600], why[512];
	int alg = 0, bits = 2048, c, r;
	struct dkim_key k;
	struct buf rec = BUF_INIT;
	size_t i;

	while ((c = getopt(argc, argv, "a:d:s:b:o:")) != -1) {
		switch (c) {
		case 'a': if (!(alg = dkim_alg_parse(optarg))) die(EXIT_PERM, "unknown algorithm %s", optarg); break;
		case 'd': dom = optarg; break;
		case 's': sel = optarg; break;
		case 'b': bits = (int)num(optarg); break;
		case 'o': file = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || !alg || !dom || !sel)
		usage();
	if (strpbrk(dom, " \t\r\n;\"/") || strpbrk(sel, " \t\r\n;\"/"))
		die(EXIT_PERM, "bad domain or selector");
	if (!file) {
		snprintf(deffile, sizeof deffile, "%s.%s.key", dom, sel);
		file = deffile;
	}
	if (alg == DKIM_RSA_SHA256 && bits < DKIM_RSA_WARN_BITS && bits >= DKIM_RSA_MIN_BITS)
		warn_("%d-bit RSA key: 2048 or more is recommended (RFC 8301)", bits);
	r = dkim_keygen(&k, alg, bits, why, sizeof why);
	if (r != DKIM_OK)
		die(exit_for(r), "%s", why);
	if (dkim_key_record(&k, &rec) < 0)
		die(EXIT_TEMP, "unable to encode the key");
	r = dkim_key_save(&k, file, why, sizeof why);
	if (r != DKIM_OK)
		die(exit_for(r), "%s", why);
	dkim_key_free(&k);
	/* zone file line; strings of at most 255 bytes (RFC 1035 3.3.14) */
	printf("%s._domainkey.%s. IN TXT (", sel, dom);
	for (i = 0; i < rec.len; i += 255)
		printf(" \"%.*s\"", (int)(rec.len - i < 255 ? rec.len - i : 255), rec.p + i);
	printf(" )\n");
	buf_free(&rec);
	if (fflush(stdout) != 0)
		die_sys(EXIT_TEMP, "unable to write output");
	return 0;
}

struct records {
	const char *r[SIGS_MAX];
	int n;
};

static int given_key(void *ctx, const char *selector, const char *domain, struct buf *out)
{
	struct records *rs = ctx;
	int i;
	for (i = 0; i < rs->n; i++)
		if (buf_add(out, rs->r[i], strlen(rs->r[i]) + 1) < 0)
			return DKIM_TEMP;
	return rs->n ? DKIM_OK : DKIM_PERM;
}

static int cmd_verify(int argc, char **argv)
{
	struct records rs = {{0}, 0};
	struct buf m = BUF_INIT, crlf = BUF_INIT, rep = BUF_INIT;
	int c, lf, r;
	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r' || rs.n == SIGS_MAX)
			usage();
		rs.r[rs.n++] = optarg;
	}
	if (optind != argc)
		usage();
	read_message(&m, &crlf, &lf);
	if (rs.n)
		r = dkim_verify_message(crlf.p, crlf.len, given_key, &rs, time(NULL), &rep);
	else
		r = dkim_verify_message(crlf.p, crlf.len, dkim_dns_key, NULL, time(NULL), &rep);
	if (write_all(1, rep.p, rep.len) < 0)
		die_sys(EXIT_TEMP, "unable to write output");
	if (crlf.p != m.p)
		buf_free(&crlf);
	buf_free(&m);
	buf_free(&rep);
	return exit_for(r);
}

static int cmd_serve(int argc, char **argv)
{
	const char *home = getenv("RELAY_HOME");
	const char *t = getenv("RELAY_DKIM_TIME"); /* tests: a fixed t= */
	struct dkim_server s;
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int c, r;
	while ((c = getopt(argc, argv, "d:")) != -1) {
		if (c != 'd')
			usage();
		home = optarg;
	}
	if (optind != argc)
		usage();
	if (!home || !*home)
		home = "/var/relay";
	signal(SIGPIPE, SIG_IGN);
	dkim_server_init(&s, home);
	if (t)
		s.t = num(t);
	for (;;) {
		r = netstring_read(0, &req, MSG_MAX);
		if (r == 1)
			break;
		if (r < 0 && errno == EFBIG) {
			resp.len = 0;
			buf_printf(&resp, "Dmessage larger than %lu bytes", (unsigned long)MSG_MAX);
		} else if (r < 0) {
			die_sys(EXIT_TEMP, "unable to read a request");
		} else {
			dkim_server_handle(&s, req.p, req.len, &resp);
		}
		if (netstring_write(1, resp.p, resp.len) < 0)
			die_sys(EXIT_TEMP, "unable to write a response");
	}
	dkim_server_free(&s);
	buf_free(&req);
	buf_free(&resp);
	return 0;
}

int main(int argc, char **argv)
{
	diag_init("relay-dkim");
	if (sodium_init() < 0)
		die(EXIT_TEMP, "libsodium failed to initialize");
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "sign"))
		return cmd_sign(argc - 1, argv + 1);
	if (!strcmp(argv[1], "keygen"))
		return cmd_keygen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	usage();
}
