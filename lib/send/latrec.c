/* relay-send's batching of delivery latencies (send/latrec.h). */
#include "send/latrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "conf/conf.h"

void record_latency(struct record *r, const char *relay, double seconds)
{
	char n[COUNTERS_NAME_MAX + 1];
	size_t i;
	snprintf(n, sizeof n, "%s", relay);
	conf_lower(n);
	if (!counters_name_ok("relay", n))
		return;
	for (i = 0; i < r->nlat; i++)
		if (strcmp(r->lat[i].name, n) == 0)
			break;
	if (i == r->nlat) {
		struct record_latency *nl = realloc(r->lat, (r->nlat + 1) * sizeof *nl);
		if (!nl)
			return;   /* a count lost, never a delivery */
		r->lat = nl;
		memset(&r->lat[i], 0, sizeof r->lat[i]);
		memcpy(r->lat[i].name, n, strlen(n) + 1);
		r->nlat++;
	}
	latency_observe(&r->lat[i].l, seconds);
}

void record_latency_flush(struct record *r)
{
	size_t i;
	for (i = 0; i < r->nlat; i++)
		if (latency_add(r->home, r->lat[i].name, &r->lat[i].l) < 0)
			warn_sys("unable to update state/counters/latency/%s", r->lat[i].name);
	record_latency_drop(r);
}

void record_latency_drop(struct record *r)
{
	free(r->lat);
	r->lat = NULL;
	r->nlat = 0;
}
