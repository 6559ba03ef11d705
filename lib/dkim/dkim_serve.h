#ifndef RELAY_DKIM_SERVE_H
#define RELAY_DKIM_SERVE_H
/* The signing co-process's state: etc/dkim.cdb and the keys it names,
 * loaded once and dropped when the cdb changes (mtime, inode or size).
 *
 * etc/dkim.cdb (compiled by relay-config from etc/dkim): key = domain in
 * lower case; value = "selector keyfile algorithm", one space apart; a
 * relative keyfile is relative to HOME/etc; a repeated key means one
 * more signature. */
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "base/buf.h"
#include "dkim/dkim.h"

struct dkim_keyent;

struct dkim_server {
	char home[4096];
	char cdbpath[4200];
	int fd;                  /* the open cdb, or -1 (none: not configured) */
	void *cdb;               /* struct cdb * */
	struct timespec mtime;
	ino_t ino;
	off_t size;
	struct dkim_keyent *keys;
	long long t;             /* t= for tests; negative: now */
};

void dkim_server_init(struct dkim_server *s, const char *home);
void dkim_server_free(struct dkim_server *s);
/* Answer one message (CRLF, exactly as it will be sent) into resp:
 * "K" + field(s) to prepend (empty: no key for the From domain),
 * "Z" + reason (temporary), "D" + reason (permanent). Logs one line on
 * stderr for anything but a signed message. */
void dkim_server_handle(struct dkim_server *s, const char *msg, size_t len, struct buf *resp);
#endif
