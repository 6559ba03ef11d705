#ifndef RELAY_SEND_UNSUB_H
#define RELAY_SEND_UNSUB_H
/* relay-send's side of RFC 8058 (issue 13; bounce/unsub.h has the
 * configuration and the tokens). A message of a class etc/unsubscribe
 * marks, with a sender and without a List-Unsubscribe of its own, goes
 * one recipient a transaction: each gets
 *     List-Unsubscribe: <URL/u/TOKEN>[, <mailto:ADDRESS>]
 *     List-Unsubscribe-Post: List-Unsubscribe=One-Click
 * in front of the message, and the DKIM signature is made over the
 * message with them (relay-dkim's h= lists both), per recipient. */
#include <stddef.h>

#include "send/attempt.h"
#include "send/children.h"

/* 1 when a's message gets the headers, 0 not, -1 etc/unsubscribe or the
 * message could not be read (the caller treats it as 1: unsub_prefix
 * then defers, never sends a marked message without them). */
int unsub_wanted(const char *home, const struct attempt *a);
/* The bytes sent in front of the message for recipient i into a->sig:
 * DKIM-Signature field(s) (none when no key signs), then the two
 * fields. 0, or -1 with why (temporary: the caller defers). */
int unsub_prefix(struct children *kids, struct attempt *a, size_t i, char *why, size_t cap);
#endif
