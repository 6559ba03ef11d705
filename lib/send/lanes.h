#ifndef RELAY_LANES_H
#define RELAY_LANES_H
/* Priority lanes (issue 12): every message class has a priority, 0 to 9
 * (etc/retry's priority=; built in: transactional 7, bulk 3, any other
 * class 5), and ready mail and waiting transactions are taken highest
 * priority first, oldest first within one. A class's reserve= keeps
 * workers (and, scaled, attempt slots) for mail of its priority or
 * higher: kept[p], the sum of the reserves of priorities p and above, is
 * how many of them lower mail must leave free or in use by mail of p or
 * above. The top lane may take any idle worker; kept never reaches the
 * last worker, so the lowest lane always has one.
 *
 * State: struct lanes (in struct deliver), the kept table, derived from
 * etc/retry once a second. The decision, lanes_may_take, is pure and
 * O(LANES) (tests/c/t_lanes.c); the qindex's ready list and deliver's
 * task list are kept in lane order with a tail per lane, so a push is
 * O(LANES) and a pop O(1). */
#include <stddef.h>
#include <time.h>
#include "send/qindex.h"

#define LANES        QLANES         /* priorities 0..9 (CONF_PRIORITY_MAX) */
#define LANE_DEFAULT QLANE_DEFAULT  /* a class without a priority, a message not yet read */

struct sendconf;

struct lanes {
	unsigned kept[LANES];    /* workers kept for priority >= p */
	int nw;                  /* the worker count kept[] is for */
	time_t at;               /* last derived (0: never) */
};

/* May mail of priority q take one of idle free units (workers or attempt
 * slots), with busy[p] units in use by mail of priority p? */
int lanes_may_take(const unsigned kept[LANES], const unsigned busy[LANES], unsigned idle, unsigned q);

/* kept[] from the reserve of each priority (reserve[p]: units, already
 * resolved from percentages), capped at total - 1. */
void lanes_kept(const unsigned reserve[LANES], unsigned total, unsigned kept[LANES]);
/* kept scaled from nw workers to total units (attempt slots), rounded up. */
void lanes_scale(const unsigned kept[LANES], unsigned nw, unsigned total, unsigned out[LANES]);

/* A class's priority: its etc/retry entry's priority= (the built-in one
 * of its name when the entry has none); for a class without an entry,
 * transactional and bulk keep theirs and any other takes the "default"
 * entry's. A table that cannot be read gives the built-in one. */
unsigned lanes_class_prio(struct sendconf *c, const char *class);

/* Derive l->kept for nw workers from every etc/retry entry and the
 * built-in classes, at most once a second (now: wall clock) or when nw
 * changed. A table that cannot be read keeps the table derived before. */
void lanes_refresh(struct lanes *l, struct sendconf *c, int nw, time_t now);

/* The priority of queued message id from its queue file's class line
 * (reads at most the envelope's first lines); LANE_DEFAULT when it cannot
 * be read. ctx is the struct sendconf. The qindex classifier. */
int lanes_classify(void *ctx, const char *id);
/* The class in the first n bytes of a queue file (head is modified: the
 * class is NUL-terminated in place), or NULL when they do not start with
 * the magic, the A line and a C line of 1..CONF_NAME_MAX bytes. */
char *lanes_head_class(char *head, size_t n);
/* Let index classify the messages it finds (before the first scan). */
void lanes_attach(struct qindex *index, struct sendconf *c);

#endif
