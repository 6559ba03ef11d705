#ifndef RELAY_REDIS_URL_H
#define RELAY_REDIS_URL_H
/* The address of the Redis server of setting `shared` (doc/cluster.md),
 * parsed without I/O (fuzz/fuzz_redis_url.c):
 *
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]
 *   rediss://...[?ca=FILE&cert=FILE&key=FILE]
 *                       TLS (send/redis_tls.c): the server's certificate
 *                       verified against ca= (else the system's CAs) and
 *                       HOST; cert= and key= a client certificate (Redis's
 *                       tls-auth-clients; key= defaults to cert=)
 *   unix:/PATH[?db=DB&password=PASSWORD]
 *
 * HOST is a name, an IPv4 address or [IPv6]; PORT 1..65535 (6379); DB
 * 0..15 (0). A PASSWORD is taken as written (no %-escapes); it may not
 * hold '@', '/', space or control bytes. */
#include <stddef.h>

#define REDIS_URL_MAX   512
#define REDIS_HOST_MAX  255
#define REDIS_PATH_MAX  107   /* sun_path */
#define REDIS_PASS_MAX  128
#define REDIS_FILE_MAX  255   /* ca=, cert=, key= */

struct redis_url {
	int unix_sock;                     /* 1: path, else host:port */
	int tls;                           /* rediss:// */
	char host[REDIS_HOST_MAX + 1];
	unsigned port;
	char path[REDIS_PATH_MAX + 1];
	unsigned db;
	char user[REDIS_PASS_MAX + 1];     /* "" : none (AUTH PASSWORD) */
	char pass[REDIS_PASS_MAX + 1];     /* "" : none */
	char ca[REDIS_FILE_MAX + 1];       /* rediss:// ca=: "" the system's CAs */
	char cert[REDIS_FILE_MAX + 1];     /* cert=: "" no client certificate */
	char key[REDIS_FILE_MAX + 1];      /* key=: "" the key is in cert= */
};

/* s (NUL-terminated) into *u. 0, or -1 with the reason in err. */
int redis_url_parse(const char *s, struct redis_url *u, char *err, size_t errcap);
/* u for the log, without its password: "redis://127.0.0.1:6379/0" or
 * "unix:/run/redis.sock?db=0". */
void redis_url_show(const struct redis_url *u, char *out, size_t cap);

#endif
