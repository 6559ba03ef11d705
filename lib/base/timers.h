#ifndef RELAY_TIMERS_H
#define RELAY_TIMERS_H
/* Timers that depend on each other live here and name each other.
 *
 * relay-queue arms alarm(QUEUE_MAX_RUN) and dies when it fires, so no
 * relay-queue is older than QUEUE_MAX_RUN. relay-send removes files in
 * queue/tmp/ only when they are older than TMP_CLEAN_AGE, which is larger,
 * so it never removes a file a live relay-queue is still writing. */
#define QUEUE_MAX_RUN  86400                   /* seconds */
#define TMP_CLEAN_AGE  (QUEUE_MAX_RUN + 43200) /* seconds; > QUEUE_MAX_RUN */

#if TMP_CLEAN_AGE <= QUEUE_MAX_RUN
#error "TMP_CLEAN_AGE must exceed QUEUE_MAX_RUN"
#endif

#endif
