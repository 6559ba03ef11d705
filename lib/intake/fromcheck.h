#ifndef RELAY_FROMCHECK_H
#define RELAY_FROMCHECK_H
/* The From: check of an authenticated submitter (a relay-smtpd user, a
 * relay-httpd key): every address of every From: field must be one the
 * account's from= patterns allow. Shared by intake/smtpin.c and
 * http/api.c. */
#include <stddef.h>
#include "conf/users.h"
#include "intake/msg.h"

/* 1 allowed (or u has no from= patterns), 0 not: who names the first
 * address refused, or "an address it cannot read" (a field that does not
 * parse, or no memory: refused, never waved through). */
int from_header_ok(const struct conf_user *u, const char *m, const struct msg_headers *h,
                   char *who, size_t cap);
#endif
