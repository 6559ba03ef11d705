/* BDAT, CHUNKING (RFC 3030), of the SMTP server session (net/smtpd.h).
 *
 * The rules it keeps:
 *   - a chunk's octets are always read off the connection, exactly its
 *     size, whether the chunk is taken or refused (a 503 outside a
 *     transaction): they are never read as commands. A BDAT line whose
 *     size cannot be parsed ends the session (smtpd.c), and so does a
 *     chunk that would take the message over the size limit (552, then
 *     closed: nothing is read past the limit to find the next command);
 *   - the chunks go through the DATA reader in raw mode (no dots, no
 *     end mark: net/smtpd_cmd.h), so a chunked message gets the checks
 *     of DATA: a bare CR or LF or a NUL anywhere is 550 5.6.0 for the
 *     whole message, a line over 998 octets or too many header lines is
 *     552 5.3.4 (at LAST; the chunks before it get their 250). What is
 *     queued is CRLF lines that relay-send can dot-stuff safely;
 *   - DATA and BDAT never mix in one transaction; RSET, a new MAIL,
 *     EHLO and STARTTLS drop the chunks so far. BINARYMIME is not
 *     offered (BODY=BINARYMIME is refused at MAIL). */
#include "net/smtpd_priv.h"

#include <stdio.h>

int smtpd_bdat(struct smtpd_session *s, const struct smtpd_cmd *c)
{
	unsigned long long left = c->bdat_size, had = s->bdat ? s->bd.total : 0;
	const char *refuse = NULL;
	int code = 0;
	if (s->state != ST_MAIL)
		refuse = "5.5.1 MAIL first", code = 503;
	else if (s->nrcpt == 0)
		refuse = "5.5.1 no valid recipients", code = 554;
	if (had + left > s->cf->maxsize) {
		smtpd_reply(s, 552, "5.3.4 message larger than the size limit; closing");
		snprintf(s->end, sizeof s->end, "dropped: BDAT over the size limit");
		return 0;
	}
	if (!refuse && !s->bdat) {
		smtpd_data_init(&s->bd, &s->msg, s->cf->maxsize);
		s->bd.raw = 1;
		s->bdat = 1;
	}
	while (left) {
		struct smtpd_io *io = s->io;
		size_t n, used = 0;
		int r;
		if (io->off == io->len && (r = smtpd_io_fill(io)) <= 0) {
			smtpd_set_end(s, r);
			return 0;
		}
		n = io->len - io->off;
		if (n > left)
			n = (size_t)left;
		if (!refuse && smtpd_data_feed(&s->bd, io->in + io->off, n, &used) < 0) {
			smtpd_io_reply(io, "451 4.3.0 out of memory");
			snprintf(s->end, sizeof s->end, "out of memory");
			return 0;
		}
		io->off += n;
		left -= n;
	}
	if (refuse) {
		smtpd_reply(s, code, refuse);
		return 1;
	}
	if (!c->bdat_last) {
		smtpd_io_reply(s->io, "250 2.0.0 %llu octets received", c->bdat_size);
		return 1;
	}
	if (smtpd_data_end(&s->bd) < 0) {
		smtpd_io_reply(s->io, "451 4.3.0 out of memory");
		snprintf(s->end, sizeof s->end, "out of memory");
		return 0;
	}
	smtpd_finish(s, &s->bd);
	return 1;
}
