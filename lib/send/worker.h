#ifndef RELAY_WORKER_H
#define RELAY_WORKER_H
/* A network worker of relay-send: a long-lived process that reads jobs
 * from sock, delivers each over SMTP (keeping the connection open for
 * the next job to the same destination), and answers with a result.
 * It parses network input, so it runs under its own uid with no access
 * to the queue directories or etc/ (see doc/security.md). */
#define WORKER_IDLE_MS   5000  /* close an idle connection after this */
#define WORKER_CONN_MSGS 100   /* messages per connection, then reconnect */
void worker_run(int sock);
#endif
