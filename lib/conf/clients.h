#ifndef RELAY_CLIENTS_H
#define RELAY_CLIENTS_H
/* etc/clients: who may connect to relay-smtpd and on what terms.
 *   CIDR ACTION       ACTION: relay | auth | deny
 * CIDR is an IPv4 or IPv6 prefix ("10.0.0.0/8", "::1/128"; a bare
 * address is a /32 or /128); host bits must be zero. The longest prefix
 * that holds the client's address wins; with no table or no match the
 * action is auth. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are looked
 * up as IPv4. CDB key: the canonical prefix "a.b.c.d/len" or "x::y/len"
 * (inet_ntop form); value: the action word. */
#include <stddef.h>
#include "conf/conf.h"

enum conf_client_action { CLIENT_AUTH = 0, CLIENT_RELAY, CLIENT_DENY };

/* relay-config: the key and the value of one line, canonical. 0 or -1. */
int conf_parse_client_key(const char *key, char *out, size_t cap, char *err, size_t errcap);
int conf_parse_client_action(const char *value, enum conf_client_action *a,
                             char *err, size_t errcap);
const char *conf_client_action_name(enum conf_client_action a);

/* The action for address ip (text, as in TCPREMOTEIP) in the open
 * clients table: 1 a line matched, 0 none (then *a is CLIENT_AUTH), -1
 * error (errno; EINVAL: ip is not an address). pfx (may be NULL) gets
 * the matching prefix. */
int conf_client_lookup(struct conf *clients, const char *ip, enum conf_client_action *a,
                       char *pfx, size_t pfxcap);

/* 1 if ip (text) is inside one of the prefixes of list ("ADDR[/LEN]"
 * separated by commas or blanks; IPv4-mapped addresses as IPv4), 0 if
 * not, -1 with EINVAL when ip or an entry is not an address or prefix
 * (the whole list is checked, so a typo is found on the first use). */
int conf_cidr_list_match(const char *list, const char *ip);
#endif
