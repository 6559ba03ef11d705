/* The status page (http/page.h): lib/http/page.html, built in with the
 * assembler's .incbin so that it stays a file one can open and edit. */
#include "http/page.h"

__asm__(".section .rodata\n"
        ".global http_page\n"
        ".type http_page, @object\n"
        "http_page:\n"
        ".incbin \"lib/http/page.html\"\n"
        ".global http_page_end\n"
        "http_page_end:\n"
        ".byte 0\n"
        ".previous\n");
