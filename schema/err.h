/*
 * err - rcptdir's one error space: the registry of every code a function of schema/ or
 * syncd/ returns across a module boundary, and err_strerror(), which names each of them.
 *
 * A result is an int: 0 success; a positive errno value; an LMDB code (MDB_KEYEXIST ..
 * MDB_LAST_ERRCODE, -30799 .. -30780); or one of the codes below, each in a block of its own
 * that LMDB does not use. Every value means one thing, so a caller switches on the value it
 * expects and never tells namespaces apart by numeric range; a code that has to travel
 * through another module's result (a feed decoder's callback, below) is wrapped, not mixed.
 * Parsers that stay inside one module (rcpt_decode(), addr_normalize(), cfg, netstring)
 * keep their small local codes and are turned into one of these at the boundary
 * (STORE_ERR_CORRUPT, FEED_ERR_RECORD, ...).
 *
 * err_strerror() returns a static string for every value (LMDB's and errno's through
 * mdb_strerror()); store_strerror() and feed_strerror() are the same function under the
 * names their modules have always used.
 */
#ifndef RCPTDIR_ERR_H
#define RCPTDIR_ERR_H

/* the store (schema/store.h): -30600 .. */
#define STORE_ERR_NOSTORE  (-30600) /* no store at that path (read-only open) */
#define STORE_ERR_NOTSTORE (-30601) /* an LMDB environment, but not an rcptdir store */
#define STORE_ERR_VERSION  (-30602) /* an rcptdir store of another format version */
#define STORE_ERR_CORRUPT  (-30603) /* a record or meta value that does not decode */

/* a sync (syncd/apply.h): -30700 .. */
#define APPLY_REFUSED (-30700) /* a safety rule refused the sync (or an older upstream) */
#define APPLY_BADFEED (-30701) /* a feed record that cannot be right */

/* a source (syncd/source.h): -30800 */
#define SOURCE_ERR (-30800) /* the source failed; the reason is in the caller's buffer */
/* the source refused our configuration (LDAP invalidCredentials, an unreadable secret file):
 * retrying will not help until an admin fixes it; the reason is in the caller's buffer */
#define SOURCE_ERR_CONFIG (-30801)

/* the feed format (schema/feed.h): -30900 .. */
enum feed_err {
    FEED_ERR_MAGIC = -30900,     /* not a feed */
    FEED_ERR_VERSION = -30901,   /* a feed of another format version */
    FEED_ERR_HEADER = -30902,    /* unknown kind, reserved bytes set, from > to, snapshot
                                    from != 0; or not the feed the reader asked for */
    FEED_ERR_TYPE = -30903,      /* unknown record type, or one that does not belong to the kind */
    FEED_ERR_LENGTH = -30904,    /* a record length over FEED_MAX_RECORD or a key length that
                                    does not fit its record */
    FEED_ERR_RECORD = -30905,    /* a record's key or value is malformed */
    FEED_ERR_CHECKSUM = -30906,  /* the SHA-256 in the trailer does not match */
    FEED_ERR_COUNT = -30907,     /* the trailer's record count does not match */
    FEED_ERR_TRAILING = -30908,  /* bytes after the trailer */
    FEED_ERR_TRUNCATED = -30909, /* the feed ended before its trailer */
    FEED_ERR_STOPPED = -30910,   /* the reader's callback stopped the decoder: its own code is
                                    feed_dec_stopped() */
    FEED_ERR_KEYED = -30911,     /* a keyed feed (HMAC), and the reader has no key to check it */
    FEED_ERR_UNKEYED = -30912,   /* the reader has a key, and the feed is not keyed */
    FEED_ERR_MAC = -30913,       /* the HMAC in the trailer does not match: wrong key, or altered */
};

/* err_strerror - a static description of any result above (0: "ok") */
const char *err_strerror(int rc);

#endif
