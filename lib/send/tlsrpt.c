/* TLS-RPT (RFC 8460): the day's records and the report; see tlsrpt.h. */
#include "send/tlsrpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/json.h"
#include "net/mtasts.h"

/* ---- one session's outcome ---- */

const char *tlsrpt_policy_type(const char *policy)
{
	if (!strcmp(policy, "dane"))
		return "tlsa";
	if (!strncmp(policy, "mta-sts", 7))
		return "sts";
	return "no-policy-found";
}

const char *tlsrpt_result_type(const char *policy, const struct smtp_result *err)
{
	const char *t = err->text;
	if (strstr(t, "STARTTLS not offered") || strstr(t, "STARTTLS refused"))
		return "starttls-not-supported";
	if (strstr(t, "TLSA lookup"))
		return "dnssec-invalid";
	if (strstr(t, "dane-only"))
		return "dane-required";
	if (strstr(t, "no usable TLSA"))
		return "tlsa-invalid";
	if (strstr(t, "certificate verify failed")) {
		if (!strcmp(policy, "dane"))
			return "validation-failure";
		if (strcasestr(t, "hostname mismatch"))
			return "certificate-host-mismatch";
		if (strcasestr(t, "expired"))
			return "certificate-expired";
		return "certificate-not-trusted";
	}
	if (!strcmp(err->stage, "tls") || !strcmp(err->stage, "starttls"))
		return "validation-failure";
	return NULL;
}

void tlsrpt_day_name(time_t t, char out[11])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* A field for a line: no white space or control bytes, at most cap-1. */
static void field(char *out, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s && *s && i + 1 < cap; s++)
		out[i++] = (unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ? '_' : *s;
	if (!i)
		out[i++] = '-';
	out[i] = 0;
}

void tlsrpt_note(const char *dir, const char *domain, const char *policy, const char *mx,
                 const char *peer, const struct smtp_result *err, time_t now)
{
	char path[4200], day[11], d[256], m[256], ip[64], line[800];
	const char *result = "ok";
	int fd, l;
	if (!dir || !*dir)
		return;
	if (err && !(result = tlsrpt_result_type(policy, err)))
		return;   /* not a TLS outcome */
	tlsrpt_day_name(now, day);
	if (snprintf(path, sizeof path, "%s/.tls-rpt-%s", dir, day) >= (int)sizeof path)
		return;
	field(d, sizeof d, domain);
	field(m, sizeof m, mx);
	field(ip, sizeof ip, peer);
	/* "127.0.0.1:25" or "[::1]:25": the address alone */
	if (ip[0] == '[') {
		char *e = strchr(ip, ']');
		if (e) {
			*e = 0;
			memmove(ip, ip + 1, strlen(ip + 1) + 1);
		}
	} else {
		char *c = strrchr(ip, ':');
		if (c && c == strchr(ip, ':'))
			*c = 0;
	}
	l = snprintf(line, sizeof line, "%lld %s %s %s %s %s\n", (long long)now, d,
	             tlsrpt_policy_type(policy), result, m, ip);
	if (l <= 0 || l >= (int)sizeof line)
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return;
	if (write(fd, line, (size_t)l) != l) {
		/* best effort: the report is short of one session */
	}
	close(fd);
}

/* ---- the day ---- */

static struct tlsrpt_pol *pol(struct tlsrpt_day *d, const char *domain, const char *ptype)
{
	size_t i;
	struct tlsrpt_pol *n;
	for (i = 0; i < d->n; i++)
		if (!strcmp(d->p[i].domain, domain) && !strcmp(d->p[i].ptype, ptype))
			return &d->p[i];
	if (!(n = realloc(d->p, (d->n + 1) * sizeof *n)))
		return NULL;
	d->p = n;
	n = &d->p[d->n++];
	memset(n, 0, sizeof *n);
	snprintf(n->domain, sizeof n->domain, "%s", domain);
	snprintf(n->ptype, sizeof n->ptype, "%s", ptype);
	return n;
}

static int fail(struct tlsrpt_pol *p, const char *result, const char *mx, const char *ip)
{
	size_t i;
	struct tlsrpt_fail *n;
	for (i = 0; i < p->nf; i++)
		if (!strcmp(p->f[i].result, result) && !strcmp(p->f[i].mx, mx) && !strcmp(p->f[i].ip, ip)) {
			p->f[i].n++;
			return 0;
		}
	if (!(n = realloc(p->f, (p->nf + 1) * sizeof *n)))
		return -1;
	p->f = n;
	n = &p->f[p->nf++];
	memset(n, 0, sizeof *n);
	snprintf(n->result, sizeof n->result, "%s", result);
	snprintf(n->mx, sizeof n->mx, "%s", mx);
	snprintf(n->ip, sizeof n->ip, "%s", ip);
	n->n = 1;
	return 0;
}

int tlsrpt_day_read(const char *dir, const char *day, struct tlsrpt_day *d)
{
	char path[4200];
	struct buf b = BUF_INIT;
	char *p, *nl;
	memset(d, 0, sizeof *d);
	snprintf(d->day, sizeof d->day, "%.10s", day);
	if (snprintf(path, sizeof path, "%s/.tls-rpt-%s", dir, day) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (read_file(path, &b, 512UL * 1024 * 1024) < 0) {
		buf_free(&b);
		return errno == ENOENT ? 0 : -1;
	}
	if (buf_addc(&b, 0) < 0) {
		buf_free(&b);
		return -1;
	}
	for (p = b.p; (nl = strchr(p, '\n')); p = nl + 1) {
		char dom[256], pt[20], res[32], mx[256], ip[64];
		long long t;
		struct tlsrpt_pol *q;
		*nl = 0;
		if (sscanf(p, "%lld %255s %19s %31s %255s %63s", &t, dom, pt, res, mx, ip) != 6)
			continue;   /* a torn or foreign line */
		if (strcmp(pt, "sts") && strcmp(pt, "tlsa") && strcmp(pt, "no-policy-found"))
			continue;
		if (!(q = pol(d, dom, pt)))
			goto nomem;
		if (!strcmp(res, "ok"))
			q->ok++;
		else {
			q->failed++;
			if (fail(q, res, mx, ip) < 0)
				goto nomem;
		}
	}
	buf_free(&b);
	return 0;
nomem:
	buf_free(&b);
	tlsrpt_day_free(d);
	errno = ENOMEM;
	return -1;
}

void tlsrpt_day_free(struct tlsrpt_day *d)
{
	size_t i;
	for (i = 0; i < d->n; i++)
		free(d->p[i].f);
	free(d->p);
	d->p = NULL;
	d->n = 0;
}

/* ---- the report (RFC 8460 4.4) ---- */

static int js(struct buf *o, const char *s) { return json_str(o, s, strlen(s)); }

static int sts_strings(struct buf *o, const char *sts_dir, const char *domain)
{
	char path[4400];
	struct buf b = BUF_INIT;
	struct mtasts_policy p;
	size_t i;
	int r = 0, ok;
	if (!sts_dir || !*sts_dir || snprintf(path, sizeof path, "%s/%s", sts_dir, domain) >= (int)sizeof path)
		return 0;
	ok = read_file(path, &b, 8192) == 0 && b.len && b.p[b.len - 1] == '\n';
	if (ok) {
		b.p[b.len - 1] = 0;
		ok = mtasts_unformat(b.p, &p) == 0;
	}
	buf_free(&b);
	if (!ok)
		return 0;
	r |= buf_printf(o, ",\"policy-string\":[\"version: STSv1\",\"mode: %s\"",
	                p.mode == MTASTS_ENFORCE ? "enforce" : p.mode == MTASTS_TESTING ? "testing" : "none");
	for (i = 0; i < p.nmx; i++) {
		char l[300];
		snprintf(l, sizeof l, "mx: %s", p.mx[i]);
		r |= buf_addc(o, ',') | js(o, l);
	}
	r |= buf_printf(o, ",\"max_age: %ld\"],\"mx-host\":[", p.max_age);
	for (i = 0; i < p.nmx; i++)
		r |= (i ? buf_addc(o, ',') : 0) | js(o, p.mx[i]);
	r |= buf_addc(o, ']');
	return r ? -1 : 0;
}

int tlsrpt_report_json(const struct tlsrpt_day *d, const char *domain, const char *org,
                       const char *contact, const char *report_id, const char *sts_dir,
                       struct buf *o)
{
	size_t i, k, seen = 0;
	int r = 0;
	r |= buf_adds(o, "{\"organization-name\":") | js(o, org);
	r |= buf_printf(o, ",\"date-range\":{\"start-datetime\":\"%sT00:00:00Z\","
	                "\"end-datetime\":\"%sT23:59:59Z\"}", d->day, d->day);
	r |= buf_adds(o, ",\"contact-info\":") | js(o, contact);
	r |= buf_adds(o, ",\"report-id\":") | js(o, report_id);
	r |= buf_adds(o, ",\"policies\":[");
	for (i = 0; i < d->n; i++) {
		const struct tlsrpt_pol *p = &d->p[i];
		if (strcmp(p->domain, domain))
			continue;
		r |= (seen++ ? buf_addc(o, ',') : 0);
		r |= buf_adds(o, "{\"policy\":{\"policy-type\":") | js(o, p->ptype);
		if (!strcmp(p->ptype, "sts"))
			r |= sts_strings(o, sts_dir, domain);
		r |= buf_adds(o, ",\"policy-domain\":") | js(o, p->domain);
		r |= buf_printf(o, "},\"summary\":{\"total-successful-session-count\":%lu,"
		                "\"total-failure-session-count\":%lu}", p->ok, p->failed);
		if (p->nf) {
			r |= buf_adds(o, ",\"failure-details\":[");
			for (k = 0; k < p->nf; k++) {
				const struct tlsrpt_fail *f = &p->f[k];
				r |= (k ? buf_addc(o, ',') : 0);
				r |= buf_adds(o, "{\"result-type\":") | js(o, f->result);
				if (strcmp(f->ip, "-"))
					r |= buf_adds(o, ",\"receiving-ip\":") | js(o, f->ip);
				if (strcmp(f->mx, "-"))
					r |= buf_adds(o, ",\"receiving-mx-hostname\":") | js(o, f->mx);
				r |= buf_printf(o, ",\"failed-session-count\":%lu}", f->n);
			}
			r |= buf_addc(o, ']');
		}
		r |= buf_addc(o, '}');
	}
	r |= buf_adds(o, "]}");
	return r || !seen ? -1 : 0;
}
