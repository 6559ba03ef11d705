#ifndef RELAY_PROG_H
#define RELAY_PROG_H
/* Which file to run for one of relay's programs: $ENVNAME if set and not
 * empty (a filter, or a test's stand-in); else NAME beside the running
 * executable (/proc/self/exe), if executable there; else RELAY_BINDIR/NAME.
 * Always a path, never a PATH search. 0, or -1 ENAMETOOLONG. */
#include <stddef.h>
int prog_find(const char *name, const char *envname, char *out, size_t cap);
#endif
