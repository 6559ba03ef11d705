/* The intake programs' event records (intake.h). */
#include "events/intake.h"

#include "base/evlog.h"

void events_suppressed(const char *home, const char *writer, const char *recipient,
                       const char *sender, const char *reason)
{
	static int opened;
	if (!opened++)
		ev_spool(home, writer, 0);
	if (!ev_spooling())
		return;
	ev_begin_spool("suppressed");
	ev_str("rcpt", recipient);
	ev_str("sender", sender ? sender : "");
	ev_str("reason", reason ? reason : "");
	ev_end();
}
