/* relay-config: check the text tables in $RELAY_HOME/etc/ and compile
 * each into NAME.cdb, all or nothing; or make a new relay home.
 * Argument handling only: the work is in lib/conf/ (confmake.c, confinit.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/apikeys.h" /* issue 13 */
#include "conf/users.h"
#include "base/diag.h"

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-config [-d HOME] [check] | relay-config init [-f] DIR | relay-config passwd USER | relay-config [-d HOME] apikey NAME [from=...] [class=...] [rate=N/m]");
}

/* Map a conf_* result to the exit code: config errors are permanent,
 * system errors (I/O, permissions, memory) temporary. */
static int code(int r)
{
	return r == 0 ? EXIT_OK : r > 0 ? EXIT_PERM : EXIT_TEMP;
}

/* passwd USER: the etc/users line for USER, the password read from
 * stdin (one line); the password itself is never printed. */
static int passwd(const char *user)
{
	char k[CONF_USER_MAX + 1], err[256], pass[1024], hash[CONF_HASH_MAX + 1];
	size_t n;
	if (conf_parse_user_key(user, k, sizeof k, err, sizeof err) < 0)
		die(EXIT_PERM, "%s", err);
	if (isatty(0))
		fprintf(stderr, "password for %s: ", k);
	if (!fgets(pass, sizeof pass, stdin))
		die(ferror(stdin) ? EXIT_TEMP : EXIT_PERM, "no password on stdin");
	n = strcspn(pass, "\r\n");
	if (pass[n] == 0 && n == sizeof pass - 1)
		die(EXIT_PERM, "password longer than %zu bytes", sizeof pass - 2);
	pass[n] = 0;
	if (n == 0)
		die(EXIT_PERM, "empty password");
	if (conf_user_hash(pass, n, hash, sizeof hash) < 0)
		die(EXIT_TEMP, "unable to hash the password (out of memory?)");
	memset(pass, 0, sizeof pass);
	printf("%s %s\n", k, hash);
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_TEMP;
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
	if (argc >= 1 && strcmp(argv[0], "passwd") == 0) {
		if (home || force || argc != 2)
			usage();
		return passwd(argv[1]);
	}
	if (force)
		usage();
	/* relay_home() in lib/queue/queue.h does the same; relay-config is never
	 * setuid, so the environment may choose. */
	if (!home)
		home = getenv("RELAY_HOME");
	if (!home || !*home)
		home = "/var/relay";
	/* ---- issue 13: apikey NAME [FIELD...]: the token, alone on stdout ---- */
	if (argc >= 2 && strcmp(argv[0], "apikey") == 0) {
		char tok[CONF_APIKEY_TOKEN_LEN + 1];
		int r = conf_apikey_new(home, argv[1], argv + 2, (size_t)argc - 2, tok, sizeof tok);
		if (r != 0)
			return code(r);
		printf("%s\n", tok);
		return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_TEMP;
	}
	/* ---- end of issue 13 ---- */
	if (argc == 0)
		return code(conf_compile(home, 0));
	if (argc == 1 && strcmp(argv[0], "check") == 0)
		return code(conf_compile(home, CONF_CHECK_ONLY));
	usage();
}
