/* relay-inject's command line (sendopts.h). */
#include "intake/sendopts.h"

#include <string.h>

#include "base/diag.h"
#include "base/prog.h"

static void usage(void)
{
	die(EXIT_PERM, "usage: relay-inject [-t] [-i|-oi] [-n] [-f sender] [-F name] [-C class] [-v]"
	    " [-N notify] [-R full|hdrs] [-V envid] [rcpt ...]"
	    " | -bs | -bp | -bi | -q");
}

static void mode(struct sendopts *o, enum sendmode m)
{
	if (o->mode != M_SUBMIT && o->mode != m)
		die(EXIT_PERM, "one of -bm, -bs, -bp, -bi and -q at a time");
	o->mode = m;
}

int sendopts_parse(int argc, char **argv, struct sendopts *o)
{
	int i;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i], *p;
		if (strcmp(a, "--") == 0) { i++; break; }
		if (a[1] == 'b') {
			if (!strcmp(a, "-bm")) mode(o, M_SUBMIT);
			else if (!strcmp(a, "-bs")) mode(o, M_SMTP);
			else if (!strcmp(a, "-bp")) mode(o, M_LIST);
			else if (!strcmp(a, "-bi")) mode(o, M_ALIASES);
			else die(EXIT_PERM, "option %s is not supported (relay-inject submits mail; "
			         "-bs, -bp and -bi are its other modes)", a);
			continue;
		}
		if (a[1] == 'o') {  /* -oi, and the harmless -oem -oee -odb -odi -om ... */
			if (strcmp(a, "-oi") == 0) o->i = 1;
			else if (!a[2]) usage();
			continue;
		}
		if (a[1] == 'q') {
			/* -q and -qR/-qS/-qI (a site or id: relay flushes all);
			 * -q30m, a daemon's interval, means nothing to relay-send */
			mode(o, a[2] >= '0' && a[2] <= '9' ? M_NOTHING : M_FLUSH);
			continue;
		}
		for (p = a + 1; *p; p++) {
			const char **arg = NULL, *ignored;
			switch (*p) {
			case 't': o->t = 1; break;
			case 'i': o->i = 1; break;
			case 'v': o->v = 1; break;
			case 'n': o->n = 1; break;
			case 'm': case 'U': case 'G': break;
			case 'I': mode(o, M_ALIASES); break;  /* Postfix's and old sendmail's -bi */
			case 'f': case 'r': arg = &o->sender; break;
			case 'F': arg = &o->fullname; break;
			case 'C': arg = &o->class; break;
			case 'N': arg = &o->dsn_notify; break;
			case 'R': arg = &o->dsn_ret; break;
			case 'V': arg = &o->dsn_envid; break;
			case 'B': case 'h': case 'L': case 'O':
				arg = &ignored; break;
			default:
				die(EXIT_PERM, "unknown option -%c", *p);
			}
			if (!arg)
				continue;
			if (p[1]) *arg = p + 1;
			else if (i + 1 < argc) *arg = argv[++i];
			else usage();
			break;
		}
	}
	return i;
}
