#ifndef RELAY_SMTPD_STATE_H
#define RELAY_SMTPD_STATE_H
/* State shared by every relay-smtpd process (one per connection under
 * tcpserver), in a directory (RELAY_HOME/state/smtpd): the per-user
 * message rate of etc/users rate= and the AUTH-failure tarpit per
 * client address. Every read-modify-write holds an exclusive flock on
 * DIR/lock and replaces the file atomically (base/fileio.h
 * atomic_write: temp, fsync, rename), so concurrent sessions never lose
 * an update and a crash leaves the old file or the new one.
 *
 *   DIR/rate-USER   "rate1 WIDTH NEWEST C0 C1 ... C60": the user's
 *                   messages in 61 slots of WIDTH = period/60 seconds,
 *                   C0 the slot NEWEST (now / WIDTH), C60 the oldest.
 *                   The sum over all 61 slots covers more than a whole
 *                   period, so "sum < N" never lets N+1 through in any
 *                   window of the period (strict, slightly conservative).
 *   DIR/tarpit      "tarpit1" then "ADDR FAILURES LAST" lines: AUTH
 *                   failures per client address; an entry expires
 *                   SMTPD_TARPIT_EXPIRE seconds after its last failure,
 *                   and at most SMTPD_TARPIT_MAX entries are kept (the
 *                   oldest goes first).
 *
 * A file that does not parse is an error (EPROTO), never a fresh start:
 * the caller decides what an error means (relay-smtpd: 451 for the rate,
 * the in-session count for the tarpit). The clock is passed in. */
#include <time.h>

#define SMTPD_RATE_SLOTS     61
#define SMTPD_TARPIT_EXPIRE  3600
#define SMTPD_TARPIT_MAX     1024

/* Take one message of user's rate (rate per per seconds) at now: 1
 * taken, 0 over the rate (nothing changed), -1 error (errno). delta -1
 * gives back one taken at `when' (a transaction that queued nothing),
 * if its slot is still kept; returns 1. */
int smtpd_rate_take(const char *dir, const char *user, unsigned rate, unsigned per,
                    time_t now, int delta, time_t when);

/* Record one AUTH failure of addr at now: the failures of addr not yet
 * expired, this one included (>= 1), or -1 error (errno). */
int smtpd_tarpit_fail(const char *dir, const char *addr, time_t now);
#endif
