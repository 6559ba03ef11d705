/* relay-config: check the text tables in $RELAY_HOME/etc/ and compile
 * each into NAME.cdb, all or nothing; or make a new relay home.
 * Argument handling only: the work is in lib/conf/ (confmake.c, confinit.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "base/diag.h"

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-config [-d HOME] [check] | relay-config init [-f] DIR");
}

/* Map a conf_* result to the exit code: config errors are permanent,
 * system errors (I/O, permissions, memory) temporary. */
static int code(int r)
{
	return r == 0 ? EXIT_OK : r > 0 ? EXIT_PERM : EXIT_TEMP;
}

int main(int argc, char **argv)
{
	const char *home = NULL;
	int c, force = 0;

	diag_init(argv[0]);
	while ((c = getopt(argc, argv, "+d:f")) != -1) {
		switch (c) {
		case 'd': home = optarg; break;
		case 'f': force = 1; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;

	if (argc >= 1 && strcmp(argv[0], "init") == 0) {
		optind = 1;
		while ((c = getopt(argc, argv, "+f")) != -1) {
			if (c != 'f')
				usage();
			force = 1;
		}
		if (home || argc - optind != 1 || !argv[optind][0])
			usage();
		return code(conf_init_home(argv[optind], force));
	}
	if (force)
		usage();
	/* relay_home() in lib/queue/queue.h does the same; relay-config is never
	 * setuid, so the environment may choose. */
	if (!home)
		home = getenv("RELAY_HOME");
	if (!home || !*home)
		home = "/var/relay";
	if (argc == 0)
		return code(conf_compile(home, 0));
	if (argc == 1 && strcmp(argv[0], "check") == 0)
		return code(conf_compile(home, CONF_CHECK_ONLY));
	usage();
}
