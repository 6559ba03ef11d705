#ifndef RELAY_SENDOPTS_H
#define RELAY_SENDOPTS_H
/* relay-inject's command line: sendmail's options (the harmless ones
 * ignored) and modes (doc/relay-inject.8). */
/* What the call asks for: by -b mode, -q, or the name it was run by
 * (sendmail, mailq, newaliases: doc/relay-inject.8). */
enum sendmode { M_SUBMIT, M_SMTP, M_LIST, M_FLUSH, M_ALIASES, M_NOTHING };

struct sendopts {
	const char *sender, *fullname, *class;
	const char *dsn_notify, *dsn_ret, *dsn_envid;  /* -N -R -V (RFC 3461) */
	int t, i, v, n;
	enum sendmode mode;
};

/* Parse argv into o (o zeroed by the caller; o->mode may be preset from
 * the program's name); returns the index of the first recipient
 * argument. A bad option dies with 100 and the usage. Flags may be
 * grouped as getopt does (-ti is -t -i); an option with an argument ends
 * its group. */
int sendopts_parse(int argc, char **argv, struct sendopts *o);

#endif
