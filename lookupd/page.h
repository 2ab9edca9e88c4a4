/*
 * page - the status page, GET / on the HTTP listener: one self-contained HTML document
 * rendered on the server from the status snapshot (status.h), with inline SVG charts
 * (svg.h). No scripts, fonts, images or other requests: the Content-Security-Policy
 * page_csp() returns allows nothing but the page's own <style> (by its hash). It refreshes
 * itself (meta refresh) and reads in a text browser (the charts have text equivalents).
 *
 * Every untrusted byte (LDAP error text, sources, domains, client addresses) goes through
 * svg_esc(). Ownership: page_render() writes to the caller's stream; page_csp() returns a
 * static string.
 */
#ifndef RCPTDIR_LK_PAGE_H
#define RCPTDIR_LK_PAGE_H

#include <stdio.h>

#include "lookupd/status.h"

#define PAGE_REFRESH 30   /* seconds between reloads */
#define PAGE_SYNCS   48   /* history records the page reads */
#define PAGE_ROWS    12   /* of them, in the table */
#define PAGE_MINUTES 1440 /* answers per minute shown: 24 h */

/* the snapshot the page needs (status_fill()) */
extern const struct status_want page_want;

/* page_render - the whole HTML document */
void page_render(FILE *fp, const struct lk_status *s);
/* page_csp - the Content-Security-Policy header value for the page */
const char *page_csp(void);

#endif
