/* etc/apikeys: parse, look up, make (conf/apikeys.h). The fields after
 * the digest are etc/users' fields: they are parsed by conf_parse_user
 * itself (behind a placeholder where a user's hash would be), so that
 * from=, class= and rate= can never mean two things. */
#include "conf/apikeys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fileio.h"
#include "conf/confmake.h"
#include "conf/parse.h"

#define PLACEHOLDER "$argon2id$apikey"

/* The fields (from= class= rate=) through conf_parse_user. */
static int fields(const char *s, struct conf_user *u, char *err, size_t errcap)
{
	char v[CONF_LINE_MAX + sizeof PLACEHOLDER + 2];
	if (strlen(s) > CONF_LINE_MAX)
		return conf_fail(err, errcap, "line too long");
	snprintf(v, sizeof v, "%s %s", PLACEHOLDER, s);
	return conf_parse_user(v, u, err, errcap);
}

/* The value without the placeholder: "NAME [from=...] ...". */
static int format(const char *name, struct conf_user *u, struct buf *out)
{
	struct buf f = BUF_INIT;
	int r = conf_format_user(u, &f);
	out->len = 0;
	if (r == 0)
		r = buf_printf(out, "%s%s", name, f.p + strlen(PLACEHOLDER));
	buf_free(&f);
	return r;
}

int conf_parse_apikey_line(const char *key, const char *rest, char *ck, size_t ckcap,
                           struct buf *cv, char *err, size_t errcap)
{
	char name[CONF_USER_MAX + 1], h[CONF_LINE_MAX + 1];
	const char *s = rest;
	struct conf_user u;
	size_t i;
	if (conf_parse_user_key(key, name, sizeof name, err, errcap) < 0)
		return -1;
	if (conf_field(&s, h, sizeof h) != 1 || strlen(h) != CONF_APIKEY_HASH_LEN || ckcap <= CONF_APIKEY_HASH_LEN)
		return conf_fail(err, errcap, "missing or bad token digest (want the 64 hex digits "
		                 "relay-config apikey writes)");
	for (i = 0; h[i]; i++)
		if (!strchr("0123456789abcdefABCDEF", h[i]))
			return conf_fail(err, errcap, "bad token digest (want 64 hex digits)");
	if (fields(s, &u, err, errcap) < 0)
		return -1;
	strcpy(ck, h);
	conf_lower(ck);
	return format(name, &u, cv) < 0 ? -2 : 0;
}

int conf_parse_apikey(const char *value, struct conf_apikey *k, char *err, size_t errcap)
{
	const char *s = value;
	memset(k, 0, sizeof *k);
	if (conf_field(&s, k->name, sizeof k->name) != 1)
		return conf_fail(err, errcap, "no key name");
	return fields(s, &k->u, err, errcap);
}

void conf_apikey_digest(const char *token, size_t n, char out[CONF_APIKEY_HASH_LEN + 1])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(d, (const unsigned char *)token, n);
	sodium_bin2hex(out, CONF_APIKEY_HASH_LEN + 1, d, sizeof d);
}

int conf_apikey_lookup(struct conf *keys, const char *token, size_t n, struct conf_apikey *k)
{
	char hex[CONF_APIKEY_HASH_LEN + 1];
	struct buf v = BUF_INIT;
	int r;
	if (n != CONF_APIKEY_TOKEN_LEN || memcmp(token, CONF_APIKEY_TOKEN_PREFIX, 3) != 0)
		return 0;
	conf_apikey_digest(token, n, hex);
	r = conf_get(keys, hex, &v);
	if (r == 1 && conf_parse_apikey(v.p, k, NULL, 0) < 0) {
		errno = EPROTO;
		r = -1;
	}
	buf_free(&v);
	return r;
}

/* Append line to home/etc/apikeys, atomically (the old text, then it). */
static int append(const char *home, const char *line)
{
	char path[PATH_MAX];
	struct buf text = BUF_INIT;
	int r;
	if (conf_pathf(path, sizeof path, "%s/etc/apikeys", home) < 0)
		return -1;
	if (read_file(path, &text, CONF_FILE_MAX) < 0 && errno != ENOENT) {
		buf_free(&text);
		return -1;
	}
	if ((text.len && text.p[text.len - 1] != '\n' && buf_addc(&text, '\n') < 0) ||
	    buf_adds(&text, line) < 0) {
		buf_free(&text);
		return -1;
	}
	r = atomic_write(path, text.p, text.len, 0644);
	buf_free(&text);
	return r;
}

int conf_apikey_new(const char *home, const char *name, char *const *fv, size_t nf,
                    char *token, size_t cap)
{
	char etc[PATH_MAX], err[512], ck[CONF_APIKEY_HASH_LEN + 1], hex[CONF_APIKEY_HASH_LEN + 1];
	char tok[CONF_APIKEY_TOKEN_LEN + 1];
	unsigned char raw[32];
	struct buf rest = BUF_INIT, cv = BUF_INIT, line = BUF_INIT;
	size_t i;
	int fd, r;

	if (cap <= CONF_APIKEY_TOKEN_LEN || sodium_init() < 0) {
		errno = ENOMEM;
		warn_sys("unable to make a token");
		return -1;
	}
	randombytes_buf(raw, sizeof raw);
	memcpy(tok, CONF_APIKEY_TOKEN_PREFIX, 3);
	sodium_bin2hex(tok + 3, sizeof tok - 3, raw, sizeof raw);
	sodium_memzero(raw, sizeof raw);
	conf_apikey_digest(tok, strlen(tok), hex);
	r = buf_adds(&rest, hex);
	for (i = 0; i < nf && r == 0; i++)
		r = buf_printf(&rest, " %s", fv[i]);
	if (r < 0) {
		warn_sys("unable to make a token");
		goto fail;
	}
	r = conf_parse_apikey_line(name, rest.p, ck, sizeof ck, &cv, err, sizeof err);
	if (r == -1) {
		fprintf(stderr, "%s: error: apikey %.64s: %s\n", progname, name, err);
		r = 1;
		goto out;
	}
	/* the canonical line: NAME DIGEST fields */
	{
		const char *sp = r == 0 ? strchr(cv.p, ' ') : NULL;
		if (r < 0 || buf_printf(&line, "%.*s %s%s\n", (int)(sp ? (size_t)(sp - cv.p) : cv.len),
		                        cv.p, ck, sp ? sp : "") < 0) {
			warn_sys("unable to make a token");
			goto fail;
		}
	}
	/* every table must compile before the key is added, so that a
	 * failure after the append can only be a system error */
	if ((r = conf_compile(home, CONF_CHECK_ONLY)) != 0)
		goto out;
	if (conf_pathf(etc, sizeof etc, "%s/etc", home) < 0 ||
	    (fd = open(etc, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		warn_sys("unable to open %s/etc", home);
		goto fail;
	}
	if (flock(fd, LOCK_EX) < 0 || append(home, line.p) < 0) {
		warn_sys("unable to write %s/etc/apikeys", home);
		close(fd);
		goto fail;
	}
	r = conf_compile(home, 0);
	close(fd);
	if (r == 0)
		memcpy(token, tok, sizeof tok);
	goto out;
fail:
	r = -1;
out:
	sodium_memzero(tok, sizeof tok);
	buf_free(&rest);
	buf_free(&cv);
	buf_free(&line);
	return r;
}
