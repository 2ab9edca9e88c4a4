/*
 * err - the names of every code in the error registry; see err.h.
 */
#include "schema/err.h"

#include <lmdb.h>

const char *err_strerror(int rc)
{
    switch (rc) {
    case 0:
        return "ok";
    case STORE_ERR_NOSTORE:
        return "no store at that path (has rcptdir-syncd run yet?)";
    case STORE_ERR_NOTSTORE:
        return "not an rcptdir store";
    case STORE_ERR_VERSION:
        return "store has another format version (re-create it with rcptdir-syncd)";
    case STORE_ERR_CORRUPT:
        return "store holds a record that does not decode";
    case APPLY_REFUSED:
        return "refused by a safety rule";
    case APPLY_BADFEED:
        return "a feed record that cannot be right (an address that is not normalized, or one "
               "sent twice)";
    case SOURCE_ERR:
        return "the source failed";
    case SOURCE_ERR_CONFIG:
        return "the source refused the configuration (credentials, secret file)";
    case FEED_ERR_MAGIC:
        return "not an rcptdir feed (bad magic)";
    case FEED_ERR_VERSION:
        return "feed of an unknown format version";
    case FEED_ERR_HEADER:
        return "malformed feed header";
    case FEED_ERR_TYPE:
        return "unknown or misplaced record type in feed";
    case FEED_ERR_LENGTH:
        return "record length out of bounds in feed";
    case FEED_ERR_RECORD:
        return "malformed record in feed";
    case FEED_ERR_CHECKSUM:
        return "feed checksum mismatch";
    case FEED_ERR_COUNT:
        return "feed record count mismatch";
    case FEED_ERR_TRAILING:
        return "data after the feed trailer";
    case FEED_ERR_TRUNCATED:
        return "feed ended before its trailer";
    case FEED_ERR_STOPPED:
        return "feed decoding stopped by its reader";
    case FEED_ERR_KEYED:
        return "the feed is keyed (HMAC with the hub's feed token): set token_file to check it";
    case FEED_ERR_UNKEYED:
        return "the feed is not keyed although a feed token is set: a hub without "
               "feed_token_file, one older than feed format 2, or a forged feed";
    case FEED_ERR_MAC:
        return "feed HMAC mismatch (another feed token, or an altered feed)";
    }
    return mdb_strerror(rc); /* LMDB's codes, and errno values through strerror() */
}
