/*
 * fuzz_apply_feed - what an edge does with an upstream's bytes: the feed decoder feeding
 * apply_feed_header() / apply_feed_record() (syncd/apply_feed.h) into a real LMDB store, then
 * apply_commit() as a dry run when the trailer verified, else apply_abort().
 *
 * The store (a temporary directory, made once) holds three addresses at generation 1, so
 * snapshots are diffed against something and change feeds from 1 apply. Nothing is ever
 * committed, so every input starts from the same store. Checked: no crash or sanitizer
 * report, and after every input the store's generation and address count are unchanged
 * (a feed that fails must leave the store as it was).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema/feed.h"
#include "schema/store.h"
#include "syncd/apply.h"
#include "syncd/apply_feed.h"
#include "syncd/apply_full.h"
#include "syncd/entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static char dir[] = "/tmp/rcptdir-fuzz-store.XXXXXX";

/* cleanup - the temporary store goes when the fuzzer exits */
static void cleanup(void)
{
    char path[sizeof(dir) + 16];

    store_close(st);
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_apply_feed: %s\n", what);
    abort();
}

/* setup - the store with alice, bob and bob's alias at generation 1 */
static void setup(void)
{
    static const char *keys[] = {"alice@example.org", "bob@example.org", "b@example.org"};
    struct apply_opts o = {.source = "fuzz", .max_delete_ratio = 1.0, .changelog_max = 100};
    struct sync_addr addrs[3];
    struct sync_entry e = {0};
    struct apply_stats s;
    struct apply *a;

    if (mkdtemp(dir) == NULL || store_open(&st, dir, 0, 0) != 0)
        die("cannot make the store");
    atexit(cleanup);
    if (apply_begin(&a, st, &o) != 0 || apply_full_start(a) != 0)
        die("cannot begin");
    for (size_t i = 0; i < 3; i++) {
        memset(&addrs[i], 0, sizeof(addrs[i]));
        addrs[i].len = strlen(keys[i]);
        memcpy(addrs[i].key, keys[i], addrs[i].len);
        addrs[i].kind = i == 2 ? RCPT_ALIAS : RCPT_USER;
    }
    for (size_t i = 0; i < 2; i++) {
        e.id_len = (size_t)snprintf(e.id, sizeof(e.id), "id-%zu", i);
        e.primary_len = addrs[i].len;
        memcpy(e.primary, addrs[i].key, addrs[i].len);
        e.state = RCPT_ACTIVE;
        e.addrs = &addrs[i];
        e.naddrs = i == 0 ? 1 : 2;
        if (apply_full_entry(a, &e) != 0)
            die("cannot fill the store");
    }
    if (apply_commit(a, 0, &s) != 0 || s.generation != 1)
        die("cannot commit the store");
}

static void snapshot_of_store(uint64_t *gen, uint64_t *addrs)
{
    struct store_info info;
    MDB_txn *txn;

    if (store_begin(st, MDB_RDONLY, &txn) != 0 || store_info_read(txn, st, &info) != 0)
        die("cannot read the store");
    mdb_txn_abort(txn);
    *gen = info.generation;
    *addrs = info.addresses;
}

struct ctx {
    struct apply *a;
};

static int cb(void *p, const struct feed_header *h, const struct feed_record *r)
{
    struct ctx *c = p;

    return r == NULL ? apply_feed_header(c->a, h) : apply_feed_record(c->a, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct feed_dec dec;
    struct apply_opts o = {
        .source = "fuzz", .max_delete_ratio = 0.5, .changelog_max = 4, .dry_run = 1};
    struct apply_stats s;
    struct ctx c;
    uint64_t g0, n0, g1, n1;
    int rc;

    if (st == NULL)
        setup();
    snapshot_of_store(&g0, &n0);
    o.force = size > 0 && (data[size - 1] & 1); /* let inputs try --force too */
    if (apply_begin(&c.a, st, &o) != 0)
        die("apply_begin failed");
    feed_dec_init(&dec);
    rc = feed_dec_push(&dec, data, size, cb, &c);
    if (rc == 0 && feed_dec_finish(&dec) == 0) {
        rc = apply_commit(c.a, 0, &s); /* a dry run: computes everything, writes nothing */
        if (rc == 0 && s.committed)
            die("a dry run committed");
    } else {
        apply_abort(c.a);
    }
    snapshot_of_store(&g1, &n1);
    if (g0 != g1 || n0 != n1)
        die("the store changed");
    return 0;
}
