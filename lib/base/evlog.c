#include "base/evlog.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/diag.h"

static struct buf line = BUF_INIT;

void ev_begin(const char *event)
{
	line.len = 0;
	buf_printf(&line, "event=%s", event);
}

void ev_str(const char *key, const char *val)
{
	char safe[1024];
	size_t i, n;
	int quote = 0;
	n = safe_text(safe, sizeof safe, val ? val : "", val ? strlen(val) : 0);
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

void ev_num(const char *key, long long val) { buf_printf(&line, " %s=%lld", key, val); }
void ev_dbl(const char *key, double val) { buf_printf(&line, " %s=%.3f", key, val); }

void ev_end(void)
{
	buf_addc(&line, '\n');
	fwrite(line.p, 1, line.len, stdout);
}

void ev_flush(void) { fflush(stdout); }
