#ifndef RELAY_EVLOG_H
#define RELAY_EVLOG_H
/* One line per event on stdout, as key=value pairs without time stamps
 * (the supervisor's logger adds them). Values with spaces or quotes are
 * quoted; text from outside is made safe first.
 *
 * events: each event also becomes a JSON record in the event spool
 * (base/evspool.h, doc/events.md) when state/events/ exists under
 * $RELAY_HOME (or /var/relay): the first ev_begin opens it for the
 * program's writer directory (its name), or ev_spool chooses. */
#include <stddef.h>
void ev_begin(const char *event);
void ev_str(const char *key, const char *val);
void ev_num(const char *key, long long val);
void ev_dbl(const char *key, double val);
void ev_end(void);      /* writes the line into stdout's buffer (and the record) */
void ev_flush(void);    /* fflush(stdout) and a due spool sync, once per loop turn */

/* events: open the spool for writer under home now; stdout: 0 for a
 * program whose stdout is not its log (relay-smtpd's is the SMTP
 * connection, relay-inject's the caller's): then events go only to the
 * spool. Returns evspool_open's value. */
int ev_spool(const char *home, const char *writer, int stdout_too);
int ev_spooling(void);  /* 1 when records are written (opens the spool if not tried) */
/* events: an event for the spool only, never on stdout (relay-inject's
 * and relay-smtpd's stdout is not a log): ev_begin_spool, ev_str..., ev_end. */
void ev_begin_spool(const char *event);
/* events: an event for stdout only, never a record (relay-send's view
 * of relay-health's verdict: relay-health records the change itself). */
void ev_begin_log(const char *event);
/* events: a field for the record only (the log line stays as it is). */
void ev_rec_str(const char *key, const char *val);
#endif
