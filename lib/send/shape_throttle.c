/* Adaptive throttles and retry hints (shape.h): what a reply told us to
 * do with a destination, and for how long. */
#include "send/shape.h"

#include <string.h>

/* A throttle whose time is over ends by itself. */
void shape_throttle_expire(struct shape_dest *d, double mono)
{
	if (d->throttle != THROTTLE_NONE && d->throttle_until <= mono) {
		d->throttle = THROTTLE_NONE;
		shape_bucket_of(d);
	}
}

/* ------------------------------------------------------------ throttles */

const char *shape_throttle_name(int action)
{
	switch (action) {
	case THROTTLE_SUSPEND: return "suspend";
	case THROTTLE_HALVE: return "halve";
	case THROTTLE_CONCURRENCY: return "concurrency";
	}
	return "none";
}

int shape_throttle_hit(struct shape *s, const char *key, int action, unsigned threshold,
                       double window, double dur, unsigned conc, double mono)
{
	struct shape_dest *d = shape_dest(s, key);
	if (!d || action == THROTTLE_NONE)
		return 0;
	shape_throttle_expire(d, mono);
	if (d->hits == 0 || mono - d->hits_since > window) {
		d->hits = 0;
		d->hits_since = mono;
	}
	if (++d->hits < (threshold ? threshold : 1))
		return 0;
	d->hits = 0;
	if (d->throttle != THROTTLE_NONE && d->throttle_until > mono + dur)
		return 0;   /* a longer one is on */
	d->throttle = action;
	d->throttle_until = mono + dur;
	s->dirty = 1;   /* state/shaping: it survives a restart */
	if (action == THROTTLE_HALVE) {
		if (d->lim.rate)
			shape_bucket_of(d);
		else {
			/* no rate to halve: half the sessions open now, at least one */
			d->throttle = THROTTLE_CONCURRENCY;
			d->throttle_conc = d->active / 2 ? d->active / 2 : 1;
		}
	} else if (action == THROTTLE_CONCURRENCY) {
		d->throttle_conc = conc ? conc : 1;
	}
	return 1;
}

int shape_throttle_set(struct shape *s, const char *key, int action, double dur, unsigned conc, double mono)
{
	struct shape_dest *d;
	if (action == THROTTLE_NONE || dur <= 0 || dur > SHAPE_REMAIN_MAX || !(d = shape_dest(s, key)))
		return 0;
	shape_throttle_expire(d, mono);
	/* a longer one is on, or the same one (within the second a beat may
	 * lag): nothing new */
	if (d->throttle != THROTTLE_NONE && d->throttle_until >= mono + dur - 1)
		return 0;
	d->throttle = action;
	d->throttle_until = mono + dur;
	d->throttle_conc = conc ? conc : 1;
	s->dirty = 1;
	shape_bucket_of(d);
	return 1;
}

/* ------------------------------------------------------------ retry hints */

unsigned long shape_retry_hint(const char *text)
{
	static const char *const lead[] = { "try again in ", "retry in ", "try again after ", "retry after " };
	size_t i;
	if (!text)
		return 0;
	for (i = 0; i < sizeof lead / sizeof lead[0]; i++) {
		const char *p = text;
		while ((p = strcasestr(p, lead[i]))) {
			unsigned long n = 0, mult = 0;
			const char *q = p + strlen(lead[i]), *u;
			int digits = 0;
			p = q;
			while (*q == ' ')
				q++;
			while (*q >= '0' && *q <= '9' && digits < 9) {
				n = n * 10 + (unsigned long)(*q++ - '0');
				digits++;
			}
			if (!digits || (*q >= '0' && *q <= '9'))
				continue;
			while (*q == ' ')
				q++;
			for (u = q; (*u | 0x20) >= 'a' && (*u | 0x20) <= 'z'; u++)
				;
			if (u - q >= 1 && u - q <= 7) {
				char w[8];
				size_t k, len = (size_t)(u - q);
				for (k = 0; k < len; k++)
					w[k] = (char)(q[k] | 0x20);
				w[len] = 0;
				if (!strcmp(w, "s") || !strcmp(w, "sec") || !strcmp(w, "secs") ||
				    !strcmp(w, "second") || !strcmp(w, "seconds"))
					mult = 1;
				else if (!strcmp(w, "m") || !strcmp(w, "min") || !strcmp(w, "mins") ||
				         !strcmp(w, "minute") || !strcmp(w, "minutes"))
					mult = 60;
				else if (!strcmp(w, "h") || !strcmp(w, "hour") || !strcmp(w, "hours"))
					mult = 3600;
			}
			if (mult && n)
				return n * mult > 86400 ? 86400 : n * mult;
		}
	}
	return 0;
}
