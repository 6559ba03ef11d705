/* Tiny assertion helpers for the C unit tests: each failure prints file,
 * line and expression; main returns the failure count. */
#include <stdio.h>
#include <string.h>
static int check_failures;
#define CHECK(e) do { if (!(e)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #e); check_failures++; } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); if (!a_ || !b_ || strcmp(a_, b_)) { fprintf(stderr, "%s:%d: %s = \"%s\", want \"%s\"\n", __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); check_failures++; } } while (0)
#define CHECK_MEM(a, an, b, bn) do { if ((an) != (bn) || memcmp((a), (b), (an))) { fprintf(stderr, "%s:%d: %s differs (len %zu vs %zu)\n", __FILE__, __LINE__, #a, (size_t)(an), (size_t)(bn)); check_failures++; } } while (0)
/* Append text to HOME/etc/TABLE (a test's configuration, compiled after). */
static inline void check_put_etc(const char *home, const char *table, const char *text)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof path, "%s/etc/%s", home, table);
	f = fopen(path, "a");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}
#define CHECK_DONE() do { if (check_failures) fprintf(stderr, "%d failure(s)\n", check_failures); else printf("all checks passed\n"); return check_failures != 0; } while (0)
