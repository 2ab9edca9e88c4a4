/*
 * lookup - the answer to "is this one of our recipients?", over one LMDB read transaction.
 *
 * This is the one place where the rules of design.md meet the store: the address is
 * normalized with addr_normalize(), the keys of addr_candidates() are tried in their pinned
 * order (exact, extension removed, catch-all "@domain"), the domain decides between
 * "unknown" (managed) and "foreign" (not ours), and staleness turns only "unknown" into a
 * temporary failure. A store that was never synced (or is missing) fails every lookup
 * temporarily; any store error is a temporary failure too, never "unknown".
 *
 * Returns, like OpenSMTPD's table_lookup(): 1 found (valid or disabled), 0 not found
 * (unknown, foreign, invalid), -1 temporary failure (tempfail). The answer always says
 * which of them, and why.
 *
 * Nothing here allocates, logs or takes locks; the caller owns the transaction (which may
 * be NULL when there is no store) and the answer. Strings in the answer are copies.
 */
#ifndef RCPTDIR_LOOKUP_H
#define RCPTDIR_LOOKUP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "schema/store.h"

enum lookup_result {
    LOOKUP_VALID = 0, /* an active address (or, for lookup_domain, a managed domain) */
    LOOKUP_DISABLED,  /* an address of a disabled entry */
    LOOKUP_UNKNOWN,   /* no such address in a managed domain */
    LOOKUP_FOREIGN,   /* not a domain of ours */
    LOOKUP_TEMPFAIL,  /* store stale (unknown only), never synced, missing or failing */
    LOOKUP_INVALID,   /* not an address (or domain) at all */
    LOOKUP_NRESULTS
};

/* Reasons of a temporary failure (the text after socketmap "TEMP "). */
#define LOOKUP_REASON_NEVER "store never synced"
#define LOOKUP_REASON_STALE "store stale"
#define LOOKUP_REASON_ERROR "store unavailable"

struct lookup_opts {
    unsigned addr_flags; /* conf_addr_flags() */
    const char *delims;  /* recipient delimiters, NULL or "" for none */
    long long max_age;   /* seconds since the last successful sync before stale */
};

struct lookup_answer {
    enum lookup_result result;
    enum addr_match match;       /* valid, disabled: which candidate matched */
    enum rcpt_kind kind;         /* valid, disabled */
    int addr_err;                /* invalid: enum addr_err */
    int store_err;               /* tempfail by error: the store/LMDB code */
    const char *reason;          /* tempfail: LOOKUP_REASON_* (static) */
    uint64_t generation;         /* of the store read; 0 when none */
    uint64_t last_success;       /* unix time; 0 when never */
    char key[ADDR_KEY_SIZE];     /* normalized key (empty when invalid) */
    char matched[ADDR_KEY_SIZE]; /* the stored key that matched */
    char primary[ADDR_KEY_SIZE]; /* the primary address (the key itself for a catch-all) */
};

/*
 * lookup_rcpt - resolve the address in[0..len) against the store as of txn. txn and st may
 * be NULL (no store yet). now is the current unix time.
 */
int lookup_rcpt(MDB_txn *txn, const struct store *st, const struct lookup_opts *opts, time_t now,
                const char *in, size_t len, struct lookup_answer *ans);

/*
 * lookup_domain - is the domain in[0..len) managed? 1 yes (LOOKUP_VALID), 0 no
 * (LOOKUP_FOREIGN, LOOKUP_INVALID), -1 tempfail (never synced or error; staleness does
 * not matter: the list of domains is known data).
 */
int lookup_domain(MDB_txn *txn, const struct store *st, const struct lookup_opts *opts, time_t now,
                  const char *in, size_t len, struct lookup_answer *ans);

/* lookup_result_name - "valid", "disabled", "unknown", "foreign", "tempfail", "invalid" */
const char *lookup_result_name(enum lookup_result r);

/* How a store stands against max_age: what turns "unknown" into a temporary failure. */
enum lookup_freshness {
    LOOKUP_UNREADABLE = -1, /* the store could not be read */
    LOOKUP_FRESH = 0,       /* the last successful sync is at most max_age seconds old */
    LOOKUP_STALE,           /* older than that */
    LOOKUP_NEVER,           /* never synced (or no store yet) */
};

/*
 * lookup_freshness - the one rule, for lookups, /v1/status and /metrics alike: never synced
 * (last_success 0), stale (now - last_success > max_age; a negative max_age counts as 0),
 * else fresh. A clock set back makes the store look fresh, which is the safe side.
 */
enum lookup_freshness lookup_freshness(uint64_t last_success, long long max_age, time_t now);

/* lookup_freshness_name - "ok", "stale", "never synced", "store unavailable" */
const char *lookup_freshness_name(enum lookup_freshness f);

#endif
