#ifndef RELAY_SETTINGS_H
#define RELAY_SETTINGS_H
/* One value from etc/settings.cdb, for the hot path (relay-inject,
 * relay-queue): one open, one cdb_seek, one read. Three ways: 1 found,
 * 0 absent (no such key or no settings.cdb), -1 error (errno). */
#include <stddef.h>
int setting_get(const char *home, const char *key, char *out, size_t cap);
/* The host name for Message-ID and Received: setting "hostname", else
 * gethostname(). */
int setting_hostname(const char *home, char *out, size_t cap);
#endif
