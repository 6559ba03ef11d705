#include "base/json.h"

#include <stdio.h>

int json_str(struct buf *b, const char *s, size_t n)
{
	size_t i;
	if (buf_addc(b, '"') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			r = buf_add(b, e, 2);
		} else if (c < 0x20 || c == 0x7f)
			r = buf_printf(b, "\\u%04x", c);
		else
			r = buf_addc(b, (char)c);
		if (r < 0)
			return -1;
	}
	return buf_addc(b, '"');
}
