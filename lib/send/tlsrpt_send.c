/* TLS-RPT: relay-qctl tls-report, and sending the reports (RFC 8460 3,
 * 5): mailto: through the queue (relay-queue, as relay-inject hands a
 * message over), https: a POST with libcurl. See tlsrpt.h. */
#include "send/tlsrpt.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/diag.h"
#include "base/fileio.h"
#include "conf/settings.h"
#include "intake/addr.h"
#include "intake/msg.h"
#include "intake/submit.h"
#include "net/dns.h"

/* ---- gzip (RFC 1952) of stored deflate blocks (RFC 1951 3.2.4): a
 * valid gzip member without a compressor; reports are small ---- */

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;
	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return c ^ 0xffffffffu;
}

static int gzip_stored(const void *data, size_t n, struct buf *out)
{
	static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };
	const unsigned char *p = data;
	uint32_t crc = crc32_of(p, n);
	size_t off = 0;
	int r = buf_add(out, hdr, sizeof hdr);
	do {
		size_t len = n - off > 65535 ? 65535 : n - off;
		unsigned char b[5];
		b[0] = off + len == n ? 1 : 0;   /* BFINAL, BTYPE 00 */
		b[1] = (unsigned char)(len & 0xff);
		b[2] = (unsigned char)(len >> 8);
		b[3] = (unsigned char)(~len & 0xff);
		b[4] = (unsigned char)((~len >> 8) & 0xff);
		r |= buf_add(out, b, 5) | buf_add(out, p + off, len);
		off += len;
	} while (off < n);
	{
		unsigned char t[8];
		uint32_t sz = (uint32_t)n;
		int i;
		for (i = 0; i < 4; i++) {
			t[i] = (unsigned char)(crc >> (8 * i));
			t[4 + i] = (unsigned char)(sz >> (8 * i));
		}
		r |= buf_add(out, t, 8);
	}
	return r ? -1 : 0;
}

/* ---- mailto: ---- */

static int mail_report(const char *uri, const char *domain, const char *org, const char *from,
                       const char *day, const char *id, const struct buf *gz, char *err, size_t cap)
{
	char to[TLSRPT_URI_MAX + 1], date[64], *q;
	const char *why;
	struct buf m = BUF_INIT, b64 = BUF_INIT, env = BUF_INIT;
	struct submit s;
	char *rcpt[1];
	size_t i;
	int r = 0, rc;
	snprintf(to, sizeof to, "%s", uri + 7);
	if ((q = strchr(to, '?')))
		*q = 0;   /* mailto: header fields (RFC 6068) are not used */
	if (addr_check(to, strlen(to), 0, &why) != ADDR_OK) {
		snprintf(err, cap, "%s: not an address: %s", uri, why);
		return EXIT_PERM;
	}
	msg_date(date, sizeof date, (long long)time(NULL));
	if (base64_encode(&b64, gz->p, gz->len) < 0)
		return EXIT_TEMP;
	r |= buf_printf(&m, "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n", from, to, date);
	r |= buf_printf(&m, "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n", domain, org, id);
	r |= buf_printf(&m, "Message-ID: <%s>\r\nTLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n",
	                id, domain, org);
	r |= buf_printf(&m, "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	                "\tboundary=\"tlsrpt-%s\"\r\n\r\n", id);
	r |= buf_printf(&m, "--tlsrpt-%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	                "This is an aggregate TLS report (RFC 8460) from %s for %s, %s.\r\n\r\n",
	                id, org, domain, day);
	r |= buf_printf(&m, "--tlsrpt-%s\r\nContent-Type: application/tlsrpt+gzip\r\n"
	                "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n"
	                "\tfilename=\"%s!%s!%sT00:00:00Z!%sT23:59:59Z.json.gz\"\r\n\r\n",
	                id, org, domain, day, day);
	for (i = 0; i < b64.len; i += 76) {
		r |= buf_add(&m, b64.p + i, b64.len - i > 76 ? 76 : b64.len - i);
		r |= buf_add(&m, "\r\n", 2);
	}
	r |= buf_printf(&m, "\r\n--tlsrpt-%s--\r\n", id);
	rcpt[0] = to;
	r |= submit_envelope(&env, NULL, "", rcpt, 1);   /* the null sender: no bounce loops */
	buf_free(&b64);
	if (r) {
		buf_free(&m);
		buf_free(&env);
		return EXIT_TEMP;
	}
	rc = submit(&s, m.p, m.len, env.p, env.len, 1);
	if (rc)
		submit_describe(&s, err, cap);
	else
		snprintf(err, cap, "queued as %s", s.id);
	buf_free(&m);
	buf_free(&env);
	return rc;
}

/* ---- https: ---- */

static size_t discard(char *p, size_t sz, size_t nm, void *arg) { return sz * nm; }

/* The host and port of an https: URI, for relay's resolver. 0 or -1. */
static int uri_host(const char *uri, char *host, size_t cap, unsigned *port)
{
	const char *h = uri + 8, *e = h;
	*port = 443;
	if (*h == '[')
		return -1;   /* an address literal: curl needs no name */
	while (*e && *e != '/' && *e != ':' && *e != '?' && *e != '#')
		e++;
	if (e == h || (size_t)(e - h) >= cap || memchr(h, '@', (size_t)(e - h)))
		return -1;
	memcpy(host, h, (size_t)(e - h));
	host[e - h] = 0;
	if (*e == ':')
		*port = (unsigned)strtoul(e + 1, NULL, 10);
	return *port && *port < 65536 ? 0 : -1;
}

static int post_report(struct dns_ctx *dns, const char *uri, const char *ca, const struct buf *gz,
                       char *err, size_t cap)
{
	struct curl_slist *h = NULL, *resolve = NULL;
	struct dns_addr addrs[DNS_ADDRS_MAX];
	char host[256];
	unsigned port;
	size_t na = 0, i;
	long code = 0;
	CURLcode rc;
	CURL *c;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(c = curl_easy_init())) {
		snprintf(err, cap, "cannot start libcurl");
		return EXIT_TEMP;
	}
	/* the name through relay's resolver (dns_config), as for MTA-STS */
	if (uri_host(uri, host, sizeof host, &port) == 0 &&
	    dns_addrs(dns, host, addrs, DNS_ADDRS_MAX, &na, err, cap) == DNS_OK) {
		for (i = 0; i < na; i++) {
			char a[INET6_ADDRSTRLEN], r[400];
			const struct sockaddr *sa = (const struct sockaddr *)&addrs[i].sa;
			if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof a);
			else
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof a);
			snprintf(r, sizeof r, sa->sa_family == AF_INET6 ? "%s:%u:[%s]" : "%s:%u:%s", host, port, a);
			resolve = curl_slist_append(resolve, r);
		}
	}
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	h = curl_slist_append(h, "Content-Type: application/tlsrpt+gzip");
	curl_easy_setopt(c, CURLOPT_URL, uri);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, gz->p);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)gz->len);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca && *ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "relay TLS-RPT");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	curl_slist_free_all(resolve);
	if (rc != CURLE_OK) {
		snprintf(err, cap, "%s: %s", uri, curl_easy_strerror(rc));
		return EXIT_TEMP;
	}
	if (code / 100 != 2) {
		snprintf(err, cap, "%s: HTTP status %ld", uri, code);
		return code / 100 == 4 ? EXIT_PERM : EXIT_TEMP;
	}
	snprintf(err, cap, "HTTP status %ld", code);
	return 0;
}

/* ---- relay-qctl tls-report ---- */

static void setting(const char *home, const char *key, char *out, size_t cap)
{
	struct buf v = BUF_INIT;
	out[0] = 0;
	if (conf_setting_value(home, key, &v) > 0 && v.p)
		snprintf(out, cap, "%s", v.p);
	buf_free(&v);
}

static int sent_before(const struct buf *sent, const char *domain, const char *uri)
{
	char l[700];
	snprintf(l, sizeof l, "%s %s\n", domain, uri);
	return sent->p && strstr(sent->p, l) != NULL;
}

int tlsrpt_cmd(const char *home, int argc, char **argv)
{
	struct tlsrpt_day d;
	char dir[4096], day[11], host[256], org[256], contact[320], ca[4096], cfg[4096], e[512];
	int json = 0, send = 0, rc = 0, i;
	size_t k, j;
	const char *dayarg = NULL;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--send"))
			send = 1;
		else if (!strcmp(argv[i], "--day") && i + 1 < argc)
			dayarg = argv[++i];
		else {
			warn_("usage: relay-qctl tls-report [--json | --send] [--day YYYY-MM-DD]");
			return EXIT_PERM;
		}
	}
	tlsrpt_day_name(time(NULL) - (send ? 86400 : 0), day);
	if (dayarg) {
		if (strlen(dayarg) != 10 || dayarg[4] != '-' || dayarg[7] != '-' ||
		    strspn(dayarg, "0123456789-") != 10) {
			warn_("--day wants YYYY-MM-DD: %s", dayarg);
			return EXIT_PERM;
		}
		memcpy(day, dayarg, 11);
	}
	snprintf(dir, sizeof dir, "%s/state/mta-sts", home);
	if (tlsrpt_day_read(dir, day, &d) < 0) {
		warn_sys("unable to read %s/.tls-rpt-%s", dir, day);
		return EXIT_TEMP;
	}
	setting(home, "hostname", host, sizeof host);
	if (!host[0] && gethostname(host, sizeof host - 1) < 0)
		snprintf(host, sizeof host, "localhost");
	snprintf(org, sizeof org, "%s", host);
	setting(home, "postmaster", contact, sizeof contact);
	if (!contact[0])
		snprintf(contact, sizeof contact, "postmaster@%s", host);
	if (!json && !send) {
		for (k = 0; k < d.n; k++)
			printf("day=%s domain=%s policy-type=%s successful=%lu failed=%lu\n", day,
			       d.p[k].domain, d.p[k].ptype, d.p[k].ok, d.p[k].failed);
		tlsrpt_day_free(&d);
		return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
	}
	{
		struct dns_ctx *dns = NULL;
		struct buf sent = BUF_INIT;
		char sentpath[4200];
		snprintf(sentpath, sizeof sentpath, "%s/.tls-rpt-%s.sent", dir, day);
		if (send) {
			setting(home, "dns_config", cfg, sizeof cfg);
			setting(home, "mta_sts_ca", ca, sizeof ca);
			if (!(dns = dns_new(cfg[0] ? cfg : NULL, e, sizeof e))) {
				warn_("%s", e);
				tlsrpt_day_free(&d);
				return EXIT_TEMP;
			}
			if (read_file(sentpath, &sent, 1 << 20) < 0 && errno != ENOENT) {
				warn_sys("unable to read %s", sentpath);
				rc = EXIT_TEMP;
				goto done;
			}
			if (buf_addc(&sent, 0) < 0)
				goto done;
			signal(SIGPIPE, SIG_IGN);
		}
		for (k = 0; k < d.n; k++) {
			struct buf rep = BUF_INIT, gz = BUF_INIT;
			struct tlsrpt_txt t;
			struct dns_txt txt;
			char name[300], id[600];
			/* one report per domain, at its first policy type */
			for (j = 0; j < k && strcmp(d.p[j].domain, d.p[k].domain); j++)
				;
			if (j < k)
				continue;
			snprintf(id, sizeof id, "%s.%s@%s", day, d.p[k].domain, host);
			if (tlsrpt_report_json(&d, d.p[k].domain, org, contact, id, dir, &rep) < 0) {
				buf_free(&rep);
				rc = EXIT_TEMP;
				continue;
			}
			if (!send) {
				fwrite(rep.p, 1, rep.len, stdout);
				putchar('\n');
				buf_free(&rep);
				continue;
			}
			snprintf(name, sizeof name, "_smtp._tls.%s", d.p[k].domain);
			e[0] = 0;
			i = dns_txt(dns, name, "v=TLSRPTv1", &txt, e, sizeof e);
			if (i == DNS_TEMP) {
				warn_("%s: TXT lookup failed: %s", name, e);
				rc = EXIT_TEMP;
			} else if (i == DNS_OK && txt.n == 1 &&
			           tlsrpt_txt_parse(txt.text, strlen(txt.text), &t) == 0 &&
			           gzip_stored(rep.p, rep.len, &gz) == 0) {
				for (j = 0; j < t.n; j++) {
					int r;
					if (sent_before(&sent, d.p[k].domain, t.rua[j]))
						continue;
					r = !strncasecmp(t.rua[j], "mailto:", 7) ?
					    mail_report(t.rua[j], d.p[k].domain, org, contact, day, id, &gz, e, sizeof e) :
					    post_report(dns, t.rua[j], ca, &gz, e, sizeof e);
					printf("tls-report day=%s domain=%s rua=%s result=%s (%s)\n", day, d.p[k].domain,
					       t.rua[j], r == 0 ? "sent" : r == EXIT_PERM ? "failed" : "deferred", e);
					if (r == 0 || r == EXIT_PERM) {
						/* done either way: a permanent failure is not retried */
						char l[700];
						int n = snprintf(l, sizeof l, "%s %s\n", d.p[k].domain, t.rua[j]);
						int fd = open(sentpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
						if (fd < 0 || write_all(fd, l, (size_t)n) < 0 || fsync(fd) < 0)
							rc = EXIT_TEMP;
						if (fd >= 0)
							close(fd);
					} else
						rc = EXIT_TEMP;
				}
			}
			buf_free(&rep);
			buf_free(&gz);
		}
	done:
		if (dns)
			dns_free(dns);
		buf_free(&sent);
	}
	tlsrpt_day_free(&d);
	return fflush(stdout) == 0 ? rc : EXIT_TEMP;
}
