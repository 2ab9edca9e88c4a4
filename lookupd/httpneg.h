/*
 * httpneg - the two request header fields the feed routes negotiate on, as pure parsers of a
 * field's value (no libmicrohttpd: the caller hands each field over, feedsrv.c):
 *
 *   Accept-Encoding (RFC 9110 12.5.3): a comma-separated list of codings, any case, each with
 *   optional parameters of which only q counts; q=0 refuses a coding; "x-gzip" is gzip;
 *   "*" stands for every coding not named. Several fields are one list; the first mention of
 *   a coding wins; an element that does not parse is ignored.
 *   If-None-Match (RFC 9110 13.1.2): "*" or a list of entity tags, compared weakly (W/ is
 *   ignored); parsing stops at the first malformed element.
 *
 * Nothing is allocated; values are only read.
 */
#ifndef RCPTDIR_LK_HTTPNEG_H
#define RCPTDIR_LK_HTTPNEG_H

/* Accept-Encoding: the weights (0..1000) given to the codings that matter; -1 not listed */
struct httpneg_accept {
    int present; /* a field was seen (maybe empty: identity only) */
    int gzip, xgzip, identity, star;
};

void httpneg_accept_init(struct httpneg_accept *a);
/* httpneg_accept_parse - add one Accept-Encoding field value */
void httpneg_accept_parse(struct httpneg_accept *a, const char *value);
/*
 * httpneg_accept_gzip - does the request accept gzip and not prefer identity to it? gzip's
 * weight is that of "gzip", else "x-gzip" (RFC 9110 8.4.1.3), else "*"; identity is preferred
 * only when listed ("identity", else "*") with a higher weight. No field at all: identity.
 */
int httpneg_accept_gzip(const struct httpneg_accept *a);

/* httpneg_etag_listed - does the If-None-Match value hold etag (with its quotes), or "*"? */
int httpneg_etag_listed(const char *value, const char *etag);

#endif
