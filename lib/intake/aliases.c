#include "intake/aliases.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bounds.h"
#include "base/diag.h"
#include "conf/conf.h"
#include "intake/addr.h"

/* The new recipient list (every string its own copy), and the set of
 * what expansions added (open addressing, at most half full). */
struct out {
	struct conf *c;
	char **rcpt;
	size_t n, cap;
	const char **set;
	size_t setcap, setn;
	char bad[CONF_ALIAS_ADDR_CAP];  /* an address addr_check refused */
	int full;                       /* RCPT_MAX reached */
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* 1 s was there already, 0 added, -1 out of memory. */
static int set_add(struct out *o, const char *s)
{
	size_t i, j;
	if (2 * (o->setn + 1) > o->setcap) {
		size_t nc = o->setcap ? o->setcap * 2 : 64;
		const char **ns = calloc(nc, sizeof *ns);
		if (!ns)
			return -1;
		for (j = 0; j < o->setcap; j++)
			if (o->set[j]) {
				for (i = hash(o->set[j]) & (nc - 1); ns[i]; i = (i + 1) & (nc - 1))
					;
				ns[i] = o->set[j];
			}
		free(o->set);
		o->set = ns;
		o->setcap = nc;
	}
	for (i = hash(s) & (o->setcap - 1); o->set[i]; i = (i + 1) & (o->setcap - 1))
		if (strcmp(o->set[i], s) == 0)
			return 1;
	o->set[i] = s;
	o->setn++;
	return 0;
}

/* Append a copy of s. 0 or -1. */
static int push(struct out *o, const char *s)
{
	char *p;
	if (o->n >= RCPT_MAX) {
		o->full = 1;
		return -1;
	}
	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 16;
		char **na = realloc(o->rcpt, nc * sizeof *na);
		if (!na)
			return -1;
		o->rcpt = na;
		o->cap = nc;
	}
	if (!(p = strdup(s)))
		return -1;
	o->rcpt[o->n++] = p;
	return 0;
}

static int lookup(void *ctx, const char *name, struct buf *val)
{
	struct out *o = ctx;
	return conf_get(o->c, name, val);
}

static int emit(void *ctx, const char *addr)
{
	struct out *o = ctx;
	const char *why;
	int r;
	if (addr_check(addr, strlen(addr), 0, &why) != ADDR_OK) {
		snprintf(o->bad, sizeof o->bad, "%s (%s)", addr, why);
		return -1;
	}
	if (push(o, addr) < 0)
		return -1;
	if ((r = set_add(o, o->rcpt[o->n - 1])) != 0) {
		free(o->rcpt[--o->n]);  /* a duplicate, or no memory */
		return r > 0 ? 0 : -1;
	}
	return 0;
}

int aliases_expand(const char *home, struct envelope *e, char *err, size_t errcap)
{
	struct conf c;
	struct out o;
	size_t i;
	int r = conf_open(&c, home, "aliases"), ret = 0;
	if (r < 0) {
		snprintf(err, errcap, "unable to read etc/aliases.cdb: %s", strerror(errno));
		return EXIT_TEMP;
	}
	if (r == 1)
		return 0;
	memset(&o, 0, sizeof o);
	o.c = &c;
	for (i = 0; i < e->nrcpt && !ret; i++) {
		struct conf_alias_walk w = { lookup, emit, &o, e->host, "" };
		char name[CONF_ALIAS_NAME_MAX + 1];
		errno = ENOMEM;
		if (!conf_alias_local(e->rcpt[i], e->host, name, sizeof name) ||
		    (r = conf_alias_expand(&w, name)) == 0)
			r = push(&o, e->rcpt[i]);  /* not local, or no alias: as it is */
		if (r == -2)
			snprintf(err, errcap, "etc/aliases: %s", w.why);
		else if (r < 0 && o.full)
			snprintf(err, errcap, "etc/aliases: more than %d recipients after expansion", RCPT_MAX);
		else if (r < 0 && o.bad[0])
			snprintf(err, errcap, "etc/aliases: not a valid address: %s", o.bad);
		else if (r < 0)
			snprintf(err, errcap, "unable to expand aliases: %s", strerror(errno));
		if (r < 0)
			ret = EXIT_TEMP;
	}
	conf_close(&c);
	free(o.set);  /* its strings are o.rcpt's */
	if (ret) {
		for (i = 0; i < o.n; i++)
			free(o.rcpt[i]);
		free(o.rcpt);
		return ret;
	}
	envelope_free(e);
	e->rcpt = o.rcpt;
	e->nrcpt = o.n;
	e->cap = o.cap;
	return 0;
}
