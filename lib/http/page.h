#ifndef RELAY_HTTP_PAGE_H
#define RELAY_HTTP_PAGE_H
/* GET /: one HTML page with its CSS and JavaScript inline (no CDN, no
 * build step). It polls /v1/status every 10 s and draws the plots as
 * inline SVG with its own thirty lines of JavaScript: a charting library
 * would be ten times the page for a few line plots. The 24 h plots are
 * relay-send's state/history/ (issue 13), through /v1/status. */
extern const char http_page[], http_page_end[];
#endif
