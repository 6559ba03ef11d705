/* MTA-STS policies for the worker: see sts.h. */
#include "send/sts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/fileio.h"

#define STS_FETCH_TIMEOUT_S 20

static int cache_path(const char *dir, const char *domain, char *out, size_t cap)
{
	size_t i;
	for (i = 0; domain[i]; i++)
		if (!((domain[i] >= 'a' && domain[i] <= 'z') || (domain[i] >= '0' && domain[i] <= '9') ||
		      domain[i] == '-' || domain[i] == '.') || domain[0] == '.')
			return -1;
	return snprintf(out, cap, "%s/%s", dir, domain) >= (int)cap ? -1 : 0;
}

static int cache_load(const char *path, struct mtasts_policy *p)
{
	struct buf b = BUF_INIT;
	int ok = read_file(path, &b, 8192) == 0 && b.len && b.p[b.len - 1] == '\n';
	if (ok) {
		b.p[b.len - 1] = 0;
		ok = mtasts_unformat(b.p, p) == 0;
	}
	buf_free(&b);
	return ok;
}

static int lasts(const struct mtasts_policy *p, time_t now)
{
	return p->fetched <= now + 300 && now - p->fetched < p->max_age;
}

static int use(const struct mtasts_policy *c, struct mtasts_policy *p)
{
	*p = *c;
	return p->mode != MTASTS_NONE;
}

int sts_policy(struct dns_ctx *dns, const char *dir, const char *ca, const char *domain,
               time_t now, struct mtasts_policy *p, char *note, size_t cap)
{
	struct mtasts_policy cached, fresh;
	struct dns_txt txt;
	struct dns_addr addrs[4];
	struct buf body = BUF_INIT, line = BUF_INIT;
	char path[PATH_MAX], name[300], id[33], e[300];
	size_t naddrs;
	int have, rc;

	memset(p, 0, sizeof *p);
	note[0] = 0;
	if (!dir || !*dir || cache_path(dir, domain, path, sizeof path) < 0)
		return 0;
	have = cache_load(path, &cached) && lasts(&cached, now);
	snprintf(name, sizeof name, "_mta-sts.%s", domain);
	rc = dns_txt(dns, name, "v=STSv1", &txt, e, sizeof e);
	if (rc != DNS_OK || txt.n != 1 || mtasts_txt_id(txt.text, id, sizeof id) < 0) {
		if (rc == DNS_TEMP)
			snprintf(note, cap, "TXT lookup failed: %s", e);
		else if (txt.n > 1)
			snprintf(note, cap, "%zu STSv1 TXT records", txt.n);
		else if (txt.n == 1)
			snprintf(note, cap, "bad STSv1 TXT record");
		if (have) {
			snprintf(note, cap, "cached");
			return use(&cached, p);
		}
		return 0;
	}
	if (have && strcmp(cached.id, id) == 0) {
		snprintf(note, cap, "cached");
		return use(&cached, p);
	}
	/* a new id, or nothing cached that lasts: fetch */
	snprintf(name, sizeof name, "mta-sts.%s", domain);
	if (dns_addrs(dns, name, addrs, 4, &naddrs, e, sizeof e) != DNS_OK ||
	    mtasts_fetch(domain, addrs, naddrs, ca, STS_FETCH_TIMEOUT_S, &body, e, sizeof e) < 0 ||
	    mtasts_parse(body.p ? body.p : "", body.len, &fresh, e, sizeof e) < 0) {
		snprintf(note, cap, "policy fetch failed: %s", e);
		buf_free(&body);
		return have ? use(&cached, p) : 0;
	}
	buf_free(&body);
	snprintf(fresh.id, sizeof fresh.id, "%s", id);
	fresh.fetched = now;
	snprintf(note, cap, "fetched");
	/* a cache that cannot be written costs a fetch next time, nothing more */
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		snprintf(note, cap, "fetched (cache not written: %s)", strerror(errno));
	else if (mtasts_format(&fresh, &line) == 0 &&
	    atomic_write(path, line.p, line.len, 0644) < 0)
		snprintf(note, cap, "fetched (cache not written: %s)", strerror(errno));
	buf_free(&line);
	return use(&fresh, p);
}
