#ifndef RELAY_BOUNDS_H
#define RELAY_BOUNDS_H
/* Caps on input from outside, in one place. */
#define ADDR_LOCAL_MAX   64     /* RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX  255    /* RFC 5321 4.5.3.1.2 */
#define ADDR_PATH_MAX    256    /* RFC 5321 4.5.3.1.3, with the <> */
#define LINE_MAX_OCTETS  998    /* RFC 5322 2.1.1, without CRLF */
#define HEADER_MAX       (256 * 1024) /* whole header section */
#define RCPT_MAX         100000 /* recipients per message */
#define MSG_SIZE_DEFAULT (32UL * 1024 * 1024) /* settings: maxsize */
#define CONF_LINE_MAX    4096
#define REPLY_LINE_MAX   2048   /* one SMTP reply line we keep */
#define REPLY_LINES_MAX  256    /* lines in one multi-line reply */
#endif
