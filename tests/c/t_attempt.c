/* Retry hints across clock steps (send/attempt.h attempt_hint_wait): a
 * hint is a wall-clock time in the info file; relay-send turns it into a
 * monotonic wait. The clocks are injected: wall = monotonic + offset,
 * and the offset steps while the message waits. The clock itself is
 * never stepped here (that is not safe on a shared machine). */
#include <stdio.h>

#include "check.h"
#include "send/attempt.h"

/* The monotonic time at which a message whose hint is next (true wall
 * time) becomes due, when the wall clock is off by before until the
 * monotonic time step, and right after. -1 if never within a year. */
static double due_at(long long next, long long before, double step, unsigned long longest)
{
	double mono = 0, odd = 0;
	int i;
	for (i = 0; i < 100000; i++) {
		long long off = mono < step ? before : 0;
		double w = attempt_hint_wait(next, (long long)mono + off, longest, mono, &odd);
		if (w <= 0)
			return mono;
		mono += w;
		if (mono > 365.0 * 86400)
			break;
	}
	return -1;
}

int main(void)
{
	const long long day = 86400;
	double d;

	/* a right clock: the hint is kept, to the second */
	CHECK(due_at(600, 0, 0, 3600) == 600);
	CHECK(due_at(0, 0, 0, 3600) == 0);

	/* a clock a day behind at start, corrected after 10 s: due not a day
	 * later, but within one recheck of the hint */
	d = due_at(600, -day, 10, 3600);
	CHECK(d >= 600 && d <= 600 + ATTEMPT_RECHECK_S);

	/* a clock a day ahead when the hint was written (next is a day too
	 * far), right now: no longer than the schedule's longest interval */
	d = due_at(day + 600, 0, 0, 3600);
	CHECK(d >= 0 && d <= 3600 + 1);

	/* a clock a day ahead at start, then corrected: at worst one early
	 * try, never a lost hint */
	d = due_at(600, day, 10, 3600);
	CHECK(d >= 0 && d <= 600 + ATTEMPT_RECHECK_S);
	CHECK_DONE();
}
