/* issue 12: the site lookups run in a child (send/sitedns.h): asking and
 * reading never block the loop, even while a lookup hangs. */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "send/sitedns.h"

static char got_domain[300], got_hosts[600];
static int answers;

static void cb(void *ctx, const char *domain, char **hosts, size_t n)
{
	size_t i;
	answers++;
	snprintf(got_domain, sizeof got_domain, "%s", domain);
	got_hosts[0] = 0;
	for (i = 0; i < n; i++) {
		strncat(got_hosts, i ? " " : "", sizeof got_hosts - strlen(got_hosts) - 1);
		strncat(got_hosts, hosts[i], sizeof got_hosts - strlen(got_hosts) - 1);
	}
}

/* Read until an answer comes (a wait on the socket, not a sleep). */
static void wait_answer(struct sitedns *r)
{
	int before = answers;
	while (answers == before && sitedns_fd(r) >= 0) {
		struct pollfd p = { sitedns_fd(r), POLLIN, 0 };
		CHECK(poll(&p, 1, 60000) == 1);
		sitedns_read(r, cb, NULL);
	}
}

int main(void)
{
	char dir[] = "/tmp/t_shape_sitedns.XXXXXX", conf[300];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	struct sitedns r;
	FILE *f;
	/* a name server that never answers: hang.invalid's lookup hangs */
	int silent = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(silent >= 0 && bind(silent, (struct sockaddr *)&sa, sizeof sa) == 0);
	CHECK(getsockname(silent, (struct sockaddr *)&sa, &sl) == 0);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(conf, sizeof conf, "%s/unbound.conf", dir);
	f = fopen(conf, "w");
	CHECK(f != NULL);
	fprintf(f, "server:\n  do-not-query-localhost: no\n  local-zone: \"test.\" static\n"
	           "  local-zone: \"invalid.\" nodefault\n"  /* unbound answers invalid. itself */
	           "  local-data: \"one.test. MX 10 mx1.provider.test.\"\n"
	           "  local-data: \"one.test. MX 20 mx2.provider.test.\"\n"
	           "  local-data: \"mx1.provider.test. A 127.0.0.1\"\n"
	           "forward-zone:\n  name: \"hang.invalid.\"\n  forward-addr: 127.0.0.1@%u\n",
	        (unsigned)ntohs(sa.sin_port));
	fclose(f);

	sitedns_init(&r);
	CHECK(sitedns_fd(&r) == -1);
	sitedns_read(&r, cb, NULL);     /* not started: nothing, no child */
	CHECK(answers == 0 && r.pid == 0);
	CHECK(sitedns_ask(&r, conf, "one.test") == 0);
	CHECK(r.pid > 0 && sitedns_fd(&r) >= 0);
	wait_answer(&r);
	CHECK_STR(got_domain, "one.test");
	CHECK_STR(got_hosts, "mx1.provider.test mx2.provider.test");
	/* no MX (nxdomain): an answer with no host */
	CHECK(sitedns_ask(&r, conf, "none.test") == 0);
	wait_answer(&r);
	CHECK_STR(got_domain, "none.test");
	CHECK_STR(got_hosts, "");
	/* a lookup that hangs: asking returns at once, reading returns with
	 * nothing (the loop goes on) */
	CHECK(sitedns_ask(&r, conf, "x.hang.invalid") == 0);
	CHECK(sitedns_ask(&r, conf, "one.test") == 0);
	sitedns_read(&r, cb, NULL);
	CHECK(answers == 2);
	/* not a question a domain can be: refused here, never written */
	CHECK(sitedns_ask(&r, conf, "a b") < 0);
	CHECK(sitedns_ask(&r, conf, "a\nb") < 0);
	CHECK(sitedns_ask(&r, conf, "") < 0);
	/* stop ends the child inside its lookup */
	sitedns_stop(&r);
	CHECK(r.pid == 0 && sitedns_fd(&r) == -1);
	/* a child that is gone is started again by the next question */
	CHECK(sitedns_ask(&r, conf, "one.test") == 0);
	wait_answer(&r);
	CHECK_STR(got_domain, "one.test");
	sitedns_stop(&r);
	close(silent);
	unlink(conf);
	rmdir(dir);
	CHECK_DONE();
}
