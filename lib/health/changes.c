/* events: relay-health's verdict changes (changes.h). */
#include "health/changes.h"

#include "base/evlog.h"

size_t health_record_changes(const char *home, const struct health_state *prev,
                             const struct health_state *cur)
{
	size_t i, n = 0;
	int opened = 0;
	for (i = 0; i < cur->n; i++) {
		const struct health_entry *c = &cur->e[i];
		const struct health_entry *p = health_find(prev, c->pool, c->member);
		int was = p && p->state == HS_DOWN, is = c->state == HS_DOWN;
		if (was == is)
			continue;
		if (!opened++)
			ev_spool(home, "relay-health", 0);
		ev_begin_spool(is ? "member_down" : "member_up");
		ev_str("pool", c->pool);
		ev_str("relay", c->member);
		ev_str("reason", c->reason);
		ev_str("state", health_state_name(c->state));
		ev_num("since", (long long)c->since);
		ev_end();
		n++;
	}
	return n;
}
