/* One webhook endpoint: signing, the HTTP post (libcurl), what a status
 * means, back-off, and the loop over the stream (events/hook.h). */
#include "events/hook.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/fileio.h"
#include "conf/conf.h"
#include "events/stream.h"

int hook_sign(const unsigned char *key, size_t keylen, const char *ts,
              const char *body, size_t len, char hex[65])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	if (crypto_auth_hmacsha256_init(&st, key, keylen) != 0 ||
	    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts)) != 0 ||
	    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1) != 0 ||
	    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len) != 0 ||
	    crypto_auth_hmacsha256_final(&st, mac) != 0)
		return -1;
	sodium_bin2hex(hex, 65, mac, sizeof mac);
	return 0;
}

enum hook_verdict hook_classify(long status)
{
	if (status >= 200 && status < 300)
		return HOOK_OK;
	/* no answer, a timeout, a server error, "slow down": it may pass */
	if (status == 0 || status == 408 || status == 429 || status >= 500)
		return HOOK_RETRY;
	/* 1xx, 3xx (redirects are not followed) and other 4xx: this batch
	 * is refused; after tries it is skipped (a poison batch) */
	return HOOK_REFUSED;
}

double hook_backoff(unsigned n, double max, double u)
{
	double d = HOOK_BACKOFF_MIN;
	unsigned i;
	for (i = 1; i < n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	return d * (0.5 + u / 2);
}

static size_t drop_body(char *p, size_t size, size_t n, void *arg)
{
	size_t *got = arg;
	(void)p;
	*got += size * n;
	return *got > HOOK_REPLY_MAX ? 0 : size * n;   /* a huge answer is cut off */
}

long hook_post(const struct conf_webhook *w, const unsigned char *key, size_t keylen,
               const char *body, size_t len, char *err, size_t errcap)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char line[200], ts[32], sig[65], cebuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	size_t got = 0;
	CURLcode rc;
	if (!c) {
		snprintf(err, errcap, "out of memory");
		return 0;
	}
	snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
	h = curl_slist_append(h, "Content-Type: application/json");
	snprintf(line, sizeof line, "X-Relay-Timestamp: %s", ts);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof line, "X-Relay-Endpoint: %s", w->name);
	h = curl_slist_append(h, line);
	if (key && hook_sign(key, keylen, ts, body, len, sig) == 0) {
		snprintf(line, sizeof line, "X-Relay-Signature: v1=%s", sig);
		h = curl_slist_append(h, line);
	}
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (w->ca[0]) {
		struct buf p = BUF_INIT;
		if (conf_path(getenv("RELAY_HOME") ? getenv("RELAY_HOME") : "/var/relay", w->ca, &p) == 0)
			curl_easy_setopt(c, CURLOPT_CAINFO, p.p);
		buf_free(&p);
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(w->timeout < 10 ? w->timeout : 10));
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)w->timeout);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "relay-events/1");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cebuf);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	/* a 2xx whose body was cut off still counts: the status came first */
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status >= 200 && status < 300)) {
		snprintf(err, errcap, "%s", cebuf[0] ? cebuf : curl_easy_strerror(rc));
		if (rc != CURLE_WRITE_ERROR)
			status = 0;
	} else {
		snprintf(err, errcap, "HTTP %ld", status);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

/* ------------------------------------------------------------ the loop */

static void nap(double s)
{
	struct timespec ts;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int event_of(const struct evrec *r, char *out, size_t cap)
{
	const char *k = memmem(r->json, r->len, "\"event\":\"", 9), *e;
	if (!k)
		return -1;
	k += 9;
	e = memchr(k, '"', r->len - (size_t)(k - r->json));
	if (!e || (size_t)(e - k) >= cap)
		return -1;
	memcpy(out, k, (size_t)(e - k));
	out[e - k] = 0;
	return 0;
}

struct hook_stats { unsigned long long posted, batches, retried, skipped; };

static void log_kv(const char *event, const struct conf_webhook *w, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void log_kv(const char *event, const struct conf_webhook *w, const char *fmt, ...)
{
	va_list ap;
	printf("event=%s endpoint=%s ", event, w->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* state/events/consumers/NAME.prom: for a Prometheus textfile collector */
static void write_stats(const char *dir, const struct conf_webhook *w, const struct hook_stats *st,
                        const struct evstream *s)
{
	char p[PATH_MAX + 100];
	struct buf b = BUF_INIT;
	snprintf(p, sizeof p, "%s/%s.prom", dir, w->name);
	buf_printf(&b, "relay_events_posted_total{endpoint=\"%s\"} %llu\n"
	               "relay_events_batches_total{endpoint=\"%s\"} %llu\n"
	               "relay_events_retried_total{endpoint=\"%s\"} %llu\n"
	               "relay_events_skipped_total{endpoint=\"%s\"} %llu\n"
	               "relay_events_lag_bytes{endpoint=\"%s\"} %lld\n",
	           w->name, st->posted, w->name, st->batches, w->name, st->retried, w->name, st->skipped,
	           w->name, evstream_lag_bytes(s));
	if (atomic_write(p, b.p, b.len, 0644) < 0)
		warn_sys("unable to write %s", p);
	buf_free(&b);
}

int hook_run(const char *home, const struct conf_webhook *w)
{
	struct evstream s;
	struct buf key = BUF_INIT, body = BUF_INIT;
	struct hook_stats st = { 0, 0, 0, 0 };
	char dir[PATH_MAX], ckpt[PATH_MAX + 100], lock[PATH_MAX + 100], err[CURL_ERROR_SIZE + 64];
	const char *bm = getenv("RELAY_EVENTS_BACKOFF_MAX");
	double max = bm && atof(bm) > 0 ? atof(bm) : HOOK_BACKOFF_MAX;
	unsigned fails = 0, refused = 0;
	int lfd;
	if (evspool_dir(dir, sizeof dir, home) < 0 || evstream_open(&s, home) < 0)
		return 111;
	strncat(dir, "/consumers", sizeof dir - strlen(dir) - 1);
	snprintf(ckpt, sizeof ckpt, "%s/%s", dir, w->name);
	snprintf(lock, sizeof lock, "%s/%s.lock", dir, w->name);
	if (w->secret[0]) {
		struct buf p = BUF_INIT;
		if (conf_path(home, w->secret, &p) < 0 || read_file(p.p, &key, 4096) < 0) {
			warn_sys("unable to read the secret of %s (%s)", w->name, w->secret);
			return 111;
		}
		buf_free(&p);
		if (key.len && key.p[key.len - 1] == '\n')
			key.len--;
	}
	/* one process per endpoint, even across a restart */
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 || flock(lfd, LOCK_EX) < 0) {
		warn_sys("unable to lock %s", lock);
		return 111;
	}
	if (evstream_load(&s, ckpt) < 0) {
		warn_sys("unable to read the checkpoint %s", ckpt);
		return 111;
	}
	/* registered at once: from now on no writer removes what it needs */
	if (access(ckpt, F_OK) < 0 && evstream_save(&s, ckpt) < 0)
		warn_sys("unable to write %s", ckpt);
	unsigned long seal_seen = 0;
	for (;;) {
		struct evpos *before;
		size_t nb = evstream_tell(&s, &before), k = 0, read = 0;
		struct evrec r;
		char first[120] = "", ev[64];
		int got = 0;
		long status;
		body.len = 0;
		buf_addc(&body, '[');
		while (k < w->batch && (got = evstream_next(&s, &r)) == 1) {
			read++;
			if (event_of(&r, ev, sizeof ev) < 0 || !conf_webhook_wants(w, ev))
				continue;
			if (k++)
				buf_addc(&body, ',');
			else
				snprintf(first, sizeof first, "%s:%llu:%lld", r.writer, r.seq, r.off);
			evstream_json(&r, &body);
		}
		buf_addc(&body, ']');
		if (s.seal_timeouts != seal_seen) {   /* a writer stopped holding its lock */
			seal_seen = s.seal_timeouts;
			log_kv("webhook_writer_stalled", w, "segments_left=%lu", seal_seen);
		}
		if (got < 0) {
			warn_sys("unable to read the event spool");
			evstream_seek(&s, before, nb);
			free(before);
			nap(1);
			continue;
		}
		if (k == 0) {
			if (read && evstream_save(&s, ckpt) < 0)   /* none for this endpoint */
				warn_sys("unable to write %s", ckpt);
			free(before);
			nap(HOOK_POLL_MS / 1000.0);
			continue;
		}
		status = hook_post(w, w->secret[0] ? (unsigned char *)key.p : NULL, key.len, body.p, body.len,
		                   err, sizeof err);
		switch (hook_classify(status)) {
		case HOOK_OK:
			/* the checkpoint moves only now: a crash before it sends
			 * the batch again (at-least-once) */
			if (evstream_save(&s, ckpt) < 0)
				warn_sys("unable to write %s", ckpt);
			st.posted += k;
			st.batches++;
			fails = refused = 0;
			log_kv("webhook_posted", w, "events=%zu first=%s status=%ld", k, first, status);
			break;
		case HOOK_RETRY: {
			double d = hook_backoff(++fails, max, randombytes_uniform(1000000) / 1e6);
			st.retried++;
			log_kv("webhook_retry", w, "events=%zu first=%s status=%ld wait=%.3f text=\"%s\"", k, first,
			       status, d, err);
			evstream_seek(&s, before, nb);
			write_stats(dir, w, &st, &s);
			nap(d);
			break;
		}
		case HOOK_REFUSED:
			if (++refused >= w->tries) {
				/* a poison batch: logged and skipped, the stream goes on */
				st.skipped += k;
				log_kv("webhook_skipped", w, "events=%zu first=%s status=%ld tries=%u", k, first,
				       status, refused);
				refused = 0;
				if (evstream_save(&s, ckpt) < 0)
					warn_sys("unable to write %s", ckpt);
			} else {
				double d = hook_backoff(refused, max, randombytes_uniform(1000000) / 1e6);
				log_kv("webhook_refused", w, "events=%zu first=%s status=%ld wait=%.3f", k, first,
				       status, d);
				evstream_seek(&s, before, nb);
				nap(d);
			}
			break;
		}
		free(before);
		write_stats(dir, w, &st, &s);
	}
}
