/*
 * lookup - the lookup rules over one read transaction; see lookup.h.
 */
#include "lookupd/lookup.h"

#include <string.h>

#include "common/str.h"

const char *lookup_result_name(enum lookup_result r)
{
    switch (r) {
    case LOOKUP_VALID:
        return "valid";
    case LOOKUP_DISABLED:
        return "disabled";
    case LOOKUP_UNKNOWN:
        return "unknown";
    case LOOKUP_FOREIGN:
        return "foreign";
    case LOOKUP_TEMPFAIL:
        return "tempfail";
    case LOOKUP_INVALID:
        return "invalid";
    case LOOKUP_NRESULTS:
        break;
    }
    return "?";
}

/* lookup_answer_init - an empty answer */
static void lookup_answer_init(struct lookup_answer *ans)
{
    ans->result = LOOKUP_TEMPFAIL;
    ans->match = ADDR_MATCH_EXACT;
    ans->kind = RCPT_USER;
    ans->addr_err = 0;
    ans->store_err = 0;
    ans->reason = NULL;
    ans->generation = 0;
    ans->last_success = 0;
    ans->key[0] = ans->matched[0] = ans->primary[0] = '\0';
}

/* lookup_tempfail - set a temporary failure; returns -1 */
static int lookup_tempfail(struct lookup_answer *ans, const char *reason, int err)
{
    ans->result = LOOKUP_TEMPFAIL;
    ans->reason = reason;
    ans->store_err = err;
    return -1;
}

/*
 * What a lookup needs besides the address changes only when a sync commits, that is with
 * the read transaction's snapshot id: each thread keeps the last values it read, so a
 * lookup costs one B-tree search, not three. any_catchall says whether the snapshot holds a
 * catch-all at all: most stores hold none, and an unknown address then costs one search
 * less. It is only ever used for the snapshot it was read in.
 */
static _Thread_local struct {
    const struct store *st;
    size_t txnid;
    uint64_t generation, last_success;
    int any_catchall;
} lookup_meta_cache;

/* lookup_any_catchall - 0 only when this snapshot is known to hold no catch-all */
static int lookup_any_catchall(MDB_txn *txn, const struct store *st)
{
    size_t txnid = mdb_txn_id(txn);

    return txnid == 0 || lookup_meta_cache.st != st || lookup_meta_cache.txnid != txnid ||
           lookup_meta_cache.any_catchall;
}

enum lookup_freshness lookup_freshness(uint64_t last_success, long long max_age, time_t now)
{
    if (last_success == 0)
        return LOOKUP_NEVER;
    if (now > (time_t)last_success &&
        (uint64_t)(now - (time_t)last_success) > (uint64_t)(max_age < 0 ? 0 : max_age))
        return LOOKUP_STALE;
    return LOOKUP_FRESH;
}

const char *lookup_freshness_name(enum lookup_freshness f)
{
    switch (f) {
    case LOOKUP_FRESH:
        return "ok";
    case LOOKUP_STALE:
        return "stale";
    case LOOKUP_NEVER:
        return "never synced";
    case LOOKUP_UNREADABLE:
        break;
    }
    return "store unavailable";
}

/*
 * lookup_store_state - read generation and last_success into ans and decide freshness
 * (LOOKUP_UNREADABLE: the code is in ans->store_err)
 */
static enum lookup_freshness lookup_store_state(MDB_txn *txn, const struct store *st,
                                                const struct lookup_opts *opts, time_t now,
                                                struct lookup_answer *ans)
{
    size_t txnid;
    int rc;

    ans->generation = ans->last_success = 0;
    if (txn == NULL || st == NULL)
        return LOOKUP_NEVER;
    txnid = mdb_txn_id(txn);
    if (txnid != 0 && lookup_meta_cache.st == st && lookup_meta_cache.txnid == txnid) {
        ans->generation = lookup_meta_cache.generation;
        ans->last_success = lookup_meta_cache.last_success;
    } else if ((rc = store_meta_get_u64(txn, st, STORE_META_GENERATION, &ans->generation)) != 0 ||
               (rc = store_meta_get_u64(txn, st, STORE_META_LAST_SUCCESS, &ans->last_success)) !=
                   0 ||
               (rc = store_addr_any_catchall(txn, st, &lookup_meta_cache.any_catchall)) != 0) {
        lookup_meta_cache.st = NULL;
        ans->store_err = rc;
        return LOOKUP_UNREADABLE;
    } else {
        lookup_meta_cache.st = st;
        lookup_meta_cache.txnid = txnid;
        lookup_meta_cache.generation = ans->generation;
        lookup_meta_cache.last_success = ans->last_success;
    }
    return lookup_freshness(ans->last_success, opts->max_age, now);
}

/*
 * lookup_prologue - what every lookup does after normalizing (n: key length or an addr
 * error): answer an invalid key, an unreadable or never-synced store. Returns the store's
 * freshness to go on with (LOOKUP_FRESH or LOOKUP_STALE), or LOOKUP_UNREADABLE when the
 * lookup is answered already (its return value in *rc).
 */
static enum lookup_freshness lookup_prologue(MDB_txn *txn, const struct store *st,
                                             const struct lookup_opts *opts, time_t now, int n,
                                             struct lookup_answer *ans, int *rc)
{
    enum lookup_freshness f;

    if (n < 0) {
        ans->key[0] = '\0';
        ans->result = LOOKUP_INVALID;
        ans->addr_err = n;
        *rc = 0;
        return LOOKUP_UNREADABLE;
    }
    f = lookup_store_state(txn, st, opts, now, ans);
    if (f == LOOKUP_UNREADABLE) {
        *rc = lookup_tempfail(ans, LOOKUP_REASON_ERROR, ans->store_err);
        return LOOKUP_UNREADABLE;
    }
    if (f == LOOKUP_NEVER) {
        *rc = lookup_tempfail(ans, LOOKUP_REASON_NEVER, 0);
        return LOOKUP_UNREADABLE;
    }
    return f;
}

/*
 * lookup_try - look one candidate key up; 1 found (the answer filled in), 0 not found, -1 a
 * store error (the answer a temporary failure). n is the normalized key's length.
 */
static int lookup_try(MDB_txn *txn, const struct store *st, enum addr_match match, const char *key,
                      size_t len, int n, struct lookup_answer *ans)
{
    struct rcpt r;
    int rc = store_addr_get(txn, st, key, len, &r);

    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return lookup_tempfail(ans, LOOKUP_REASON_ERROR, rc);
    ans->result = r.state == RCPT_DISABLED ? LOOKUP_DISABLED : LOOKUP_VALID;
    ans->match = match;
    ans->kind = r.kind;
    memcpy(ans->matched, key, len);
    ans->matched[len] = '\0';
    /* a catch-all record names no mailbox: the address itself is the answer */
    if (r.primary_len == 0 || r.primary[0] == '@' || r.primary_len >= sizeof(ans->primary)) {
        memcpy(ans->primary, ans->key, (size_t)n + 1);
    } else {
        memcpy(ans->primary, r.primary, r.primary_len);
        ans->primary[r.primary_len] = '\0';
    }
    return 1;
}

int lookup_rcpt(MDB_txn *txn, const struct store *st, const struct lookup_opts *opts, time_t now,
                const char *in, size_t len, struct lookup_answer *ans)
{
    struct addr_candidates cand;
    enum lookup_freshness fresh;
    const char *dom;
    size_t domlen;
    int n, rc;

    lookup_answer_init(ans);
    n = addr_normalize(ans->key, sizeof(ans->key), in, len, opts->addr_flags);
    if ((fresh = lookup_prologue(txn, st, opts, now, n, ans, &rc)) == LOOKUP_UNREADABLE)
        return rc;

    /* most lookups find the exact key: the other candidates are built only when it misses */
    if ((rc = lookup_try(txn, st, ADDR_MATCH_EXACT, ans->key, (size_t)n, n, ans)) != 0)
        return rc;
    addr_candidates(ans->key, (size_t)n, opts->delims, &cand);
    for (size_t i = 1; i < cand.n; i++) { /* cand.key[0] is the exact key, tried above */
        if (cand.match[i] == ADDR_MATCH_CATCHALL && !lookup_any_catchall(txn, st))
            continue;
        if ((rc = lookup_try(txn, st, cand.match[i], cand.key[i], cand.len[i], n, ans)) != 0)
            return rc;
    }

    dom = addr_domain(ans->key, (size_t)n, &domlen);
    rc = store_domain_has(txn, st, dom, domlen);
    if (rc == MDB_NOTFOUND) {
        ans->result = LOOKUP_FOREIGN;
        return 0;
    }
    if (rc != 0)
        return lookup_tempfail(ans, LOOKUP_REASON_ERROR, rc);
    if (fresh == LOOKUP_STALE)
        return lookup_tempfail(ans, LOOKUP_REASON_STALE, 0);
    ans->result = LOOKUP_UNKNOWN;
    return 0;
}

int lookup_domain(MDB_txn *txn, const struct store *st, const struct lookup_opts *opts, time_t now,
                  const char *in, size_t len, struct lookup_answer *ans)
{
    int n, rc;

    lookup_answer_init(ans);
    n = addr_normalize_domain(ans->key, sizeof(ans->key), in, len);
    if (lookup_prologue(txn, st, opts, now, n, ans, &rc) == LOOKUP_UNREADABLE)
        return rc;
    rc = store_domain_has(txn, st, ans->key, (size_t)n);
    if (rc == MDB_NOTFOUND) {
        ans->result = LOOKUP_FOREIGN;
        return 0;
    }
    if (rc != 0)
        return lookup_tempfail(ans, LOOKUP_REASON_ERROR, rc);
    ans->result = LOOKUP_VALID;
    str_copy(ans->matched, ans->key, sizeof(ans->matched));
    str_copy(ans->primary, ans->key, sizeof(ans->primary));
    return 1;
}
