/* relay-send: reads the queue under $RELAY_HOME/queue and the tables in
 * etc/, and delivers each message through its pool of relays or to the
 * recipient's MX. A foreground daemon for a supervisor. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "queue/queue.h"
#include "send/scheduler.h"

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-send [-1] [-d home] [-w workers]");
}

static int user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(name);
	if (!pw)
		return 0;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 1;
}

int main(int argc, char **argv)
{
	struct sched_opts o;
	int c;
	diag_init(argv[0]);
	memset(&o, 0, sizeof o);
	while ((c = getopt(argc, argv, "1d:w:")) != -1) {
		switch (c) {
		case '1': o.once = 1; break;
		case 'd': setenv("RELAY_HOME", optarg, 1); break;
		case 'w': o.workers = atoi(optarg); if (o.workers <= 0) usage(); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (geteuid() == 0) {
		/* Started as root on an installed tree (queue/ owned by relayq):
		 * the scheduler becomes relayq and the network workers relayn
		 * (doc/security.md). A tree that root owns (a test home) runs
		 * as one uid, and says so. */
		char q[4096];
		struct stat st;
		snprintf(q, sizeof q, "%s/queue", relay_home());
		if (user("relayq", &o.sched_uid, &o.sched_gid) && user("relayn", &o.worker_uid, &o.worker_gid) &&
		    stat(q, &st) == 0 && st.st_uid == o.sched_uid) {
			o.drop = 1;
			if (!user("relayd", &o.dkim_uid, &o.dkim_gid))
				o.dkim_uid = 0;
		}
		else
			warn_("%s is not owned by user relayq: not dropping privileges", q);
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	return sched_run(&o);
}
