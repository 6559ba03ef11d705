/* Benchmark for bench/dkim: signatures per second, and canonicalize +
 * SHA-256 throughput of the body, using librelay directly.
 *   dkim_bench RSAKEY EDKEY SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/buf.h"
#include "dkim/dkim.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* a plausible text message of about size bytes */
static void message(struct buf *m, size_t size)
{
	static const char *words[] = { "the", "relay", "queue", "message", "  spaced", "delivery\t",
	                               "signature", "DKIM", "é8bit", "a", "longerwordhere" };
	size_t col = 0, i = 0;
	buf_adds(m, "From: Sender <sender@example.org>\r\nTo: rcpt@example.net\r\n"
	            "Subject: benchmark\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
	            "Message-ID: <bench@example.org>\r\nMIME-Version: 1.0\r\n"
	            "Content-Type: text/plain; charset=utf-8\r\n\r\n");
	while (m->len < size) {
		const char *w = words[(i * 7 + i / 3) % (sizeof words / sizeof *words)];
		buf_adds(m, w);
		col += strlen(w);
		if (col > 66) {
			buf_adds(m, (i % 5 == 0) ? "  \r\n" : "\r\n");
			col = 0;
		} else {
			buf_addc(m, ' ');
			col++;
		}
		i++;
	}
	buf_adds(m, "\r\n");
}

static void sign_rate(const char *name, const struct dkim_key *k, size_t size, double secs)
{
	struct buf m = BUF_INIT, out = BUF_INIT;
	struct dkim_sign_opts o;
	char why[256];
	long n = 0;
	double t0, t;
	message(&m, size);
	memset(&o, 0, sizeof o);
	o.domain = "example.org";
	o.selector = "bench";
	o.key = k;
	o.hcanon = o.bcanon = DKIM_RELAXED;
	o.t = -1;
	t0 = now();
	do {
		out.len = 0;
		if (dkim_sign_message(m.p, m.len, &o, &out, why, sizeof why) != DKIM_OK) {
			fprintf(stderr, "dkim_bench: %s\n", why);
			exit(111);
		}
		n++;
		t = now() - t0;
	} while (t < secs);
	printf("sign %-15s %8s  %10.1f signatures/s\n", name, size >= 1 << 20 ? "1 MiB" : "2 KiB", n / t);
	buf_free(&m);
	buf_free(&out);
}

static void hash_rate(int relaxed, double secs)
{
	struct buf m = BUF_INIT;
	unsigned char h[32];
	double t0, t, bytes = 0;
	message(&m, 64 << 20);
	t0 = now();
	do {
		dkim_body_hash(m.p, m.len, relaxed, h);
		bytes += m.len;
		t = now() - t0;
	} while (t < secs);
	printf("canonicalize+sha256 %-7s 64 MiB body  %8.1f MB/s\n", relaxed ? "relaxed" : "simple", bytes / t / 1e6);
	buf_free(&m);
}

int main(int argc, char **argv)
{
	struct dkim_key rsa, ed;
	char why[256];
	double secs = argc > 3 ? atof(argv[3]) : 3;
	if (argc < 3 || sodium_init() < 0)
		return 100;
	if (dkim_key_load(&rsa, argv[1], 0, why, sizeof why) != DKIM_OK ||
	    dkim_key_load(&ed, argv[2], 0, why, sizeof why) != DKIM_OK) {
		fprintf(stderr, "dkim_bench: %s\n", why);
		return 111;
	}
	sign_rate("rsa-sha256/2048", &rsa, 2048, secs);
	sign_rate("rsa-sha256/2048", &rsa, 1 << 20, secs);
	sign_rate("ed25519-sha256", &ed, 2048, secs);
	sign_rate("ed25519-sha256", &ed, 1 << 20, secs);
	hash_rate(1, secs);
	hash_rate(0, secs);
	dkim_key_free(&rsa);
	dkim_key_free(&ed);
	return 0;
}
