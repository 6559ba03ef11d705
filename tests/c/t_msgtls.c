/* A message's own word on TLS (send/msgtls.h): the Q line of the
 * envelope, the TLS-Required header field, and the TLS policy pick that
 * follows them (send/tlspolicy.h) for the modes that need no DNS. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "send/msgtls.h"
#include "send/tlspolicy.h"

#define NO(lit) msgtls_header_no(lit, sizeof lit - 1)

static void header(void)
{
	CHECK(NO("TLS-Required: No\r\nSubject: x\r\n\r\nbody\r\n"));
	CHECK(NO("Subject: x\r\ntls-required:   nO  \r\n\r\n"));
	CHECK(NO("TLS-Required:\r\n No\r\n\r\n"));                  /* folded */
	CHECK(NO("TLS-Required: Yes\r\nTLS-Required: No\r\n\r\n"));
	CHECK(!NO("TLS-Required: Nope\r\n\r\n"));
	CHECK(!NO("TLS-Required: No thanks\r\n\r\n"));
	CHECK(!NO("TLS-Required-X: No\r\n\r\n"));
	CHECK(!NO("Subject: x\r\n\r\nTLS-Required: No\r\n"));       /* the body */
	CHECK(!NO("TLS-Required: \r\n\r\n"));
	CHECK(!NO(""));
}

static void envelope(void)
{
	const char e1[] = "A1\nCdefault\nFa@b\nQ\nTc@d\nL3\n\nQ\n";
	const char e2[] = "A1\nCdefault\nFQ@b\nTQ\nL3\n\nQ\n";   /* a Q after the end only */
	CHECK(msgtls_env_requiretls(e1, sizeof e1 - 1));
	CHECK(!msgtls_env_requiretls(e2, sizeof e2 - 1));
}

static void readfd(void)
{
	char path[] = "/tmp/t_msgtls.XXXXXX";
	const char qf[] = "RQ1\nA1\nCdefault\nFa@b\nQ\nTc@d\nL0\n\n";
	const char msg[] = "TLS-Required: No\r\n\r\nx\r\n";
	struct msgtls m;
	int fd = mkstemp(path);
	CHECK(fd >= 0 && write(fd, qf, sizeof qf - 1) == (ssize_t)(sizeof qf - 1));
	/* REQUIRETLS wins over the header field (RFC 8689 5) */
	CHECK(msgtls_read(fd, sizeof qf - 1, msg, sizeof msg - 1, &m) == 0);
	CHECK(m.requiretls && !m.tls_optional);
	/* an envelope that cannot be read is an error, never "no REQUIRETLS" */
	CHECK(msgtls_read(fd, sizeof qf + 100, msg, sizeof msg - 1, &m) < 0);
	CHECK(msgtls_read(-1, sizeof qf - 1, msg, sizeof msg - 1, &m) < 0);
	close(fd);
	unlink(path);
}

static void pick(void)
{
	struct tls_pick *p = malloc(sizeof *p);
	struct msgtls rt = { 1, 0 }, no = { 0, 1 };
	struct mtasts_policy sts;
	char err[300];
	memset(&sts, 0, sizeof sts);
	sts.mode = MTASTS_ENFORCE;
	/* REQUIRETLS: verify over validated names only; may and encrypt never */
	CHECK(tlspolicy_pick(NULL, CONF_TLS_VERIFY, "mx.test", 25, 1, NULL, NULL, &rt, p, err, sizeof err) == 0);
	CHECK(tlspolicy_pick(NULL, CONF_TLS_VERIFY, "mx.test", 25, 0, NULL, NULL, &rt, p, err, sizeof err) == -2);
	CHECK(strstr(err, "not DNSSEC-signed") != NULL);
	CHECK(tlspolicy_pick(NULL, CONF_TLS_MAY, "mx.test", 25, 1, NULL, NULL, &rt, p, err, sizeof err) == -2);
	CHECK(tlspolicy_pick(NULL, CONF_TLS_ENCRYPT, "mx.test", 25, 1, NULL, NULL, &rt, p, err, sizeof err) == -2);
	/* MTA-STS enforce verifies, validated names or not */
	CHECK(tlspolicy_pick(NULL, CONF_TLS_MAY, "mx.test", 25, 0, &sts, NULL, &rt, p, err, sizeof err) == 0);
	CHECK_STR(p->policy, "mta-sts");
	/* TLS-Required: No: the domain's MTA-STS is not applied, etc/tls's verify is */
	CHECK(tlspolicy_pick(NULL, CONF_TLS_MAY, "mx.test", 25, 0, &sts, NULL, &no, p, err, sizeof err) == 0);
	CHECK(p->mode == CONF_TLS_MAY);
	CHECK_STR(p->policy, "tls-required-no");
	CHECK(tlspolicy_pick(NULL, CONF_TLS_VERIFY, "mx.test", 25, 0, &sts, NULL, &no, p, err, sizeof err) == 0);
	CHECK(p->mode == CONF_TLS_VERIFY);
	/* dane: no TLSA lookup at all, opportunistic; dane-only stays */
	CHECK(tlspolicy_pick(NULL, CONF_TLS_DANE, "mx.test", 25, 1, NULL, NULL, &no, p, err, sizeof err) == 0);
	CHECK(p->mode == CONF_TLS_MAY && !p->dane);
	CHECK(tlspolicy_pick(NULL, CONF_TLS_DANE_ONLY, "mx.test", 25, 1, NULL, NULL, &no, p, err, sizeof err) == -1);
	free(p);
}

int main(void)
{
	header();
	envelope();
	readfd();
	pick();
	CHECK_DONE();
}
