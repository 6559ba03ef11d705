#ifndef RELAY_EVINTAKE_H
#define RELAY_EVINTAKE_H
/* The event records of the intake programs (doc/events.md), spool only
 * (their stdout is a connection, a caller's, or not a log).
 *
 * events_suppressed: a recipient on the suppression list was refused at
 * intake. writer is the program (relay-inject, relay-smtpd, relay-httpd:
 * named by the caller, never taken from argv[0]: relay-inject runs as
 * sendmail too); home its relay home. The record is written where the
 * program's uid may write state/events/WRITER/ (a relay-inject run by
 * any user on an installed tree may not: then nothing is written). */
void events_suppressed(const char *home, const char *writer, const char *recipient,
                       const char *sender, const char *reason);
#endif
