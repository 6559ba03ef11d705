#ifndef RELAY_SOURCE_H
#define RELAY_SOURCE_H
/* etc/source at relay-send's start (issue 15): for each member whose
 * line names both bind= addresses and helo=, check forward-confirmed
 * reverse DNS (the HELO name resolves to each address, and each address's
 * PTR is the HELO name) and log a warning for each mismatch. Mail goes
 * out either way: many receivers reject such mail, so the operator must
 * know, but the check's DNS may be the one that is wrong. */
#include "send/sendconf.h"

void source_check(struct sendconf *c);
#endif
