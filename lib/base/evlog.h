#ifndef RELAY_EVLOG_H
#define RELAY_EVLOG_H
/* One line per event on stdout, as key=value pairs without time stamps
 * (the supervisor's logger adds them). Values with spaces or quotes are
 * quoted; text from outside is made safe first. */
#include <stddef.h>
void ev_begin(const char *event);
void ev_str(const char *key, const char *val);
void ev_num(const char *key, long long val);
void ev_dbl(const char *key, double val);
void ev_end(void);      /* writes the line into stdout's buffer */
void ev_flush(void);    /* fflush(stdout), once per loop turn */
#endif
