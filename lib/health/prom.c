#include "health/prom.h"

#include <errno.h>
#include <string.h>

int prom_name_ok(const char *s, int label)
{
	size_t i;
	if (!s || !*s)
		return 0;
	for (i = 0; s[i]; i++) {
		char c = s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return 0;
	}
	return !(label && s[0] == '_' && s[1] == '_'); /* __ is reserved */
}

int prom_head(struct buf *b, const char *name, const char *type, const char *help)
{
	size_t i;
	if (!prom_name_ok(name, 0)) {
		errno = EINVAL;
		return -1;
	}
	if (buf_printf(b, "# HELP %s ", name) < 0)
		return -1;
	for (i = 0; help[i]; i++) {
		int r = help[i] == '\\' ? buf_adds(b, "\\\\")
		      : help[i] == '\n' ? buf_adds(b, "\\n") : buf_addc(b, help[i]);
		if (r < 0)
			return -1;
	}
	return buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

int prom_sample(struct buf *b, const char *name, double v, const char *const *kv)
{
	size_t i;
	if (!prom_name_ok(name, 0) || buf_adds(b, name) < 0)
		return errno = EINVAL, -1;
	if (kv && kv[0]) {
		if (buf_addc(b, '{') < 0)
			return -1;
		for (i = 0; kv[i] && kv[i + 1]; i += 2) {
			const char *p;
			if (!prom_name_ok(kv[i], 1)) {
				errno = EINVAL;
				return -1;
			}
			if (buf_printf(b, "%s%s=\"", i ? "," : "", kv[i]) < 0)
				return -1;
			for (p = kv[i + 1]; *p; p++) {
				int r = *p == '\\' ? buf_adds(b, "\\\\") : *p == '"' ? buf_adds(b, "\\\"")
				      : *p == '\n' ? buf_adds(b, "\\n") : buf_addc(b, *p);
				if (r < 0)
					return -1;
			}
			if (buf_addc(b, '"') < 0)
				return -1;
		}
		if (buf_addc(b, '}') < 0)
			return -1;
	}
	if (v != v)
		return buf_adds(b, " NaN\n");
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		return buf_printf(b, " %lld\n", (long long)v);
	return buf_printf(b, " %.6g\n", v);
}
