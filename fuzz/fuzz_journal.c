/* libFuzzer harness for a worker journal line (send/journal.h): the
 * parser of what a network worker (relayn) wrote for the next relay-send
 * to apply. Built and run by scripts/fuzz-run journal (lib/send/ is not
 * linked there: the two pure files are included). Whatever the input,
 * a line taken has a valid queue id and a D line inside the input that
 * starts with 'D', holds no control byte and parses as an info line. */
#include "../lib/send/dline.c"
#include "../lib/send/journal.c"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data, *dl = NULL;
	char id[QUEUE_ID_LEN + 1], copy[1024];
	size_t dlen = 0, i;
	struct queue_info qi;
	if (!journal_parse(line, size, id, &dl, &dlen))
		return 0;
	if (!queue_id_valid(id) || dl < line || dl + dlen != line + size || dlen == 0 || dl[0] != 'D')
		abort();
	for (i = 0; i < dlen; i++)
		if ((unsigned char)dl[i] < 0x20 || (unsigned char)dl[i] > 0x7e)
			abort();
	if (dlen + 1 > sizeof copy)
		return 0;
	memcpy(copy, dl, dlen);
	copy[dlen] = '\n';
	memset(&qi, 0, sizeof qi);
	if (queue_info_parse(copy, dlen + 1, 1, &qi) == 0)
		queue_info_free(&qi);
	return 0;
}
