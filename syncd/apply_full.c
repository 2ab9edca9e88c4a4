/*
 * apply_full - a whole directory into the apply core, mark and sweep; see apply_full.h.
 * Owns the two seen-sets (addresses, entries); everything else is the core's.
 */
#include "syncd/apply_full.h"

#include <errno.h>
#include <stdlib.h>

#include "common/hset.h"
#include "common/xmalloc.h"
#include "syncd/apply_core.h"

struct full {
    struct hset seen_addr, seen_entry;
};

/* full_finish - removals of what was not seen, then the managed domains */
static int full_finish(struct apply *a, void *state)
{
    struct full *f = state;
    uint64_t entries_removed = 0;
    int rc;

    if (!apply_fresh(a) &&
        ((rc = apply_sweep(a, STORE_ADDR, &f->seen_addr, STORE_OP_REMOVE,
                           &apply_stats_of(a)->removed)) != 0 ||
         (rc = apply_sweep(a, STORE_ENTRY, &f->seen_entry, 0, &entries_removed)) != 0))
        return rc;
    return apply_domains(a);
}

static void full_free(void *state)
{
    struct full *f = state;

    hset_free(&f->seen_addr);
    hset_free(&f->seen_entry);
    free(f);
}

static const struct apply_driver full_driver = {
    .name = "directory",
    .finish = full_finish,
    .free_state = full_free,
};

int apply_full_start(struct apply *a)
{
    struct full *f = xcalloc(1, sizeof(*f));
    uint64_t addrs = apply_stats_of(a)->previous, entries = apply_entries_before(a);

    if (!apply_fresh(a)) { /* the directory is about as big as last time: size the sets once */
        hset_reserve(&f->seen_addr, addrs + addrs / 8);
        hset_reserve(&f->seen_entry, entries + entries / 8);
    }
    if (apply_attach(a, &full_driver, f) != 0) {
        full_free(f);
        return EINVAL;
    }
    return 0;
}

/* full_address - store address i of an entry; a key seen before in this sync is contested */
static int full_address(struct apply *a, struct full *f, const struct sync_entry *e, size_t i)
{
    const struct sync_addr *ad = &e->addrs[i];
    unsigned char buf[RCPT_MAX];
    struct rcpt r;
    MDB_val rec;
    int n, rc;

    apply_entry_rcpt(e, i, &r);
    if ((n = rcpt_encode(buf, sizeof(buf), &r)) < 0)
        return STORE_ERR_CORRUPT;
    rec.mv_size = (size_t)n;
    rec.mv_data = buf;
    apply_domain_note_key(a, ad->key, ad->len);
    if (apply_fresh(a)) { /* into an empty store a key met twice is the only conflict */
        rc = apply_addr_put(a, ad->key, ad->len, &rec, APPLY_PUT_NOOVERWRITE);
        return rc == APPLY_KEYEXIST ? apply_addr_contest(a, ad->key, ad->len, &rec, &r) : rc;
    }
    if (!hset_add(&f->seen_addr, hset_hash(ad->key, ad->len)))
        return apply_addr_contest(a, ad->key, ad->len, &rec, &r);
    return apply_addr_put(a, ad->key, ad->len, &rec, 0);
}

int apply_full_entry(struct apply *a, const struct sync_entry *e)
{
    struct full *f = apply_driver_state(a, &full_driver);
    int rc;

    if (f == NULL)
        return EINVAL;
    if (e->naddrs == 0 || e->id_len == 0)
        return 0;
    if (!apply_fresh(a) && !hset_add(&f->seen_entry, hset_hash(e->id, e->id_len)))
        return 0; /* the same entry again (overlapping bases) */
    rc = apply_entry_put(a, e, apply_fresh(a) ? APPLY_PUT_NOOVERWRITE : 0);
    if (rc == APPLY_KEYEXIST)
        return 0; /* the same entry twice in this (fresh) sync */
    if (rc != 0)
        return rc;
    apply_stats_of(a)->entries_seen++;
    for (size_t i = 0; i < e->naddrs; i++)
        if ((rc = full_address(a, f, e, i)) != 0)
            return rc;
    return 0;
}
