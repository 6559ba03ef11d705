/* relay-send: reads the queue under $RELAY_HOME/queue and the tables in
 * etc/, and delivers each message through its pool of relays or to the
 * recipient's MX. A foreground daemon for a supervisor. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "scheduler.h"

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-send [-1] [-d home] [-w workers]");
}

static void user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(name);
	if (!pw)
		die(EXIT_TEMP, "user %s does not exist (run make install as root)", name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
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
		/* started as root: the scheduler becomes the queue user and the
		 * network workers their own unprivileged user (doc/security.md) */
		user("relayq", &o.sched_uid, &o.sched_gid);
		user("relayn", &o.worker_uid, &o.worker_gid);
		o.drop = 1;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	return sched_run(&o);
}
