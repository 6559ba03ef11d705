/* relay-httpd's /u/TOKEN (http/unsub.h). */
#include "http/unsub.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/bounds.h"
#include "base/diag.h"
#include "bounce/unsub.h"

static void esc(struct buf *out, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<': buf_adds(out, "&lt;"); break;
		case '>': buf_adds(out, "&gt;"); break;
		case '&': buf_adds(out, "&amp;"); break;
		case '"': buf_adds(out, "&quot;"); break;
		case '\'': buf_adds(out, "&#39;"); break;
		default: buf_addc(out, *s);
		}
}

static int page(struct buf *out, int code, const char *title, const char *text, const char *rcpt,
                const char *domain, const char *form)
{
	out->len = 0;
	buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	              "<meta name=\"robots\" content=\"noindex\"><title>");
	esc(out, title);
	buf_adds(out, "</title></head><body><h1>");
	esc(out, title);
	buf_adds(out, "</h1><p id=\"text\">");
	esc(out, text);
	if (rcpt) {
		buf_adds(out, " <b id=\"rcpt\">");
		esc(out, rcpt);
		buf_adds(out, "</b> from mail of <b id=\"domain\">");
		esc(out, domain);
		buf_adds(out, "</b>.");
	}
	buf_adds(out, "</p>");
	if (form) {
		buf_adds(out, "<form method=\"post\" action=\"/u/");
		esc(out, form);
		buf_adds(out, "\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
		              "<button type=\"submit\" id=\"unsubscribe\">Unsubscribe</button></form>");
	}
	buf_adds(out, "</body></html>\n");
	return code;
}

/* RFC 8058 3.1: the body carries the key/value pair; form-urlencoded
 * ("List-Unsubscribe=One-Click", maybe among others) or multipart. */
static int one_click(const char *b, size_t n)
{
	static const char kv[] = "List-Unsubscribe=One-Click";
	size_t i, k = sizeof kv - 1;
	for (i = 0; i + k <= n; i++)
		if (memcmp(b + i, kv, k) == 0 && (i == 0 || b[i - 1] == '&') &&
		    (i + k == n || b[i + k] == '&' || b[i + k] == '\r' || b[i + k] == '\n'))
			return 1;
	/* multipart/form-data: name="List-Unsubscribe", then the value */
	for (i = 0; i + 24 <= n; i++)
		if (memcmp(b + i, "name=\"List-Unsubscribe\"", 23) == 0) {
			const char *v = memchr(b + i, '\n', n - i);
			if (v && (v = memchr(v + 1, '\n', n - (size_t)(v + 1 - b))) &&
			    (size_t)(b + n - v - 1) >= 9 && memcmp(v + 1, "One-Click", 9) == 0)
				return 1;
		}
	return 0;
}

int http_unsub(const char *home, const char *token, int post, const char *body, size_t blen,
               struct buf *out)
{
	unsigned char key[UNSUB_KEY_LEN];
	char domain[ADDR_DOMAIN_MAX + 1], rcpt[ADDR_PATH_MAX + 1];
	size_t n = strlen(token);
	int r;
	if (unsub_key_read(home, key) < 0) {
		warn_sys("unable to read %s/etc/unsubscribe.key", home);
		return page(out, 503, "Try again later", "The unsubscribe service cannot check links now.",
		            NULL, NULL, NULL);
	}
	r = unsub_token_check(key, token, n, domain, sizeof domain, rcpt, sizeof rcpt);
	memset(key, 0, sizeof key);
	if (r < 0 && errno == EACCES)
		return page(out, 403, "Not a valid link", "This unsubscribe link was not made here.", NULL,
		            NULL, NULL);
	if (r < 0)
		return page(out, 400, "Not a valid link", "This unsubscribe link is damaged.", NULL, NULL, NULL);
	if (!post)
		return page(out, 200, "Unsubscribe", "Press the button to stop mail to", rcpt, domain, token);
	if (!one_click(body, blen))
		return page(out, 400, "Not a one-click request",
		            "The request does not carry List-Unsubscribe=One-Click (RFC 8058).", NULL, NULL, NULL);
	if (unsub_request(home, domain, rcpt, time(NULL)) < 0) {
		warn_sys("unable to write an unsubscribe request in %s/state/unsub", home);
		return page(out, 503, "Try again later", "The request could not be recorded.", NULL, NULL, NULL);
	}
	printf("relay-httpd: unsubscribe <%s> from %s\n", rcpt, domain);
	fflush(stdout);
	return page(out, 200, "Unsubscribed", "No more mail will go to", rcpt, domain, NULL);
}
