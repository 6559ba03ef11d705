/* relay-qctl explain (explain.h): relay-send's configuration and shaping
 * state asked about recipients, printed as text or JSON. */
#include "send/explain.h"
#include "send/lanes.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "base/json.h"
#include "conf/member.h"
#include "conf/settings.h"
#include "intake/addr.h"
#include "intake/aliases.h"
#include "intake/envelope.h"
#include "send/qindex.h"
#include "send/shaping.h"

static int jstr(struct buf *b, const char *s)
{
	return json_str(b, s, strlen(s));
}

/* The limits lines for keys: text lines or a JSON array. */
static int limits_out(struct sendconf *c, char keys[2][SHAPE_KEY_MAX], size_t nk, time_t wall,
                      int json, struct buf *out)
{
	struct buf v = BUF_INIT;
	size_t i;
	int r = 0, first = 1;
	if (json)
		r |= buf_adds(out, ",\"limits\":[");
	for (i = 0; i < nk; i++) {
		struct shape_dest *d = shape_find(&c->shape, keys[i]);
		unsigned long ql, rt, rl;
		if (!d || !d->configured)
			continue;
		if (conf_format_limits(&d->lim, &v) < 0)
			r = -1;
		ql = shape_quota_left(d, wall);
		rt = shape_ramp_today(&d->lim, wall);
		rl = shape_ramp_left(d, wall);
		if (json) {
			r |= buf_adds(out, first ? "{\"key\":" : ",{\"key\":");
			r |= jstr(out, keys[i]);
			r |= buf_adds(out, ",\"value\":");
			r |= jstr(out, v.p ? v.p : "");
			if (ql != ULONG_MAX)
				r |= buf_printf(out, ",\"quota_left\":%lu", ql);
			if (rt != ULONG_MAX)
				r |= buf_printf(out, ",\"ramp_day\":%ld,\"ramp_today\":%lu,\"ramp_left\":%lu",
				                (long)(wall / 86400) - d->lim.ramp_day0 + 1, rt, rl);
			r |= buf_adds(out, "}");
		} else {
			r |= buf_printf(out, "       limits %s: %s\n", keys[i], v.p ? v.p : "");
			if (ql != ULONG_MAX)
				r |= buf_printf(out, "       quota: %lu of %lu left this %s%s\n", ql, d->lim.quota,
				                d->lim.quota_per == 3600 ? "hour" : "day", ql ? "" : " (spent)");
			if (rt != ULONG_MAX) {
				long day = (long)(wall / 86400) - d->lim.ramp_day0 + 1;
				if (day < 1)
					r |= buf_printf(out, "       ramp: starts in %ld day(s)\n", 1 - day);
				else
					r |= buf_printf(out, "       ramp: day %ld, %lu today, %lu left%s\n", day, rt, rl,
					                rl ? "" : " (spent)");
			}
		}
		first = 0;
	}
	if (json)
		r |= buf_adds(out, "]");
	buf_free(&v);
	return r;
}

static int member_out(struct sendconf *c, struct pool_state *p, size_t mi, const char *domain,
                      const char *sender, int json, int first, struct buf *out, char *err, size_t errcap)
{
	const struct conf_member *cm = &p->cfg.m[mi];
	struct conf_member_policy pol;
	char name[600], keys[2][SHAPE_KEY_MAX];
	const char *k[2] = { keys[0], keys[1] }, *why = "", *state;
	double now = qindex_clock();
	time_t wall = time(NULL);
	size_t nk;
	int r = 0;
	pool_member_name(cm, domain, name, sizeof name);
	/* the lookup of relay-send's dispatch: etc/auth by the sender first */
	if (conf_member_policy_from(c->home, &c->tls, &c->auth, cm->mx ? domain : name,
	                            cm->mx ? 25 : cm->port, cm->mx, sender, &pol, err, errcap) < 0)
		return -1;
	nk = shaping_keys(c, cm, domain, now, keys);
	if (!cm->mx && health_member_down(&c->health, p->name, name, wall) > 0)
		state = "down", why = "relay-health";
	else
		switch (shape_check(&c->shape, k, nk, now, wall, &why)) {
		case SHAPE_OK: state = "ok"; break;
		case SHAPE_BUSY: state = "busy"; break;
		default: state = "skipped"; break;
		}
	if (json) {
		r |= buf_adds(out, first ? "{\"member\":" : ",{\"member\":");
		r |= jstr(out, name);
		r |= buf_adds(out, ",\"tls\":");
		r |= jstr(out, conf_tls_mode_name(pol.tls.mode));
		r |= buf_printf(out, ",\"smtps\":%s,\"auth_user\":", pol.tls.smtps ? "true" : "false");
		r |= pol.have_auth ? jstr(out, pol.auth.user) : buf_adds(out, "null");
		r |= buf_adds(out, ",\"auth_key\":");
		r |= pol.have_auth ? jstr(out, pol.auth_key) : buf_adds(out, "null");
		r |= buf_adds(out, ",\"state\":");
		r |= jstr(out, state);
		r |= buf_adds(out, ",\"why\":");
		r |= jstr(out, why);
		for (size_t i = 0; i < nk; i++)
			if (!strncmp(keys[i], "site:", 5)) {
				r |= buf_adds(out, ",\"site\":");
				r |= jstr(out, keys[i] + 5);
			}
	} else {
		int by_sender = pol.have_auth && !strncmp(pol.auth_key, "from:", 5);
		r |= buf_printf(out, "  %zu. %s  tls=%s%s  auth=%s%s%s%s  %s%s%s%s\n", mi + 1, name,
		                conf_tls_mode_name(pol.tls.mode), pol.tls.smtps ? " smtps" : "",
		                pol.have_auth ? pol.auth.user : "-", by_sender ? " (" : "",
		                by_sender ? pol.auth_key : "", by_sender ? ")" : "", state, *why ? " (" : "", why, *why ? ")" : "");
		if (nk == 2)
			r |= buf_printf(out, "       site %s\n", keys[1] + 5);
	}
	conf_member_policy_wipe(&pol);
	r |= limits_out(c, keys, nk, wall, json, out);
	if (json)
		r |= buf_adds(out, "}");
	return r;
}

static int rcpt_out(struct sendconf *c, const char *class, const char *sender, const char *rcpt,
                    int json, int first, struct buf *out, char *err, size_t errcap)
{
	struct buf pool = BUF_INIT, key = BUF_INIT;
	const char *dom = addr_domain(rcpt);
	char ldom[256];
	struct pool_state *p;
	int pi = POOL_DIRECT, rr, r = 0;
	size_t i;
	snprintf(ldom, sizeof ldom, "%s", dom ? dom : "");
	conf_lower(ldom);
	rr = conf_route_key(&c->routes, sender, class, ldom, &pool, &key);
	if (rr < 0) {
		snprintf(err, errcap, "unable to read etc/routes.cdb");
		goto fail;
	}
	if (rr == 1 && !sendconf_pool_find(c, pool.p, &pi)) {
		if (json) {
			r |= buf_adds(out, first ? "\n{\"rcpt\":" : ",\n{\"rcpt\":");
			r |= jstr(out, rcpt);
			r |= buf_adds(out, ",\"route\":");
			r |= jstr(out, key.p);
			r |= buf_adds(out, ",\"pool\":");
			r |= jstr(out, pool.p);
			r |= buf_adds(out, ",\"error\":\"unknown pool: deferred\"}");
		} else {
			r |= buf_printf(out, "%s\n  route %s -> pool %s: no such pool (deferred, 4.3.5)\n", rcpt, key.p, pool.p);
		}
		goto done;
	}
	p = sendconf_pool(c, pi);
	if (json) {
		r |= buf_adds(out, first ? "\n{\"rcpt\":" : ",\n{\"rcpt\":");
		r |= jstr(out, rcpt);
		r |= buf_adds(out, ",\"route\":");
		r |= rr == 1 ? jstr(out, key.p) : buf_adds(out, "null");
		r |= buf_adds(out, ",\"pool\":");
		r |= jstr(out, rr == 1 ? p->name : "(direct)");
		r |= buf_adds(out, ",\"strategy\":");
		r |= jstr(out, conf_strategy_name(p->cfg.strategy));
		r |= buf_printf(out, ",\"priority\":%u", lanes_class_prio(c, class));
		r |= buf_adds(out, ",\"members\":[");
	} else {
		r |= buf_printf(out, "%s\n  route %s -> pool %s (%s)\n", rcpt, rr == 1 ? key.p : "(none: direct MX)",
		                p->name, conf_strategy_name(p->cfg.strategy));
		r |= buf_printf(out, "  class %s priority %u\n", class, lanes_class_prio(c, class));
	}
	for (i = 0; i < p->cfg.n; i++)
		if (member_out(c, p, i, ldom, sender, json, i == 0, out, err, errcap) < 0)
			goto fail;
	if (json)
		r |= buf_adds(out, "]}");
done:
	buf_free(&pool);
	buf_free(&key);
	if (r) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	return 0;
fail:
	buf_free(&pool);
	buf_free(&key);
	return -1;
}

int explain(const char *home, const char *class, const char *sender, char *const *rcpt, size_t n,
            int json, struct buf *out, char *err, size_t errcap)
{
	struct sendconf *c = calloc(1, sizeof *c);
	size_t i;
	int r = 0;
	if (!c) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	c->home = home;
	c->site_sync = 1;   /* a command: its site lookups may wait */
	sendconf_load(c);
	/* relay-health's marks, read here (sendconf_health_refresh would log
	 * member_down events into the output) */
	if (health_read(home, &c->health) < 0)
		health_free(&c->health);
	if (json && buf_adds(out, "[") < 0)
		r = -1;
	for (i = 0; r == 0 && i < n; i++)
		r = rcpt_out(c, class && *class ? class : "default", sender ? sender : "", rcpt[i], json,
		             i == 0, out, err, errcap);
	if (r == 0 && json && buf_adds(out, "\n]\n") < 0)
		r = -1;
	c->shape.dirty = 0;   /* explain only reads state/shaping */
	sendconf_free(c);
	free(c);
	return r;
}

static int cmp_dest(const void *a, const void *b)
{
	return strcmp((*(struct shape_dest *const *)a)->key, (*(struct shape_dest *const *)b)->key);
}

int explain_shaping(const char *home, int json, struct buf *out, char *err, size_t errcap)
{
	struct sendconf *c = calloc(1, sizeof *c);
	struct shape_dest **v = NULL;
	size_t i, n = 0;
	time_t wall = time(NULL);
	int r = 0;
	if (!c) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	c->home = home;
	c->site_sync = 1;   /* a command: its site lookups may wait */
	sendconf_load(c);
	if (c->shape.n && !(v = malloc(c->shape.n * sizeof *v)))
		r = -1;
	for (i = 0; v && i < SHAPE_BUCKETS; i++) {
		struct shape_dest *d;
		for (d = c->shape.tab[i]; d; d = d->next)
			if (d->configured)
				v[n++] = d;
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_dest);
	/* each line with the limits_out of explain, one key at a time */
	if (json)
		r |= buf_adds(out, "[");
	for (i = 0; r == 0 && i < n; i++) {
		char keys[2][SHAPE_KEY_MAX];
		snprintf(keys[0], sizeof keys[0], "%s", v[i]->key);
		if (json) {
			r |= buf_adds(out, i ? ",\n{\"dest\":" : "\n{\"dest\":");
			r |= jstr(out, v[i]->key);
			r |= limits_out(c, keys, 1, wall, 1, out);
			r |= buf_adds(out, "}");
		} else {
			r |= buf_printf(out, "%s\n", v[i]->key);
			r |= limits_out(c, keys, 1, wall, 0, out);
		}
	}
	if (json)
		r |= buf_adds(out, "\n]\n");
	free(v);
	c->shape.dirty = 0;
	sendconf_free(c);
	free(c);
	if (r)
		snprintf(err, errcap, "out of memory");
	return r ? -1 : 0;
}

/* ---- relay-inject -bv */

int explain_bv_asked(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-bv"))
			return 1;
	return 0;
}

/* relay-inject's options that matter to -bv; the harmless ones are
 * ignored as relay-inject ignores them. 0 or EXIT_PERM (why in err). */
static int bv_args(int argc, char **argv, int *first, const char **sender, const char **class,
                   int *no_alias, int *json, char *err, size_t errcap)
{
	int i;
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i], *p;
		if (!strcmp(a, "--")) { i++; break; }
		if (!strcmp(a, "--json")) { *json = 1; continue; }
		if (!strcmp(a, "-bv") || !strcmp(a, "-bm")) continue;
		if (a[1] == 'b' || a[1] == 'q' || a[1] == 'I') {
			snprintf(err, errcap, "option %s cannot go with -bv", a);
			return EXIT_PERM;
		}
		if (a[1] == 'o')   /* -oi, -oem, ...: nothing to a verify */
			continue;
		for (p = a + 1; *p; p++) {
			const char **arg = NULL, *ignored;
			switch (*p) {
			case 'i': case 'v': case 'm': case 'U': case 'G': break;
			case 'n': *no_alias = 1; break;
			case 't':
				snprintf(err, errcap, "-t cannot go with -bv (it reads no message): name the recipients");
				return EXIT_PERM;
			case 'f': case 'r': arg = sender; break;
			case 'C': arg = class; break;
			case 'F': case 'B': case 'N': case 'R': case 'V': case 'h': case 'L': case 'O':
				arg = &ignored; break;
			default:
				snprintf(err, errcap, "unknown option -%c", *p);
				return EXIT_PERM;
			}
			if (!arg)
				continue;
			if (p[1]) *arg = p + 1;
			else if (i + 1 < argc) *arg = argv[++i];
			else {
				snprintf(err, errcap, "option -%c needs an argument", *p);
				return EXIT_PERM;
			}
			break;
		}
	}
	*first = i;
	return 0;
}

int explain_bv(const char *home, const char *user, int argc, char **argv)
{
	const char *sender = NULL, *class = NULL;
	int first, no_alias = 0, json = 0, rc;
	char err[512];
	struct buf host = BUF_INIT, out = BUF_INIT;
	struct envelope e;
	rc = bv_args(argc, argv, &first, &sender, &class, &no_alias, &json, err, sizeof err);
	if (rc)
		die(rc, "%s", err);
	if (first == argc)
		die(EXIT_PERM, "usage: relay-inject -bv [-f sender] [-C class] [-n] [--json] rcpt ...");
	/* relay-inject's envelope: the same calls, in the same order */
	rc = conf_setting_value(home, "hostname", &host);
	if (rc < 0)
		die_sys(EXIT_TEMP, "unable to read etc/settings.cdb");
	if (rc == 0 || host.len > 255)
		die(EXIT_TEMP, "setting hostname: no usable host name");
	envelope_init(&e, host.p);
	if ((rc = envelope_sender(&e, sender, user, err, sizeof err)) != 0)
		die(rc, "%s", err);
	for (; first < argc; first++)
		if ((rc = envelope_rcpt_arg(&e, argv[first], err, sizeof err)) != 0)
			die(rc, "%s", err);
	e.class = class;
	if (!no_alias && (rc = aliases_expand(home, &e, err, sizeof err)) != 0)
		die(rc, "%s", err);
	if (e.nrcpt == 0)
		die(EXIT_PERM, "refused: no recipients");
	if ((rc = envelope_class_check(&e, err, sizeof err)) != 0)
		die(rc, "%s", err);
	if (explain(home, e.class, e.sender, e.rcpt, e.nrcpt, json, &out, err, sizeof err) < 0)
		die(EXIT_TEMP, "%s", err);
	fwrite(out.p ? out.p : "", 1, out.len, stdout);
	buf_free(&out);
	buf_free(&host);
	envelope_free(&e);
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}
