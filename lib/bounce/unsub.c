/* RFC 8058 one-click unsubscribe: configuration, tokens, the scoped
 * suppression and relay-httpd's requests (bounce/unsub.h). */
#include "bounce/unsub.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bounds.h"
#include "base/fileio.h"

#define CONF_MAX 16384
#define MAC_CONTEXT "relay-unsub-1"
#define REQ_MAX 4096      /* one request file */
#define APPLY_MAX 100000  /* requests per run; the rest wait for the next */

static int fail(char *err, size_t cap, int line, const char *what)
{
	if (err)
		snprintf(err, cap, "etc/unsubscribe line %d: %s", line, what);
	errno = EPROTO;
	return -1;
}

int unsub_conf_read(const char *home, struct unsub_conf *c, char *err, size_t cap)
{
	char p[PATH_MAX];
	struct buf b = BUF_INIT;
	char *line, *nl;
	int lineno = 0;
	memset(c, 0, sizeof *c);
	if (snprintf(p, sizeof p, "%s/etc/unsubscribe", home) >= (int)sizeof p) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (read_file(p, &b, CONF_MAX) < 0) {
		int e = errno;
		buf_free(&b);
		errno = e;
		return e == ENOENT ? 0 : -1;
	}
	for (line = b.p; line && line < b.p + b.len; line = nl) {
		char *k, *v, *end;
		nl = memchr(line, '\n', b.len - (size_t)(line - b.p));
		if (nl)
			*nl++ = 0;
		lineno++;
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		if (!*k || *k == '#')
			continue;
		for (v = k; *v && *v != ' ' && *v != '\t'; v++)
			;
		if (*v)
			*v++ = 0;
		for (; *v == ' ' || *v == '\t'; v++)
			;
		for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'); end--)
			;
		*end = 0;
		if (!*v || strpbrk(v, " \t")) {
			buf_free(&b);
			return fail(err, cap, lineno, "want KEY VALUE (one value, no spaces)");
		}
		for (char *s = v; *s; s++)
			if ((unsigned char)*s < 0x21 || (unsigned char)*s >= 0x7f || *s == '<' || *s == '>' ||
			    *s == '"' || *s == '\\') {
				buf_free(&b);
				return fail(err, cap, lineno, "a byte that cannot be in the value");
			}
		if (strcmp(k, "classes") == 0) {
			if (strlen(v) + 3 > sizeof c->classes) {
				buf_free(&b);
				return fail(err, cap, lineno, "classes: too long");
			}
			snprintf(c->classes, sizeof c->classes, ",%s,", v);
			for (char *s = c->classes; *s; s++)
				*s = (char)tolower((unsigned char)*s);
		} else if (strcmp(k, "url") == 0) {
			size_t n = strlen(v);
			while (n && v[n - 1] == '/')
				v[--n] = 0;
			if (strncmp(v, "https://", 8) != 0 || n <= 8 || n >= sizeof c->url) {
				buf_free(&b);
				return fail(err, cap, lineno, "url: want https://HOST[/PATH] (RFC 8058 3.1)");
			}
			memcpy(c->url, v, n + 1);
		} else if (strcmp(k, "mailto") == 0) {
			const char *at = strrchr(v, '@');
			if (!at || at == v || !at[1] || strlen(v) >= sizeof c->mailto) {
				buf_free(&b);
				return fail(err, cap, lineno, "mailto: want an address");
			}
			snprintf(c->mailto, sizeof c->mailto, "%s", v);
		} else {
			buf_free(&b);
			return fail(err, cap, lineno, "unknown key (classes, url, mailto)");
		}
	}
	buf_free(&b);
	if (!c->classes[0])
		return 0;
	if (!c->url[0])
		return fail(err, cap, lineno, "classes without url");
	return 1;
}

int unsub_class_marked(const struct unsub_conf *c, const char *class)
{
	char k[300];
	if (!c->classes[0])
		return 0;
	snprintf(k, sizeof k, ",%s,", class && *class ? class : "default");
	for (char *s = k; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	return strstr(c->classes, k) != NULL;
}

static int key_path(char *p, const char *home)
{
	if (snprintf(p, PATH_MAX, "%s/etc/unsubscribe.key", home) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int unsub_key_read(const char *home, unsigned char key[UNSUB_KEY_LEN])
{
	char p[PATH_MAX];
	struct buf b = BUF_INIT;
	if (key_path(p, home) < 0)
		return -1;
	if (read_file(p, &b, 4096) < 0) {
		int e = errno;
		buf_free(&b);
		errno = e;
		return -1;
	}
	if (b.len != UNSUB_KEY_LEN) {
		sodium_memzero(b.p, b.len);
		buf_free(&b);
		errno = EPROTO;
		return -1;
	}
	memcpy(key, b.p, UNSUB_KEY_LEN);
	sodium_memzero(b.p, b.len);
	buf_free(&b);
	return 0;
}

int unsub_key_make(const char *home)
{
	char p[PATH_MAX];
	unsigned char k[UNSUB_KEY_LEN];
	struct stat st;
	int r;
	if (key_path(p, home) < 0)
		return -1;
	if (stat(p, &st) == 0)
		return 0;
	if (errno != ENOENT || sodium_init() < 0)
		return -1;
	randombytes_buf(k, sizeof k);
	r = atomic_write(p, k, sizeof k, 0640);
	sodium_memzero(k, sizeof k);
	return r < 0 ? -1 : 1;
}

/* A domain that can be in a token and a scoped key: not empty, at most
 * ADDR_DOMAIN_MAX, no "/", "@", space or control byte. */
static int domain_ok(const char *d, size_t n)
{
	size_t i;
	if (n == 0 || n > ADDR_DOMAIN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c <= 0x20 || c == 0x7f || c == '/' || c == '@')
			return 0;
	}
	return 1;
}

static int rcpt_ok(const char *r, size_t n)
{
	size_t i;
	const char *at = memchr(r, '@', n);
	if (n == 0 || n > ADDR_PATH_MAX || !at || at == r)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r[i];
		if (c <= 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static void mac(const unsigned char key[UNSUB_KEY_LEN], const char *payload, size_t n,
                unsigned char out[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state s;
	crypto_auth_hmacsha256_init(&s, key, UNSUB_KEY_LEN);
	crypto_auth_hmacsha256_update(&s, (const unsigned char *)MAC_CONTEXT, sizeof MAC_CONTEXT);
	crypto_auth_hmacsha256_update(&s, (const unsigned char *)payload, n);
	crypto_auth_hmacsha256_final(&s, out);
}

static int b64url(struct buf *out, const void *p, size_t n)
{
	const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	size_t len = sodium_base64_ENCODED_LEN(n, v);
	if (buf_reserve(out, len) < 0)
		return -1;
	sodium_bin2base64(out->p + out->len, len, p, n, v);
	out->len += len - 1;
	out->p[out->len] = 0;
	return 0;
}

int unsub_token(const unsigned char key[UNSUB_KEY_LEN], const char *domain, const char *rcpt,
                struct buf *out)
{
	char payload[ADDR_DOMAIN_MAX + ADDR_PATH_MAX + 2];
	unsigned char m[crypto_auth_hmacsha256_BYTES];
	size_t dn = strlen(domain), rn = strlen(rcpt), i;
	if (!domain_ok(domain, dn) || !rcpt_ok(rcpt, rn)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < dn; i++)
		payload[i] = (char)tolower((unsigned char)domain[i]);
	payload[dn] = ' ';
	memcpy(payload + dn + 1, rcpt, rn);
	mac(key, payload, dn + 1 + rn, m);
	if (b64url(out, payload, dn + 1 + rn) < 0 || buf_addc(out, '.') < 0 || b64url(out, m, sizeof m) < 0)
		return -1;
	return 0;
}

int unsub_token_check(const unsigned char key[UNSUB_KEY_LEN], const char *tok, size_t n,
                      char *domain, size_t dcap, char *rcpt, size_t rcap)
{
	const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	char payload[ADDR_DOMAIN_MAX + ADDR_PATH_MAX + 2];
	unsigned char got[crypto_auth_hmacsha256_BYTES + 1], want[crypto_auth_hmacsha256_BYTES];
	const char *dot = memchr(tok, '.', n), *sp;
	size_t pl, ml;
	if (!dot || n > UNSUB_TOKEN_MAX ||
	    sodium_base642bin((unsigned char *)payload, sizeof payload - 1, tok, (size_t)(dot - tok), NULL, &pl,
	                      NULL, v) != 0 ||
	    sodium_base642bin(got, sizeof got, dot + 1, n - (size_t)(dot - tok) - 1, NULL, &ml, NULL, v) != 0 ||
	    ml != crypto_auth_hmacsha256_BYTES) {
		errno = EINVAL;
		return -1;
	}
	payload[pl] = 0;
	mac(key, payload, pl, want);
	if (sodium_memcmp(got, want, sizeof want) != 0) {
		errno = EACCES;
		return -1;
	}
	/* the MAC is ours: what it covers was checked when it was made */
	sp = memchr(payload, ' ', pl);
	if (!sp || !domain_ok(payload, (size_t)(sp - payload)) || !rcpt_ok(sp + 1, pl - (size_t)(sp - payload) - 1) ||
	    (size_t)(sp - payload) >= dcap || pl - (size_t)(sp - payload) > rcap) {
		errno = EINVAL;
		return -1;
	}
	memcpy(domain, payload, (size_t)(sp - payload));
	domain[sp - payload] = 0;
	memcpy(rcpt, sp + 1, pl - (size_t)(sp - payload) - 1);
	rcpt[pl - (size_t)(sp - payload) - 1] = 0;
	return 0;
}

int unsub_scope_key(const char *rcpt, const char *domain, char *out, size_t cap)
{
	size_t rn = strlen(rcpt), dn = strlen(domain), i;
	if (!rcpt_ok(rcpt, rn) || !domain_ok(domain, dn) || rn + 1 + dn + 1 > cap ||
	    rn + 1 + dn > ADDR_PATH_MAX + ADDR_DOMAIN_MAX + 1) {
		errno = EINVAL;
		return -1;
	}
	memcpy(out, rcpt, rn);
	out[rn] = '/';
	for (i = 0; i < dn; i++)
		out[rn + 1 + i] = (char)tolower((unsigned char)domain[i]);
	out[rn + 1 + dn] = 0;
	return 0;
}

int unsub_suppressed(const char *home, const char *rcpt, const char *sender,
                     struct suppress_entry *e)
{
	char k[ADDR_PATH_MAX + ADDR_DOMAIN_MAX + 2];
	const char *at = sender ? strrchr(sender, '@') : NULL;
	int r = suppress_lookup(home, rcpt, e);
	if (r != 0 || !at)
		return r;
	if (unsub_scope_key(rcpt, at + 1, k, sizeof k) < 0)
		return 0;   /* a pair no token could have named */
	return suppress_lookup(home, k, e);
}

/* ------------------------------------------------------------ requests */

static int spool(char *p, const char *home, const char *name)
{
	if (snprintf(p, PATH_MAX, "%s/state/unsub%s%s", home, name ? "/" : "", name ? name : "") >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int unsub_request(const char *home, const char *domain, const char *rcpt, time_t now)
{
	char p[PATH_MAX], name[64], line[ADDR_DOMAIN_MAX + ADDR_PATH_MAX + 32];
	unsigned char rnd[12];
	size_t i;
	int n;
	if (!domain_ok(domain, strlen(domain)) || !rcpt_ok(rcpt, strlen(rcpt))) {
		errno = EINVAL;
		return -1;
	}
	randombytes_buf(rnd, sizeof rnd);
	n = snprintf(name, sizeof name, "u%lld.", (long long)now);
	for (i = 0; i < sizeof rnd; i++)
		n += snprintf(name + n, sizeof name - (size_t)n, "%02x", rnd[i]);
	if (spool(p, home, NULL) < 0)
		return -1;
	if (mkdir(p, 0770) < 0 && errno != EEXIST)
		return -1;
	n = snprintf(line, sizeof line, "%s\t%s\t%lld\n", domain, rcpt, (long long)now);
	if (spool(p, home, name) < 0)
		return -1;
	return atomic_write(p, line, (size_t)n, 0640);
}

struct reqs {
	char **name;
	struct suppress_item *it;
	size_t n, cap;
};

static void reqs_free(struct reqs *q)
{
	size_t i;
	for (i = 0; i < q->n; i++) {
		free(q->name[i]);
		free((char *)q->it[i].addr);
		free((char *)q->it[i].reason);
	}
	free(q->name);
	free(q->it);
}

/* One request file into q: 1 taken, 0 malformed, -1 error. */
static int req_read(const char *home, const char *name, struct reqs *q)
{
	char p[PATH_MAX], k[ADDR_PATH_MAX + ADDR_DOMAIN_MAX + 2], why[ADDR_DOMAIN_MAX + 80];
	struct buf b = BUF_INIT;
	char *t1, *t2, *end;
	long long when;
	if (spool(p, home, name) < 0)
		return -1;
	if (read_file(p, &b, REQ_MAX) < 0) {
		int e = errno;
		buf_free(&b);
		errno = e;
		return e == ENOENT ? 1 : (e == EFBIG ? 0 : -1);
	}
	if (!b.len || b.p[b.len - 1] != '\n' || !(t1 = strchr(b.p, '\t')) || !(t2 = strchr(t1 + 1, '\t'))) {
		buf_free(&b);
		return 0;
	}
	*t1++ = 0;
	*t2++ = 0;
	b.p[b.len - 1] = 0;
	errno = 0;
	when = strtoll(t2, &end, 10);
	if (errno || *end || when < 0 || unsub_scope_key(t1, b.p, k, sizeof k) < 0) {
		buf_free(&b);
		return 0;
	}
	snprintf(why, sizeof why, "one-click unsubscribe (RFC 8058) from mail of %s", b.p);
	buf_free(&b);
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 16;
		char **nn = realloc(q->name, nc * sizeof *nn);
		struct suppress_item *ni;
		if (!nn)
			return -1;
		q->name = nn;
		if (!(ni = realloc(q->it, nc * sizeof *ni)))
			return -1;
		q->it = ni;
		q->cap = nc;
	}
	q->name[q->n] = strdup(name);
	q->it[q->n].addr = strdup(k);
	q->it[q->n].reason = strdup(why);
	if (!q->name[q->n] || !q->it[q->n].addr || !q->it[q->n].reason) {
		free(q->name[q->n]);
		free((char *)q->it[q->n].addr);
		free((char *)q->it[q->n].reason);
		errno = ENOMEM;
		return -1;
	}
	q->n++;
	return 1;
}

int unsub_apply(const char *home, time_t now, size_t *applied, size_t *bad)
{
	char dir[PATH_MAX], p[PATH_MAX], np[PATH_MAX + 256];
	struct reqs q = { NULL, NULL, 0, 0 };
	struct dirent *de;
	DIR *d;
	size_t i;
	int r;
	*applied = *bad = 0;
	if (spool(dir, home, NULL) < 0)
		return -1;
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) && q.n < APPLY_MAX) {
		if (de->d_name[0] != 'u' || strstr(de->d_name, ".tmp."))
			continue;   /* ., .., bad.*, atomic_write's temporary files */
		r = req_read(home, de->d_name, &q);
		if (r < 0) {
			int e = errno;
			closedir(d);
			reqs_free(&q);
			errno = e;
			return -1;
		}
		if (r == 0 && spool(p, home, de->d_name) == 0) {
			if (snprintf(np, sizeof np, "%s/bad.%.200s", dir, de->d_name) < (int)sizeof np &&
			    rename(p, np) == 0)
				(*bad)++;
		}
	}
	closedir(d);
	/* the list first: a crash before the removals applies them again */
	if (q.n && suppress_add_many(home, q.it, q.n, now, 0, NULL) < 0) {
		int e = errno;
		reqs_free(&q);
		errno = e;
		return -1;
	}
	for (i = 0; i < q.n; i++)
		if (spool(p, home, q.name[i]) == 0 && unlink(p) == 0)
			(*applied)++;
	if (q.n)
		fsync_dir(dir);
	reqs_free(&q);
	return 0;
}
