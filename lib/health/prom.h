#ifndef RELAY_PROM_H
#define RELAY_PROM_H
/* The Prometheus text exposition format (version 0.0.4), for
 * node_exporter's textfile collector: HELP and TYPE once per metric,
 * then samples. Label values are escaped (\\, \", \n); metric and label
 * names are checked against [a-zA-Z_:][a-zA-Z0-9_:]* ([a-zA-Z_][a-zA-Z0-9_]*
 * for labels). Each call returns 0, or -1 (ENOMEM, or EINVAL for a bad
 * name). */
#include "base/buf.h"

int prom_head(struct buf *b, const char *name, const char *type, const char *help);
/* kv: label name, value, name, value, ..., NULL (or kv NULL: no labels) */
int prom_sample(struct buf *b, const char *name, double v, const char *const *kv);
int prom_name_ok(const char *s, int label);

#endif
