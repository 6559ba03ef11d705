#ifndef RELAY_EVMSGID_H
#define RELAY_EVMSGID_H
/* The Message-ID header of a queued message, for event records: the
 * header section is read from fd at off (the queue file's body_off), at
 * most EVMSGID_SCAN bytes. The value is unfolded, trimmed and made safe.
 * 1 found, 0 none, -1 read error. */
#include <stddef.h>
#include <sys/types.h>
#define EVMSGID_SCAN 16384
int events_message_id(int fd, off_t off, char *out, size_t cap);
/* The same over bytes in memory (the fuzzed part). */
int events_message_id_mem(const char *p, size_t n, char *out, size_t cap);
#endif
