#ifndef RELAY_JSON_H
#define RELAY_JSON_H
/* Append s (n bytes) to b as a JSON string, quotes included. Control
 * bytes are escaped; bytes >= 0x80 pass through (UTF-8 is checked where
 * it enters: addresses are validated at inject). */
#include <stddef.h>
#include "base/buf.h"
int json_str(struct buf *b, const char *s, size_t n);
#endif
