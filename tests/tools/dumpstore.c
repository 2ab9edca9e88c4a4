/*
 * dumpstore - print a store for tests: "address<TAB>kind<TAB>state<TAB>primary" per address
 * (sorted, as LMDB keeps them), then "domain<TAB>NAME" lines; with -m also the meta values
 * generation and addresses; with -e the entry ids ("entry<TAB>ID<TAB>number of addresses").
 * The walks are schema/store_list's, which rcptdir-lookupd --list uses too.
 *
 *   dumpstore [-m] [-e] STORE_DIR
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "schema/store.h"
#include "schema/store_list.h"

static int dump_addr(void *ctx, const char *key, size_t len, const struct rcpt *r)
{
    (void)ctx;
    printf("%.*s\t%s\t%s\t%.*s\n", (int)len, key, rcpt_kind_name(r->kind),
           rcpt_state_name(r->state), (int)r->primary_len, r->primary);
    return 0;
}

static int dump_domain(void *ctx, const char *dom, size_t len, enum store_domain_kind kind)
{
    (void)ctx;
    (void)kind;
    printf("domain\t%.*s\n", (int)len, dom);
    return 0;
}

static int dump_entry(void *ctx, const char *id, size_t len, const struct store_entry *e)
{
    (void)ctx;
    printf("entry\t%.*s\t%zu\n", (int)len, id, e->nkeys);
    return 0;
}

int main(int argc, char **argv)
{
    struct store *st;
    MDB_txn *txn;
    int meta = 0, entries = 0, ch, rc;

    while ((ch = getopt(argc, argv, "me")) != -1) {
        if (ch == 'm')
            meta = 1;
        else if (ch == 'e')
            entries = 1;
        else
            return 64;
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: dumpstore [-m] [-e] STORE_DIR\n");
        return 64;
    }
    if ((rc = store_open(&st, argv[optind], STORE_RDONLY, 0)) != 0) {
        fprintf(stderr, "dumpstore: %s: %s\n", argv[optind], store_strerror(rc));
        return 1;
    }
    if ((rc = store_begin(st, MDB_RDONLY, &txn)) == 0) {
        if (meta) {
            struct store_info info;
            if ((rc = store_info_read(txn, st, &info)) == 0)
                printf("meta\tgeneration=%llu addresses=%llu domains=%llu\n",
                       (unsigned long long)info.generation, (unsigned long long)info.addresses,
                       (unsigned long long)info.domains);
        }
        if (rc == 0)
            rc = store_list_addrs(txn, st, NULL, dump_addr, NULL);
        if (rc == 0)
            rc = store_list_domains(txn, st, NULL, dump_domain, NULL);
        if (rc == 0 && entries)
            rc = store_list_entries(txn, st, NULL, dump_entry, NULL);
        mdb_txn_abort(txn);
    }
    store_close(st);
    if (rc != 0)
        fprintf(stderr, "dumpstore: %s\n", store_strerror(rc));
    return rc != 0;
}
