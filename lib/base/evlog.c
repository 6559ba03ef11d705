#include "base/evlog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/evspool.h"
#include "base/json.h"

static struct buf line = BUF_INIT;
/* events: the same event as a spool record (doc/events.md) */
static struct buf rec = BUF_INIT;
static int spool_tried, to_stdout = 1, quiet_one;
/* the record's writer field: the spool's writer, never argv[0] (a setuid
 * relay-queue is run by anyone under any name) */
static char writer_name[65];

/* The record's names for the log line's keys (doc/events.md). */
static const char *rec_key(const char *key)
{
	if (!strcmp(key, "id")) return "queue_id";
	if (!strcmp(key, "rcpt")) return "recipient";
	if (!strcmp(key, "dsn")) return "enhanced_code";
	return key;
}

int ev_spool(const char *home, const char *writer, int stdout_too)
{
	spool_tried = 1;
	to_stdout = stdout_too;
	if (!home || !writer || !evspool_name_ok(writer))
		return 1;
	snprintf(writer_name, sizeof writer_name, "%s", writer);
	return evspool_open(home, writer);
}

static void spool_auto(void)
{
	const char *h = secure_getenv("RELAY_HOME");
	if (spool_tried)
		return;
	spool_tried = 1;
	if (progname && evspool_name_ok(progname)) {
		snprintf(writer_name, sizeof writer_name, "%s", progname);
		evspool_open(h && *h ? h : "/var/relay", progname);
	}
}

int ev_spooling(void)
{
	spool_auto();
	return evspool_enabled();
}

void ev_begin_spool(const char *event)
{
	ev_begin(event);
	quiet_one = 1;
}

void ev_begin_log(const char *event)
{
	ev_begin(event);
	rec.len = 0;
}

void ev_rec_str(const char *key, const char *val)
{
	char safe[1024];
	size_t n;
	const char *k = rec_key(key);
	if (!rec.len)
		return;
	n = safe_text(safe, sizeof safe, val ? val : "", val ? strlen(val) : 0);
	buf_addc(&rec, ',');
	json_str(&rec, k, strlen(k));
	buf_addc(&rec, ':');
	json_str(&rec, safe, n);
}

void ev_begin(const char *event)
{
	struct timespec ts;
	spool_auto();
	quiet_one = 0;
	line.len = 0;
	buf_printf(&line, "event=%s", event);
	rec.len = 0;
	if (evspool_enabled()) {
		clock_gettime(CLOCK_REALTIME, &ts);
		buf_printf(&rec, "{\"v\":1,\"event\":");
		json_str(&rec, event, strlen(event));
		buf_printf(&rec, ",\"time\":%lld.%03ld,\"writer\":", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
		json_str(&rec, writer_name, strlen(writer_name));
	}
}

void ev_str(const char *key, const char *val)
{
	char safe[1024];
	size_t i, n;
	int quote = 0;
	n = safe_text(safe, sizeof safe, val ? val : "", val ? strlen(val) : 0);
	if (rec.len && !(!strcmp(key, "dsn") && !strcmp(safe, "-"))) {
		const char *k = rec_key(key);
		buf_addc(&rec, ',');
		json_str(&rec, k, strlen(k));
		buf_addc(&rec, ':');
		json_str(&rec, safe, n);
	}
	for (i = 0; i < n; i++)
		if (safe[i] == ' ' || safe[i] == '"' || safe[i] == '=' || safe[i] == '\\')
			quote = 1;
	buf_printf(&line, " %s=", key);
	if (!quote && n) {
		buf_add(&line, safe, n);
		return;
	}
	buf_addc(&line, '"');
	for (i = 0; i < n; i++) {
		if (safe[i] == '"' || safe[i] == '\\')
			buf_addc(&line, '\\');
		buf_addc(&line, safe[i]);
	}
	buf_addc(&line, '"');
}

static void rec_num(const char *key, const char *text)
{
	const char *k = rec_key(key);
	if (!rec.len)
		return;
	buf_addc(&rec, ',');
	json_str(&rec, k, strlen(k));
	buf_printf(&rec, ":%s", text);
}

void ev_num(const char *key, long long val)
{
	char t[32];
	snprintf(t, sizeof t, "%lld", val);
	rec_num(key, t);
	buf_printf(&line, " %s=%s", key, t);
}

void ev_dbl(const char *key, double val)
{
	char t[64];
	snprintf(t, sizeof t, "%.3f", isfinite(val) ? val : 0.0);
	rec_num(key, t);
	buf_printf(&line, " %s=%s", key, t);
}

void ev_end(void)
{
	buf_addc(&line, '\n');
	if (to_stdout && !quiet_one)
		fwrite(line.p, 1, line.len, stdout);
	quiet_one = 0;
	if (rec.len && buf_addc(&rec, '}') == 0)
		evspool_append(rec.p, rec.len);
	rec.len = 0;
}

void ev_flush(void)
{
	if (to_stdout)
		fflush(stdout);
	evspool_tick(0);
}
