/* JSON to MIME (http/mime.h). */
#include "http/mime.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/base64.h"
#include "base/bounds.h"
#include "intake/addr.h"

static int bad(struct httpmsg_err *err, const char *field, const char *text)
{
	snprintf(err->field, sizeof err->field, "%s", field);
	snprintf(err->text, sizeof err->text, "%s: %s", field, text);
	return -1;
}

/* ---- encodings ---- */

static const char hexd[] = "0123456789ABCDEF";

/* Written straight into out, reserved a chunk of input at a time (at
 * most 4 octets out per octet in, soft breaks included), not a buf_add
 * per octet: the text part of every JSON message goes through here. */
#define QP_CHUNK 4096
int mime_qp(struct buf *out, const char *s, size_t n)
{
	size_t i = 0, col = 0;
	while (i < n) {
		size_t stop = n - i > QP_CHUNK ? i + QP_CHUNK : n;
		char *o;
		if (buf_reserve(out, 4 * (stop - i) + 16) < 0)
			return -1;
		o = out->p + out->len;
		while (i < stop) {
			unsigned char c = (unsigned char)s[i];
			int lit;
			if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n')) {
				i += c == '\r' ? 2 : 1;
				*o++ = '\r';
				*o++ = '\n';
				col = 0;
				continue;
			}
			if (c >= 33 && c <= 126 && c != '=') {
				/* a run of octets that stand for themselves, as far as
				 * the line has room (the same breaks as one by one) */
				size_t k = 0, room;
				if (col >= 75) {
					*o++ = '=';
					*o++ = '\r';
					*o++ = '\n';
					col = 0;
				}
				room = 75 - col;
				while (k < room && i + k < stop && s[i + k] >= 33 && s[i + k] <= 126 && s[i + k] != '=')
					k++;
				memcpy(o, s + i, k);
				o += k;
				col += k;
				i += k;
				continue;
			}
			lit = c == ' ' || c == '\t';
			/* a space or tab before a line end (or the end) is encoded */
			if ((c == ' ' || c == '\t') &&
			    (i + 1 == n || s[i + 1] == '\n' || (s[i + 1] == '\r' && i + 2 < n && s[i + 2] == '\n')))
				lit = 0;
			if (col + (lit ? 1 : 3) > 75) {   /* soft break: "=" ends a line of 76 */
				*o++ = '=';
				*o++ = '\r';
				*o++ = '\n';
				col = 0;
			}
			if (lit) {
				*o++ = (char)c;
				col++;
			} else {
				*o++ = '=';
				*o++ = hexd[c >> 4];
				*o++ = hexd[c & 15];
				col += 3;
			}
			i++;
		}
		out->len = (size_t)(o - out->p);
		out->p[out->len] = 0;
	}
	return 0;
}

int mime_b64_lines(struct buf *out, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t off;
	for (off = 0; off < n; off += 57) {
		size_t k = n - off < 57 ? n - off : 57;
		if (base64_encode(out, b + off, k) < 0 || buf_add(out, "\r\n", 2) < 0)
			return -1;
	}
	return 0;
}

static int ascii_clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 32 || (unsigned char)*s > 126)
			return 0;
	return 1;
}

/* Control bytes (CR, LF, NUL, DEL...) are refused in header text. */
static int has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 32 || (unsigned char)*s == 127)
			return 1;
	return 0;
}

/* Encoded words "=?UTF-8?B?...?=" of s, each at most 75 octets, cut on
 * character boundaries, separated by CRLF SP. */
static int encoded_words(struct buf *out, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t k = 0;
		/* 45 octets of text make 60 of base64: 72 with the frame */
		while (i + k < n && k < 45) {
			size_t cl = 1;
			unsigned char c = (unsigned char)s[i + k];
			if (c >= 0xf0) cl = 4;
			else if (c >= 0xe0) cl = 3;
			else if (c >= 0xc0) cl = 2;
			if (k + cl > 45 && k > 0)
				break;
			k += cl;
		}
		if (i + k > n)
			k = n - i;
		if ((i > 0 && buf_add(out, "\r\n ", 3) < 0) || buf_adds(out, "=?UTF-8?B?") < 0 ||
		    base64_encode(out, s + i, k) < 0 || buf_adds(out, "?=") < 0)
			return -1;
		i += k;
	}
	return 0;
}

/* Unstructured text: as is, folded at spaces, when ASCII and no word
 * is too long for a line; else encoded words. */
static int unstructured(struct buf *out, size_t col, const char *v)
{
	size_t n = strlen(v), i, start = 0, word = 0;
	int plain = ascii_clean(v);
	for (i = 0; plain && i <= n; i++) {
		if (i == n || v[i] == ' ')
			word = 0;
		else if (++word > 900)
			plain = 0;
	}
	if (!plain)
		return encoded_words(out, v, n);
	/* fold before a space once the line passes 76 */
	for (i = 0; i < n; i++) {
		if (v[i] == ' ' && col + (i - start) > 76 && i > start) {
			if (buf_add(out, v + start, i - start) < 0 || buf_add(out, "\r\n", 2) < 0)
				return -1;
			start = i;
			col = 0;
		}
	}
	return buf_add(out, v + start, n - start);
}

int mime_header(struct buf *out, const char *name, const char *value)
{
	if (buf_adds(out, name) < 0 || buf_add(out, ": ", 2) < 0 || unstructured(out, strlen(name) + 2, value) < 0)
		return -1;
	return buf_add(out, "\r\n", 2);
}

/* ---- addresses ---- */

/* "a@b" or "Name <a@b>" into the display name and the bare address. */
static int split_addr(const char *s, char *name, size_t ncap, char *addr, size_t acap)
{
	const char *lt = strrchr(s, '<');
	size_t n;
	int l;
	if (has_ctl(s))
		return -1;
	if (!lt) {
		name[0] = 0;
		l = addr_strip(s, strlen(s), addr, acap);
	} else {
		const char *e = lt;
		while (e > s && e[-1] == ' ')
			e--;
		while (*s == ' ')
			s++;
		n = e > s ? (size_t)(e - s) : 0;
		if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
			s++;
			n -= 2;
		}
		if (n >= ncap)
			return -1;
		memcpy(name, s, n);
		name[n] = 0;
		if (strchr(lt, '>') == NULL || strchr(lt, '>')[1] != 0)
			return -1;
		l = addr_strip(lt, strlen(lt), addr, acap);
	}
	if (l <= 0)
		return -1;
	{
		const char *why;
		if (addr_check(addr, (size_t)l, 0, &why) != ADDR_OK || !addr_domain(addr) ||
		    addr_is_utf8(addr, (size_t)l))
			return -1;
	}
	return 0;
}

/* A mailbox for a header: the name quoted or encoded, then <addr>. */
static int mailbox(struct buf *out, const char *name, const char *addr)
{
	const char *p;
	if (!name[0])
		return buf_adds(out, addr);
	if (ascii_clean(name) && strlen(name) < 200) {
		if (buf_addc(out, '"') < 0)
			return -1;
		for (p = name; *p; p++)
			if ((*p == '"' || *p == '\\') ? buf_addc(out, '\\') < 0 || buf_addc(out, *p) < 0
			                              : buf_addc(out, *p) < 0)
				return -1;
		if (buf_addc(out, '"') < 0)
			return -1;
	} else if (encoded_words(out, name, strlen(name)) < 0) {
		return -1;
	}
	return buf_add(out, " <", 2) < 0 || buf_adds(out, addr) < 0 ? -1 : buf_addc(out, '>');
}

/* A list field (to, cc, bcc): each address into the envelope; the header
 * (hname, NULL for bcc) into out. */
static int addr_list(json_t *v, const char *field, const char *hname, struct envelope *e,
                     struct buf *out, struct httpmsg_err *err)
{
	char f[64], name[512], addr[ADDR_PATH_MAX + 1], given[ADDR_PATH_MAX + 3], ee[256];
	size_t i, k = json_is_array(v) ? json_array_size(v) : 1, put = 0;
	if (!v)
		return 0;
	if (!json_is_array(v) && !json_is_string(v))
		return bad(err, field, "want a string or an array of strings");
	if (hname && k && (buf_adds(out, hname) < 0 || buf_add(out, ": ", 2) < 0))
		return -2;
	for (i = 0; i < k; i++) {
		json_t *a = json_is_array(v) ? json_array_get(v, i) : v;
		snprintf(f, sizeof f, json_is_array(v) ? "%s[%zu]" : "%s", field, i);
		if (!json_is_string(a))
			return bad(err, f, "want a string");
		if (split_addr(json_string_value(a), name, sizeof name, addr, sizeof addr) < 0)
			return bad(err, f, "bad address");
		snprintf(given, sizeof given, "<%s>", addr);
		if (envelope_rcpt_arg(e, given, ee, sizeof ee) != 0)
			return bad(err, f, ee);
		if (hname && ((put++ && buf_add(out, ",\r\n ", 4) < 0) || mailbox(out, name, addr) < 0))
			return -2;
	}
	if (hname && k && buf_add(out, "\r\n", 2) < 0)
		return -2;
	return 0;
}

/* ---- the body ---- */

/* A text part: 7bit when every line is ASCII and short, else QP. */
static int text_part(struct buf *out, const char *type, const char *s, size_t n)
{
	size_t i, col = 0;
	int plain = 1;
	for (i = 0; i < n && plain; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n') {
			col = 0;
			if (i == 0 || s[i - 1] != '\r')
				plain = 0;  /* a bare LF: QP writes CRLF */
		} else if (c == '\r') {
			if (i + 1 >= n || s[i + 1] != '\n')
				plain = 0;
		} else if (c >= 127 || (c < 32 && c != '\t') || ++col > 76 ||
		           (c == '=' && i + 1 < n && s[i + 1] == '_')) {
			plain = 0;  /* "=_" only QP's =3D_ keeps apart from a boundary */
		}
	}
	/* buf_adds, not buf_printf (which formats twice): this is on the
	 * path of every message */
	if (buf_adds(out, "Content-Type: ") < 0 || buf_adds(out, type) < 0 ||
	    buf_adds(out, "; charset=utf-8\r\nContent-Transfer-Encoding: ") < 0 ||
	    buf_adds(out, plain ? "7bit\r\n\r\n" : "quoted-printable\r\n\r\n") < 0)
		return -1;
	if (plain ? buf_add(out, s, n) < 0 : mime_qp(out, s, n) < 0)
		return -1;
	if (n && out->p[out->len - 1] != '\n' && buf_add(out, "\r\n", 2) < 0)
		return -1;
	return 0;
}

static int ctype_ok(const char *t)
{
	const char *sl = strchr(t, '/');
	size_t i;
	if (!sl || sl == t || !sl[1] || strlen(t) > 127)
		return 0;
	for (i = 0; t[i]; i++) {
		char c = t[i];
		if (t + i == sl)
			continue;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$&-^_.+", c)))
			return 0;
	}
	return 1;
}

static int filename_param(struct buf *out, const char *fn)
{
	const char *p;
	if (ascii_clean(fn) && !strpbrk(fn, "\"\\") && strlen(fn) < 60)
		return buf_printf(out, ";\r\n filename=\"%s\"", fn);
	/* RFC 2231: filename*=utf-8''%XX... */
	if (buf_adds(out, ";\r\n filename*=utf-8''") < 0)
		return -1;
	for (p = fn; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("!#$&+-.^_`|~", c)) {
			if (buf_addc(out, (char)c) < 0)
				return -1;
		} else if (buf_printf(out, "%%%c%c", hexd[c >> 4], hexd[c & 15]) < 0) {
			return -1;
		}
	}
	return 0;
}

static int attachment(struct buf *out, json_t *a, size_t i, struct httpmsg_err *err)
{
	char f[64];
	json_t *fn = json_object_get(a, "filename"), *ct = json_object_get(a, "content_type"),
	       *c = json_object_get(a, "content");
	struct buf raw = BUF_INIT;
	int r;
	snprintf(f, sizeof f, "attachments[%zu]", i);
	if (!json_is_object(a))
		return bad(err, f, "want an object");
	snprintf(f, sizeof f, "attachments[%zu].filename", i);
	if (fn && (!json_is_string(fn) || has_ctl(json_string_value(fn)) || strchr(json_string_value(fn), '/') ||
	           strlen(json_string_value(fn)) > 255))
		return bad(err, f, "want a file name (no control characters or /, at most 255 octets)");
	snprintf(f, sizeof f, "attachments[%zu].content_type", i);
	if (ct && (!json_is_string(ct) || !ctype_ok(json_string_value(ct))))
		return bad(err, f, "want type/subtype");
	snprintf(f, sizeof f, "attachments[%zu].content", i);
	if (!json_is_string(c))
		return bad(err, f, "want base64 text");
	if (base64_decode(&raw, json_string_value(c), json_string_length(c)) < 0) {
		int e = errno;
		buf_free(&raw);
		return e == ENOMEM ? -2 : bad(err, f, "bad base64");
	}
	r = buf_printf(out, "Content-Type: %s", ct ? json_string_value(ct) : "application/octet-stream") < 0 ||
	    buf_adds(out, "\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment") < 0 ||
	    (fn && filename_param(out, json_string_value(fn)) < 0) || buf_adds(out, "\r\n\r\n") < 0 ||
	    mime_b64_lines(out, raw.p, raw.len) < 0 ? -2 : 0;
	buf_free(&raw);
	return r;
}

/* ---- the message ---- */

static const char *const reserved[] = {
	"from", "to", "cc", "bcc", "reply-to", "subject", "mime-version", "received",
	"return-path", "x-relay-class", "sender", "resent-from", "resent-to", "resent-cc",
	"resent-bcc", NULL
};

static int header_name_ok(const char *k)
{
	size_t i, n = strlen(k);
	if (n == 0 || n > 76)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)k[i] < 33 || (unsigned char)k[i] > 126 || k[i] == ':')
			return 0;
	for (i = 0; reserved[i]; i++)
		if (strcasecmp(k, reserved[i]) == 0)
			return 0;
	return strncasecmp(k, "content-", 8) != 0;
}

/* Nesting deeper than HTTPMSG_JSON_MAX_DEPTH is refused before parsing:
 * no message needs it and it costs the parser. */
static int too_deep(const char *s, size_t n)
{
	size_t i, d = 0;
	int str = 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = 0;
		} else if (c == '"') {
			str = 1;
		} else if (c == '{' || c == '[') {
			if (++d > HTTPMSG_JSON_MAX_DEPTH)
				return 1;
		} else if ((c == '}' || c == ']') && d) {
			d--;
		}
	}
	return 0;
}

static const char *const known[] = {
	"from", "to", "cc", "bcc", "reply_to", "subject", "text", "html", "headers",
	"attachments", "class", NULL
};

static int build(json_t *root, struct envelope *e, char *class, size_t classcap,
                 struct buf *out, struct httpmsg_err *err)
{
	json_t *v, *text, *html, *att;
	const char *k;
	char name[512], addr[ADDR_PATH_MAX + 1], given[ADDR_PATH_MAX + 3], ee[256];
	size_t i, natt;
	int r, multi;

	if (!json_is_object(root))
		return bad(err, "message", "want a JSON object");
	json_object_foreach(root, k, v) {
		for (i = 0; known[i] && strcmp(known[i], k) != 0; i++)
			;
		if (!known[i]) {
			char f[64];
			snprintf(f, sizeof f, "%.60s", k[0] ? k : "\"\"");
			return bad(err, f, "unknown field");
		}
	}
	v = json_object_get(root, "from");
	if (!json_is_string(v))
		return bad(err, "from", "missing (want \"a@b\" or \"Name <a@b>\")");
	if (split_addr(json_string_value(v), name, sizeof name, addr, sizeof addr) < 0)
		return bad(err, "from", "bad address");
	snprintf(given, sizeof given, "<%s>", addr);
	if (envelope_sender(e, given, NULL, ee, sizeof ee) != 0)
		return bad(err, "from", ee);
	if (buf_adds(out, "From: ") < 0 || mailbox(out, name, addr) < 0 || buf_add(out, "\r\n", 2) < 0)
		return -2;
	if ((r = addr_list(json_object_get(root, "to"), "to", "To", e, out, err)) < 0 ||
	    (r = addr_list(json_object_get(root, "cc"), "cc", "Cc", e, out, err)) < 0 ||
	    (r = addr_list(json_object_get(root, "bcc"), "bcc", NULL, e, out, err)) < 0)
		return r;
	if (e->nrcpt == 0)
		return bad(err, "to", "no recipient (to, cc or bcc)");
	if ((v = json_object_get(root, "reply_to"))) {
		if (!json_is_string(v) || split_addr(json_string_value(v), name, sizeof name, addr, sizeof addr) < 0)
			return bad(err, "reply_to", "bad address");
		if (buf_adds(out, "Reply-To: ") < 0 || mailbox(out, name, addr) < 0 || buf_add(out, "\r\n", 2) < 0)
			return -2;
	}
	if ((v = json_object_get(root, "subject"))) {
		if (!json_is_string(v) || has_ctl(json_string_value(v)))
			return bad(err, "subject", "want text without control characters (CR, LF)");
		if (json_string_length(v) > 4096)
			return bad(err, "subject", "longer than 4096 octets");
		if (mime_header(out, "Subject", json_string_value(v)) < 0)
			return -2;
	}
	class[0] = 0;
	if ((v = json_object_get(root, "class"))) {
		if (!json_is_string(v) || !envelope_class_valid(json_string_value(v), json_string_length(v)) ||
		    json_string_length(v) >= classcap)
			return bad(err, "class", "want 1 to 63 letters, digits, - _ .");
		strcpy(class, json_string_value(v));
	}
	if ((v = json_object_get(root, "headers"))) {
		json_t *hv;
		if (!json_is_object(v) || json_object_size(v) > HTTPMSG_HEADERS_MAX)
			return bad(err, "headers", "want an object of at most 100 names and strings");
		json_object_foreach(v, k, hv) {
			char f[96];
			snprintf(f, sizeof f, "headers.%.76s", k);
			if (!header_name_ok(k))
				return bad(err, f, "not a header name one may set here");
			if (!json_is_string(hv) || has_ctl(json_string_value(hv)) || json_string_length(hv) > 4096)
				return bad(err, f, "want text without control characters (CR, LF), at most 4096 octets");
			if (mime_header(out, k, json_string_value(hv)) < 0)
				return -2;
		}
	}
	text = json_object_get(root, "text");
	html = json_object_get(root, "html");
	att = json_object_get(root, "attachments");
	if (text && !json_is_string(text))
		return bad(err, "text", "want a string");
	if (html && !json_is_string(html))
		return bad(err, "html", "want a string");
	if (att && (!json_is_array(att) || json_array_size(att) > HTTPMSG_ATTACH_MAX))
		return bad(err, "attachments", "want an array of at most 100 objects");
	natt = att ? json_array_size(att) : 0;
	if (!text && !html && !natt)
		return bad(err, "text", "a message needs text, html or an attachment");
	if (buf_adds(out, "MIME-Version: 1.0\r\n") < 0)
		return -2;
	multi = text && html;
	if (natt && buf_adds(out, "Content-Type: multipart/mixed; boundary=\"=_relay_m\"\r\n\r\n"
	                          "This is a MIME message.\r\n\r\n--=_relay_m\r\n") < 0)
		return -2;
	if (multi && buf_printf(out, "Content-Type: multipart/alternative; boundary=\"=_relay_a\"\r\n\r\n%s"
	                             "--=_relay_a\r\n", natt ? "" : "This is a MIME message.\r\n\r\n") < 0)
		return -2;
	if (text && text_part(out, "text/plain", json_string_value(text), json_string_length(text)) < 0)
		return -2;
	if (multi && buf_adds(out, "\r\n--=_relay_a\r\n") < 0)
		return -2;
	if (html && text_part(out, "text/html", json_string_value(html), json_string_length(html)) < 0)
		return -2;
	if (multi && buf_adds(out, "\r\n--=_relay_a--\r\n") < 0)
		return -2;
	if (natt && !text && !html && buf_adds(out, "Content-Type: text/plain; charset=utf-8\r\n\r\n") < 0)
		return -2;
	for (i = 0; i < natt; i++) {
		if (buf_adds(out, "\r\n--=_relay_m\r\n") < 0)
			return -2;
		if ((r = attachment(out, json_array_get(att, i), i, err)) < 0)
			return r;
	}
	if (natt && buf_adds(out, "\r\n--=_relay_m--\r\n") < 0)
		return -2;
	return 0;
}

int httpmsg_build(const char *json, size_t n, struct envelope *e, char *class, size_t classcap,
                  struct buf *out, struct httpmsg_err *err)
{
	json_error_t je;
	json_t *root;
	int r;
	memset(err, 0, sizeof *err);
	out->len = 0;
	if (too_deep(json, n))
		return bad(err, "message", "JSON nested too deep");
	root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return -2;
		snprintf(err->field, sizeof err->field, "message");
		snprintf(err->text, sizeof err->text, "malformed JSON at line %d column %d: %.120s",
		         je.line, je.column, je.text);
		return -1;
	}
	r = build(root, e, class, classcap, out, err);
	json_decref(root);
	return r;
}
