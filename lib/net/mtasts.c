/* MTA-STS records, policies and their fetch: see mtasts.h. */
#include "net/mtasts.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

static int alnum_only(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return n > 0;
}

int mtasts_txt_id(const char *txt, char *id, size_t cap)
{
	const char *p = txt;
	int have_id = 0, first = 1;
	while (*p) {
		const char *end = strchr(p, ';'), *eq;
		size_t n;
		while (*p == ' ' || *p == '\t')
			p++;
		n = end ? (size_t)(end - p) : strlen(p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (first) {
			if (n != 7 || strncmp(p, "v=STSv1", 7) != 0)
				return -1;
			first = 0;
		} else if (n) {
			eq = memchr(p, '=', n);
			if (!eq || eq == p)
				return -1;
			if ((size_t)(eq - p) == 2 && strncmp(p, "id", 2) == 0) {
				size_t l = n - 3;
				if (have_id || l > 32 || l + 1 > cap || !alnum_only(eq + 1, l))
					return -1;
				memcpy(id, eq + 1, l);
				id[l] = 0;
				have_id = 1;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	return have_id ? 0 : -1;
}

static const char *const mode_names[] = { "none", "testing", "enforce" };

static int mode_parse(const char *s)
{
	int m;
	for (m = MTASTS_NONE; m <= MTASTS_ENFORCE; m++)
		if (strcmp(s, mode_names[m]) == 0)
			return m;
	return -1;
}

static int valid_pattern(const char *s)
{
	size_t i, n = strlen(s);
	const char *h = s;
	if (n == 0 || n > 253)
		return 0;
	if (s[0] == '*') {
		if (s[1] != '.' || !s[2])
			return 0;
		h = s + 2;
	}
	for (i = 0; h[i]; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!(isalnum(c) || c == '-' || c == '.'))
			return 0;
	}
	return h[0] != '.' && h[strlen(h) - 1] != '.' && !strstr(h, "..");
}

static int field(struct mtasts_policy *p, const char *k, size_t kn, const char *v, size_t vn,
                 int *seen, char *err, size_t errcap)
{
	char val[256];
	size_t i;
	if (vn >= sizeof val) {
		snprintf(err, errcap, "value too long");
		return -1;
	}
	memcpy(val, v, vn);
	val[vn] = 0;
	if (kn == 7 && strncmp(k, "version", 7) == 0) {
		if (strcmp(val, "STSv1") != 0) {
			snprintf(err, errcap, "version is not STSv1");
			return -1;
		}
		seen[0]++;
	} else if (kn == 4 && strncmp(k, "mode", 4) == 0) {
		if ((p->mode = mode_parse(val)) < 0) {
			snprintf(err, errcap, "bad mode");
			return -1;
		}
		seen[1]++;
	} else if (kn == 7 && strncmp(k, "max_age", 7) == 0) {
		char *end;
		long a;
		if (!vn || vn > 10 || strspn(val, "0123456789") != vn) {
			snprintf(err, errcap, "bad max_age");
			return -1;
		}
		a = strtol(val, &end, 10);
		p->max_age = a > MTASTS_MAX_AGE ? MTASTS_MAX_AGE : a;
		seen[2]++;
	} else if (kn == 2 && strncmp(k, "mx", 2) == 0) {
		for (i = 0; val[i]; i++)
			val[i] = (char)tolower((unsigned char)val[i]);
		if (!valid_pattern(val)) {
			snprintf(err, errcap, "bad mx pattern");
			return -1;
		}
		if (p->nmx < MTASTS_MX_MAX)
			memcpy(p->mx[p->nmx++], val, vn + 1);
	}
	return 0;
}

int mtasts_parse(const char *text, size_t n, struct mtasts_policy *p, char *err, size_t errcap)
{
	size_t i = 0;
	int seen[3] = { 0, 0, 0 }, line = 0;
	memset(p, 0, sizeof *p);
	if (n > MTASTS_POLICY_MAX) {
		snprintf(err, errcap, "policy too large");
		return -1;
	}
	while (i < n) {
		const char *l = text + i, *nl = memchr(l, '\n', n - i), *colon;
		size_t ln = nl ? (size_t)(nl - l) : n - i, kn, vs;
		i += ln + (nl != NULL);
		if (ln && l[ln - 1] == '\r')
			ln--;
		if (memchr(l, 0, ln) || memchr(l, '\r', ln)) {
			snprintf(err, errcap, "control character in the policy");
			return -1;
		}
		if (!ln)
			continue;
		colon = memchr(l, ':', ln);
		if (!colon || colon == l) {
			snprintf(err, errcap, "line without key: value");
			return -1;
		}
		kn = (size_t)(colon - l);
		vs = kn + 1;
		while (vs < ln && (l[vs] == ' ' || l[vs] == '\t'))
			vs++;
		while (ln > vs && (l[ln - 1] == ' ' || l[ln - 1] == '\t'))
			ln--;
		/* RFC 8461 3.2: the version field comes first */
		if (line++ == 0 && !(kn == 7 && strncmp(l, "version", 7) == 0)) {
			snprintf(err, errcap, "policy does not start with version");
			return -1;
		}
		if (field(p, l, kn, l + vs, ln - vs, seen, err, errcap) < 0)
			return -1;
	}
	if (seen[0] != 1 || seen[1] != 1 || seen[2] != 1) {
		snprintf(err, errcap, "policy needs one version, one mode and one max_age");
		return -1;
	}
	if (p->mode != MTASTS_NONE && p->nmx == 0) {
		snprintf(err, errcap, "policy has no mx");
		return -1;
	}
	return 0;
}

int mtasts_mx_match(const struct mtasts_policy *p, const char *host)
{
	size_t i;
	for (i = 0; i < p->nmx; i++) {
		const char *pat = p->mx[i];
		if (pat[0] == '*') {
			/* one label, then exactly the rest: "*.b.c" matches "a.b.c" */
			const char *dot = strchr(host, '.');
			if (dot && dot != host && strcasecmp(dot + 1, pat + 2) == 0)
				return 1;
		} else if (strcasecmp(host, pat) == 0) {
			return 1;
		}
	}
	return 0;
}

struct sink {
	struct buf *b;
	int over;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct sink *s = arg;
	size_t n = sz * nm;
	if (s->b->len + n > MTASTS_POLICY_MAX) {
		s->over = 1;
		return 0;   /* stops the transfer */
	}
	return buf_add(s->b, p, n) < 0 ? 0 : n;
}

int mtasts_fetch(const char *domain, const struct dns_addr *addrs, size_t naddrs,
                 const char *ca_file, long timeout_s, struct buf *out, char *err, size_t errcap)
{
	static int inited;
	char url[300], ip[INET6_ADDRSTRLEN + 2], res[400];
	struct curl_slist *resolve = NULL;
	struct sink s = { out, 0 };
	const char *ctype = NULL;
	long code = 0;
	CURL *c;
	CURLcode rc;
	size_t i;
	int ret = -1;
	out->len = 0;
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
			snprintf(err, errcap, "cannot start libcurl");
			return -1;
		}
		inited = 1;
	}
	if (snprintf(url, sizeof url, "https://mta-sts.%s/.well-known/mta-sts.txt", domain) >= (int)sizeof url) {
		snprintf(err, errcap, "domain too long");
		return -1;
	}
	/* relay's resolver gave the addresses: curl connects only there */
	for (i = 0; i < naddrs; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&addrs[i].sa;
		char a[INET6_ADDRSTRLEN];
		struct curl_slist *n;
		if (sa->sa_family == AF_INET6) {
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof a);
			snprintf(ip, sizeof ip, "[%s]", a);
		} else {
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof a);
			snprintf(ip, sizeof ip, "%s", a);
		}
		snprintf(res, sizeof res, "mta-sts.%s:443:%s", domain, ip);
		if (!(n = curl_slist_append(resolve, res))) {
			curl_slist_free_all(resolve);
			snprintf(err, errcap, "out of memory");
			return -1;
		}
		resolve = n;
	}
	if (!(c = curl_easy_init())) {
		curl_slist_free_all(resolve);
		snprintf(err, errcap, "cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");        /* never a proxy from the environment */
	curl_easy_setopt(c, CURLOPT_USERAGENT, "relay MTA-STS");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(err, errcap, "%s: %s", url, s.over ? "policy too large" : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
	if (code != 200) {
		snprintf(err, errcap, "%s: HTTP status %ld", url, code);
		goto out;
	}
	if (!ctype || strncasecmp(ctype, "text/plain", 10) != 0 ||
	    (ctype[10] && ctype[10] != ';' && ctype[10] != ' ')) {
		snprintf(err, errcap, "%s: Content-Type is not text/plain", url);
		goto out;
	}
	ret = 0;
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(resolve);
	return ret;
}

int mtasts_format(const struct mtasts_policy *p, struct buf *out)
{
	size_t i;
	out->len = 0;
	if (buf_printf(out, "%s %lld %ld %s ", p->id, (long long)p->fetched, p->max_age,
	               mode_names[p->mode]) < 0)
		return -1;
	for (i = 0; i < p->nmx; i++)
		if (buf_printf(out, "%s%s", i ? "," : "", p->mx[i]) < 0)
			return -1;
	if (!p->nmx && buf_adds(out, "-") < 0)
		return -1;
	return buf_addc(out, '\n');
}

int mtasts_unformat(const char *line, struct mtasts_policy *p)
{
	char id[40], mode[16], mx[4128];
	long long fetched;
	long age;
	char *tok, *save;
	memset(p, 0, sizeof *p);
	if (strlen(line) >= 4100 ||
	    sscanf(line, "%39s %lld %ld %15s %4120s", id, &fetched, &age, mode, mx) != 5)
		return -1;
	if (strlen(id) > 32 || !alnum_only(id, strlen(id)) || age < 0 || age > MTASTS_MAX_AGE)
		return -1;
	strcpy(p->id, id);
	p->fetched = (time_t)fetched;
	p->max_age = age;
	if ((p->mode = mode_parse(mode)) < 0)
		return -1;
	if (strcmp(mx, "-") == 0)
		return p->mode == MTASTS_NONE ? 0 : -1;
	for (tok = strtok_r(mx, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!valid_pattern(tok) || strlen(tok) >= sizeof p->mx[0] || p->nmx == MTASTS_MX_MAX)
			return -1;
		strcpy(p->mx[p->nmx++], tok);
	}
	return p->nmx ? 0 : -1;
}
