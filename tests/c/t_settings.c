/* The one reader of etc/settings (conf/settings.h): values, defaults,
 * numbers and durations, the three-way answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf/conf.h"
#include "conf/settings.h"

static void put(const char *home, const char *text, const char *mode)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof path, "%s/etc/settings", home);
	f = fopen(path, mode);
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void lowercase(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* No settings.cdb at all: every default, nothing is an error. */
static void t_defaults(const char *home)
{
	struct buf v = BUF_INIT, want = BUF_INIT;
	char host[256];
	unsigned long n;
	CHECK(gethostname(host, sizeof host) == 0);
	host[sizeof host - 1] = 0;
	CHECK(conf_setting_value(home, "hostname", &v) == 1);
	lowercase(host);
	CHECK_STR(v.p, host);  /* the reader: lowercased, as relay-config writes it */
	CHECK(conf_setting_value(home, "helo", &v) == 1);
	CHECK_STR(v.p, host);
	buf_printf(&want, "postmaster@%s", host);
	CHECK(conf_setting_value(home, "postmaster", &v) == 1);
	CHECK_STR(v.p, want.p);
	CHECK(conf_setting_value(home, "maxsize", &v) == 1);
	CHECK_STR(v.p, "33554432");
	CHECK(conf_setting_value(home, "dns_config", &v) == 0);
	CHECK(conf_setting_value(home, "nonesuch", &v) == 0);
	CHECK(conf_setting(home, "maxsize", &v) == 0);

	CHECK(conf_setting_number(home, "maxsize", &n) == 1 && n == 33554432);
	CHECK(conf_setting_number(home, "concurrency", &n) == 1 && n == 20);
	CHECK(conf_setting_number(home, "bounce_size_limit", &n) == 1 && n == 50000);
	CHECK(conf_setting_number(home, "hopcount_limit", &n) == 1 && n == 100);
	CHECK(conf_setting_number(home, "bounce_delay_warning", &n) == 1 && n == 4 * 3600);
	CHECK(conf_setting_number(home, "suppression_expiry", &n) == 1 && n == 90 * 86400);
	CHECK(conf_setting_number(home, "smtp_timeout", &n) == 1 && n == 0);
	errno = 0;
	CHECK(conf_setting_number(home, "hostname", &n) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(conf_setting_number(home, "nonesuch", &n) == -1 && errno == EINVAL);
	errno = 0;
	CHECK(conf_setting_number(home, "dns_config", &n) == -1 && errno == EINVAL);

	CHECK_STR(conf_setting_default("suppression_expiry"), "90d");
	CHECK_STR(conf_setting_default("smtp_timeout"), "0s");
	CHECK(conf_setting_default("helo") == NULL);
	CHECK(conf_setting_default("postmaster") == NULL);
	buf_free(&v);
	buf_free(&want);
}

/* A home compiled by relay-config's library code. */
static void t_configured(const char *home)
{
	struct buf v = BUF_INIT;
	unsigned long n;
	put(home, "hostname Relay.Test\nmaxsize 1048576\nbounce_delay_warning 0s\n"
	          "suppression_expiry 336h\nsmtp_timeout 90s\ndns_config settings\n", "a");
	CHECK(conf_compile(home, 0) == 0);
	CHECK(conf_setting_value(home, "hostname", &v) == 1);
	CHECK_STR(v.p, "relay.test");
	CHECK(conf_setting_value(home, "helo", &v) == 1);  /* helo follows hostname */
	CHECK_STR(v.p, "relay.test");
	CHECK(conf_setting_value(home, "postmaster", &v) == 1);
	CHECK_STR(v.p, "postmaster@relay.test");
	CHECK(conf_setting_value(home, "dns_config", &v) == 1);
	CHECK_STR(v.p, "settings"); /* a file that exists, relative to etc/ */
	CHECK(conf_setting_value(home, "concurrency", &v) == 1);  /* not set: default */
	CHECK_STR(v.p, "20");
	CHECK(conf_setting_number(home, "maxsize", &n) == 1 && n == 1048576);
	CHECK(conf_setting_number(home, "bounce_delay_warning", &n) == 1 && n == 0);
	CHECK(conf_setting_number(home, "suppression_expiry", &n) == 1 && n == 14 * 86400);
	CHECK(conf_setting_number(home, "smtp_timeout", &n) == 1 && n == 90);
	CHECK(conf_setting(home, "suppression_expiry", &v) == 1);
	CHECK_STR(v.p, "2w");  /* the canonical form relay-config wrote */
	CHECK(conf_setting(home, "helo", &v) == 0);  /* raw: no default */

	CHECK(conf_setting_value(home, "hostname", &v) == 1);
	CHECK_STR(v.p, "relay.test");

	/* helo and postmaster of their own */
	put(home, "helo Out.Relay.Test\npostmaster Hostmaster@Relay.Test\n", "a");
	CHECK(conf_compile(home, 0) == 0);
	CHECK(conf_setting_value(home, "helo", &v) == 1);
	CHECK_STR(v.p, "out.relay.test");
	CHECK(conf_setting_value(home, "postmaster", &v) == 1);
	CHECK_STR(v.p, "Hostmaster@relay.test");
	buf_free(&v);
}

/* A settings.cdb that is not one of ours is an error, never "absent". */
static void t_not_ours(const char *home)
{
	char path[512];
	struct buf v = BUF_INIT;
	unsigned long n;
	FILE *f;
	snprintf(path, sizeof path, "%s/etc/settings.cdb", home);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("junk", f);
		fclose(f);
	}
	errno = 0;
	CHECK(conf_setting_value(home, "maxsize", &v) == -1 && errno == EPROTO);
	errno = 0;
	CHECK(conf_setting_value(home, "helo", &v) == -1 && errno == EPROTO);
	errno = 0;
	CHECK(conf_setting_number(home, "maxsize", &n) == -1 && errno == EPROTO);
	CHECK(conf_setting(home, "maxsize", &v) == -1);
	CHECK(conf_setting_value(home, "hostname", &v) == -1);
	buf_free(&v);
}

/* relay-config init writes every setting with a default, commented out,
 * with the default the reader applies (it once said 30d for a 90d). */
static void t_template(const char *home)
{
	static const char *const keys[] = { "maxsize", "concurrency", "bounce_delay_warning",
		"suppression_expiry", "bounce_size_limit", "hopcount_limit", "smtp_timeout", NULL };
	char path[512], line[512];
	const char *const *k;
	FILE *f;
	snprintf(path, sizeof path, "%s/etc/settings", home);
	for (k = keys; *k; k++) {
		int found = 0;
		size_t n = strlen(*k);
		f = fopen(path, "r");
		CHECK(f != NULL);
		while (f && fgets(line, sizeof line, f)) {
			char *v = line + 1 + n;
			if (line[0] != '#' || strncmp(line + 1, *k, n) != 0 || (*v != ' ' && *v != '\t'))
				continue;
			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = 0;
			found = 1;
			if (!conf_setting_default(*k) || strcmp(v, conf_setting_default(*k)) != 0) {
				fprintf(stderr, "etc/settings template: %s %s, default %s\n", *k, v,
				        conf_setting_default(*k) ? conf_setting_default(*k) : "(none)");
				CHECK(!"template value is the default");
			}
		}
		if (f)
			fclose(f);
		if (!found)
			fprintf(stderr, "etc/settings template: no line for %s\n", *k);
		CHECK(found);
	}
}

/* maxsize: the documented range 1024..2^40, both ends, as relay-config
 * checks it and as the readers take it back (issue 10: 2^40 was refused). */
static void t_sizes(const char *home)
{
	struct buf out = BUF_INIT;
	char err[256];
	unsigned long n;
	CHECK(conf_parse_setting("maxsize", "1099511627776", &out, err, sizeof err) == 0);
	CHECK_STR(out.p, "1099511627776");
	CHECK(conf_parse_setting("maxsize", "1024", &out, err, sizeof err) == 0);
	CHECK(conf_parse_setting("maxsize", "1099511627777", &out, err, sizeof err) == -1);
	CHECK(conf_parse_setting("maxsize", "1023", &out, err, sizeof err) == -1);
	CHECK(conf_parse_setting("maxsize", "99999999999999999999999", &out, err, sizeof err) == -1);
	CHECK(conf_parse_setting("maxsize", "01024", &out, err, sizeof err) == -1);
	put(home, "maxsize 1099511627776\n", "w");
	CHECK(conf_compile(home, 0) == 0);
	CHECK(conf_setting_number(home, "maxsize", &n) == 1 && n == 1UL << 40);
	buf_free(&out);
}

int main(void)
{
	char dir[] = "/tmp/t_settings.XXXXXX", home[256], cmd[300];
	CHECK(mkdtemp(dir) != NULL);
	t_defaults(dir);  /* no etc/ at all */
	snprintf(home, sizeof home, "%s/h", dir);
	CHECK(conf_init_home(home, 0) == 0);
	t_template(home);
	t_defaults(home); /* every setting commented out */
	t_configured(home);
	t_not_ours(home);
	t_sizes(home);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	CHECK_DONE();
}
