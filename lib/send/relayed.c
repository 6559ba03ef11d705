/* The "relayed" DSN (send/relayed.h). */
#include "send/relayed.h"

#include <stdlib.h>
#include <time.h>

#include "base/diag.h"
#include "base/xtext.h"
#include "queue/dsnrec.h"
#include "send/attempt.h"
#include "send/children.h"
#include "send/job.h"
#include "send/qindex.h"

void relayed_mark(struct attempt *a, size_t k, const struct job_result *res)
{
	const char *notify, *orcpt;
	if (res->dsn || k >= a->e.nrcpt)
		return;
	dsnrec_rcpt_read(a->env.p, &a->e, k, &notify, &orcpt);
	if (!(dsn_notify_bits(notify) & DSN_N_SUCCESS))
		return;
	if (!a->relayed && !(a->relayed = calloc(a->e.nrcpt, 1))) {
		warn_("%s: out of memory: no relayed report (RFC 3461)", a->m->id);
		return;
	}
	a->relayed[k] = 1;
}

void relayed_report(struct attempt *a)
{
	struct buf in = BUF_INIT;
	size_t i;
	if (!a->relayed)
		return;
	for (i = 0; i < a->e.nrcpt; i++)
		if (a->relayed[i]) {
			const struct rerr *r = &a->err[i];
			buf_printf(&in, "%s\trelayed\t2.0.0\t\t", a->e.rcpt[i]);
			if (r->code)
				buf_printf(&in, "%d ", r->code);
			buf_printf(&in, "%s\t%lld\n", r->text ? r->text : "", (long long)time(NULL));
		}
	if (in.len && children_bounce(a->m->id, &in) < 0)
		warn_("%s: unable to queue the relayed report (RFC 3461): not retried", a->m->id);
	free(a->relayed);
	a->relayed = NULL;
	buf_free(&in);
}
