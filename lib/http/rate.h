#ifndef RELAY_HTTP_RATE_H
#define RELAY_HTTP_RATE_H
/* A key's rate= (N messages per 60, 3600 or 86400 s), in memory: a
 * fixed window per key name that starts with the key's first message.
 * In memory only: a restart of relay-httpd starts every window afresh
 * (the limit protects the relays from a runaway application; it is not
 * a billing record). At most RATE_KEYS names; past that the oldest
 * window is reused. Not thread-safe: relay-httpd answers from one thread. */
#include <time.h>

#define RATE_KEYS 1024

struct rate_win {
	char name[65];
	time_t start;
	unsigned count;
};

struct rate {
	struct rate_win w[RATE_KEYS];
	unsigned n;
};

/* May the key send one more now? 0 yes (counted), else the seconds to
 * wait (Retry-After). rate 0: no limit. */
long rate_take(struct rate *r, const char *name, unsigned rate, unsigned per, time_t now);
/* Give back the message rate_take counted (the request failed after). */
void rate_give(struct rate *r, const char *name);
#endif
