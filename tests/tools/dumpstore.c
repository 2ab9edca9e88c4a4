/*
 * dumpstore - print a store for tests: "address<TAB>kind<TAB>state<TAB>primary" per address
 * (sorted, as LMDB keeps them), then "domain<TAB>NAME" lines; with -m also the meta values
 * generation and addresses; with -e the entry ids ("entry<TAB>ID<TAB>n").
 *
 *   dumpstore [-m] [-e] STORE_DIR
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "schema/store.h"

static int dump_db(MDB_txn *txn, struct store *st, enum store_db db, int entries)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    if ((rc = mdb_cursor_open(txn, store_dbi(st, db), &cur)) != 0)
        return rc;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
        struct rcpt r;
        if (db == STORE_DOMAIN) {
            printf("domain\t%.*s\n", (int)k.mv_size, (char *)k.mv_data);
        } else if (db == STORE_ENTRY) {
            if (entries)
                printf("entry\t%.*s\t%zu\n", (int)k.mv_size, (char *)k.mv_data, v.mv_size);
        } else if (rcpt_decode(&r, v.mv_data, v.mv_size) != 0) {
            printf("%.*s\tCORRUPT\n", (int)k.mv_size, (char *)k.mv_data);
        } else {
            printf("%.*s\t%s\t%s\t%.*s\n", (int)k.mv_size, (char *)k.mv_data,
                   rcpt_kind_name(r.kind), rcpt_state_name(r.state), (int)r.primary_len, r.primary);
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
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
            rc = dump_db(txn, st, STORE_ADDR, 0);
        if (rc == 0)
            rc = dump_db(txn, st, STORE_DOMAIN, 0);
        if (rc == 0)
            rc = dump_db(txn, st, STORE_ENTRY, entries);
        mdb_txn_abort(txn);
    }
    store_close(st);
    if (rc != 0)
        fprintf(stderr, "dumpstore: %s\n", store_strerror(rc));
    return rc != 0;
}
