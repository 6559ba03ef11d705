/* relay-qctl: lists and counts the queue under $RELAY_HOME/queue (list,
 * stat) and changes it (hold, release, delete, requeue, flush; see
 * doc/relay-qctl.8). Wiring only: the walk and the changes are in
 * lib/queue/admin.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/diag.h"
#include "base/json.h"
#include "queue/admin.h"
#include "queue/queue.h"
#include "send/explain.h"
#include "send/tlsrpt.h"   /* tls-rpt (issue 15) */
#include "conf/conf.h"       /* cluster (issue 16) */
#include "send/cluster.h"   /* cluster (issue 16) */
#include "send/share.h"     /* issue 16 share */

static void human_age(char *out, size_t cap, long long s)
{
	if (s < 120) snprintf(out, cap, "%llds", s);
	else if (s < 7200) snprintf(out, cap, "%lldm", s / 60);
	else if (s < 172800) snprintf(out, cap, "%lldh", s / 3600);
	else snprintf(out, cap, "%lldd", s / 86400);
}

/* One message: JSON (after a separator unless first) or text lines. */
static int format(struct buf *out, const struct qadmin_entry *en, const struct qadmin_msg *m,
                  long long age, int json, int first)
{
	const struct queue_env *e = &m->env;
	size_t k;
	int r = 0;
	if (json) {
		r |= buf_printf(out, "%s\n{\"id\":\"%s\",\"age\":%lld,\"size\":%lld,\"class\":",
		                first ? "" : ",", en->id, age, m->size);
		r |= json_str(out, e->class, strlen(e->class));
		r |= buf_adds(out, ",\"sender\":");
		r |= json_str(out, e->sender, strlen(e->sender));
		r |= buf_printf(out, ",\"held\":%s,\"attempts\":%d,\"recipients\":[",
		                en->held ? "true" : "false", m->info.attempts);
		for (k = 0; k < e->nrcpt; k++) {
			r |= buf_adds(out, k ? ",{\"address\":" : "{\"address\":");
			r |= json_str(out, e->rcpt[k], strlen(e->rcpt[k]));
			r |= buf_printf(out, ",\"status\":\"%s\"}",
			                qadmin_status(m->info.state[k], m->info.attempts));
		}
		return r | buf_adds(out, "]}");
	}
	{
		char a[32];
		int other = strcmp(e->class, "default") != 0;
		human_age(a, sizeof a, age);
		r |= buf_printf(out, "%s  %5s  %8lld  <%s>%s%s%s\n", en->id, a, m->size, e->sender,
		                other ? "  class=" : "", other ? e->class : "",
		                en->held ? "  HELD" : "");
	}
	for (k = 0; k < e->nrcpt; k++)
		r |= buf_printf(out, "    %-10s <%s>\n",
		                qadmin_status(m->info.state[k], m->info.attempts), e->rcpt[k]);
	return r;
}

static int cmd_list(int json)
{
	struct qadmin_list l = QADMIN_LIST_INIT;
	struct qadmin_msg m = QADMIN_MSG_INIT;
	struct buf out = BUF_INIT;
	char err[PATH_MAX + 64];
	size_t i, shown = 0;
	time_t now = time(NULL);
	if (qadmin_scan(&l, err, sizeof err) < 0)
		die_sys(EXIT_TEMP, "%s", err);
	if (json && buf_adds(&out, "[") < 0)
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < l.n; i++) {
		const char *why;
		int r = qadmin_read(&l.e[i], &m, &why);
		if (r < 0)
			die_sys(EXIT_TEMP, "unable to read the info file of %s", l.e[i].id);
		if (r == 0) {
			if (why)
				warn_("unable to read %s: %s", l.e[i].path, why);
			continue;
		}
		if (format(&out, &l.e[i], &m, now - m.env.arrival < 0 ? 0 : (long long)(now - m.env.arrival),
		           json, shown++ == 0) < 0)
			die(EXIT_TEMP, "out of memory");
		qadmin_msg_done(&m);
		if (out.len > 65536) {
			fwrite(out.p, 1, out.len, stdout);
			out.len = 0;
		}
	}
	if (json && buf_adds(&out, "\n]\n") < 0)
		die(EXIT_TEMP, "out of memory");
	if (out.len)
		fwrite(out.p, 1, out.len, stdout);
	buf_free(&out);
	qadmin_msg_free(&m);
	qadmin_list_free(&l);
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}

static int cmd_stat(int json)
{
	struct qadmin_stat s;
	char err[PATH_MAX + 64];
	if (qadmin_stat(&s, time(NULL), err, sizeof err) < 0)
		die_sys(EXIT_TEMP, "%s", err);
	if (json)
		printf("{\"messages\":%ld,\"held\":%ld,\"deferred\":%ld,\"bytes\":%lld,\"oldest\":%lld,"
		       "\"recipients_pending\":%ld,\"recipients_delivered\":%ld,\"recipients_failed\":%ld,"
		       "\"tmp\":%ld,\"corrupt\":%ld}\n",
		       s.messages, s.held, s.deferred, s.bytes, s.oldest, s.pending, s.delivered,
		       s.failed, s.tmp, s.corrupt);
	else
		printf("messages %ld\nheld %ld\ndeferred %ld\nbytes %lld\noldest %lld\n"
		       "recipients_pending %ld\nrecipients_delivered %ld\nrecipients_failed %ld\n"
		       "tmp %ld\ncorrupt %ld\n",
		       s.messages, s.held, s.deferred, s.bytes, s.oldest, s.pending, s.delivered,
		       s.failed, s.tmp, s.corrupt);
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-qctl [-d home] list|stat [--json] | flush | hold|release|delete|requeue ID... | "
	    "explain [-C class] [-f sender] [--json] rcpt... | shaping [--json] | cluster | "
	    "tls-report [--json|--send] [--day YYYY-MM-DD]");
}

static int cmd_ids(const char *cmd, int argc, char **argv)
{
	int (*change)(const char *) = !strcmp(cmd, "hold") ? qadmin_hold
	                            : !strcmp(cmd, "release") ? qadmin_release
	                            : !strcmp(cmd, "delete") ? qadmin_delete : qadmin_requeue;
	int i, rc = 0;
	if (argc == 0)
		usage();
	for (i = 0; i < argc; i++) {
		if (change(argv[i]) < 0) {
			int e = errno;
			if (e == EINVAL)
				warn_("not a queue id: %s", argv[i]);
			else
				warn_sys("unable to %s %s", cmd, argv[i]);
			rc = e == EINVAL || e == ENOENT ? EXIT_PERM : EXIT_TEMP;
			continue;
		}
		printf("%s %s\n", cmd, argv[i]);
	}
	if (change == qadmin_requeue || change == qadmin_release)
		qadmin_wake();
	return rc;
}

int main(int argc, char **argv)
{
	int i = 1, json = 0;
	const char *cmd;
	diag_init(argv[0]);
	if (i + 1 < argc && strcmp(argv[i], "-d") == 0) {
		setenv("RELAY_HOME", argv[i + 1], 1);
		i += 2;
	}
	if (i >= argc)
		usage();
	{	/* as root on an installed tree: relayq's files stay relayq's */
		char err[PATH_MAX + 128];
		if (qadmin_become_owner(err, sizeof err) < 0)
			die_sys(EXIT_TEMP, "%s", err);
	}
	cmd = argv[i++];
	if (!strcmp(cmd, "hold") || !strcmp(cmd, "release") || !strcmp(cmd, "delete") || !strcmp(cmd, "requeue"))
		return cmd_ids(cmd, argc - i, argv + i);
	if (!strcmp(cmd, "explain")) {   /* traffic shaping: lib/send/explain.c */
		const char *class = NULL, *sender = NULL;
		struct buf out = BUF_INIT;
		char err[512];
		for (; i < argc; i++) {
			if (!strcmp(argv[i], "--json"))
				json = 1;
			else if (!strcmp(argv[i], "-C") && i + 1 < argc)
				class = argv[++i];
			else if (!strcmp(argv[i], "-f") && i + 1 < argc)
				sender = argv[++i];
			else if (argv[i][0] == '-')
				usage();
			else
				break;
		}
		if (i == argc)
			usage();
		if (explain(relay_home(), class, sender, argv + i, (size_t)(argc - i),
		            json, &out, err, sizeof err) < 0)
			die(EXIT_TEMP, "%s", err);
		fwrite(out.p ? out.p : "", 1, out.len, stdout);
		buf_free(&out);
		return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
	}
	if (!strcmp(cmd, "shaping")) {   /* traffic shaping: lib/send/explain.c */
		struct buf out = BUF_INIT;
		char err[512];
		if (i < argc && !strcmp(argv[i], "--json"))
			json = 1, i++;
		if (i != argc)
			usage();
		if (explain_shaping(relay_home(), json, &out, err, sizeof err) < 0)
			die(EXIT_TEMP, "%s", err);
		fwrite(out.p ? out.p : "", 1, out.len, stdout);
		buf_free(&out);
		return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
	}
	if (!strcmp(cmd, "tls-report"))   /* tls-rpt (issue 15): lib/send/tlsrpt_send.c */
		return tlsrpt_cmd(relay_home(), argc - i, argv + i);
	if (!strcmp(cmd, "cluster")) {   /* cluster (issue 16): lib/send/cluster.c */
		struct buf out = BUF_INIT, url = BUF_INIT;
		char err[512];
		int r;
		if (i != argc)
			usage();
		if ((r = conf_setting_value(relay_home(), "shared", &url)) < 0)
			die_sys(EXIT_TEMP, "unable to read etc/settings.cdb");
		if (r == 0 || !url.len)
			die(EXIT_PERM, "setting shared is not set: every limit is local");
		signal(SIGPIPE, SIG_IGN);   /* rediss://: a lost line is an error, not a signal */
		if (cluster_show(url.p, &out, err, sizeof err) < 0 ||
		    share_show(url.p, &out, err, sizeof err) < 0)   /* issue 16 share */
			die(EXIT_TEMP, "%s", err);
		fwrite(out.p ? out.p : "", 1, out.len, stdout);
		buf_free(&out);
		buf_free(&url);
		return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
	}
	if (!strcmp(cmd, "flush")) {
		if (i != argc)
			usage();
		if (qadmin_wake()) {
			warn_("relay-send is not running (no queue/relay-send.pid or no such process)");
			return EXIT_TEMP;
		}
		return 0;
	}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			usage();
	}
	if (strcmp(cmd, "list") == 0)
		return cmd_list(json);
	if (strcmp(cmd, "stat") == 0)
		return cmd_stat(json);
	usage();
}
