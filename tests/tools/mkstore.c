/*
 * mkstore - write an rcptdir store from a text file, for tests (rcptdir-syncd does this for
 * real). Uses only the schema/ API and LMDB.
 *
 *   mkstore [--age SECONDS | --never] [--generation N] STORE_DIR [FILE]
 *
 * FILE (default stdin) holds lines "address<TAB>kind<TAB>state<TAB>primary" (the format of
 * schema/ldap/sample.expected; kind user/group/alias, state active/disabled; "@domain" is a
 * catch-all) and "domain<TAB>example.org" lines. Without domain lines the domains are
 * derived from the addresses. Blank lines and lines starting with '#' are ignored.
 *
 * The addr and domain databases are replaced in one write transaction; meta gets the next
 * generation (or N), last_success = now - SECONDS (0 with --never), last_attempt = now,
 * last_result "ok" (or "failed" with --never), and the counts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema/addr.h"
#include "schema/rcpt.h"
#include "schema/store.h"

/* mkstore_kind - parse a kind name */
static int mkstore_kind(const char *s)
{
    if (strcmp(s, "user") == 0)
        return RCPT_USER;
    if (strcmp(s, "group") == 0)
        return RCPT_GROUP;
    if (strcmp(s, "alias") == 0)
        return RCPT_ALIAS;
    return -1;
}

/* mkstore_put_domain - record a managed domain */
static int mkstore_put_domain(MDB_txn *txn, struct store *st, const char *dom, size_t len,
                              enum store_domain_kind how)
{
    unsigned char b = (unsigned char)how;
    MDB_val k = {len, (void *)(uintptr_t)dom}, v = {STORE_DOMAIN_VALUE_SIZE, &b};

    return mdb_put(txn, store_dbi(st, STORE_DOMAIN), &k, &v,
                   how == STORE_DOMAIN_DERIVED ? MDB_NOOVERWRITE : 0);
}

static void usage(void)
{
    fprintf(stderr, "usage: mkstore [--age SECONDS | --never] [--generation N] STORE_DIR [FILE]\n");
    exit(64);
}

int main(int argc, char **argv)
{
    long long age = 0;
    int never = 0, i = 1, rc, line = 0, explicit_domains = 0;
    uint64_t generation = 0, naddr = 0, ndom = 0;
    const char *path, *file = NULL;
    struct store *st;
    MDB_txn *txn = NULL;
    MDB_stat ms;
    FILE *fp = stdin;
    char buf[4096];
    time_t now = time(NULL);

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--never") == 0)
            never = 1;
        else if (strcmp(argv[i], "--age") == 0 && i + 1 < argc)
            age = strtoll(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--generation") == 0 && i + 1 < argc)
            generation = strtoull(argv[++i], NULL, 10);
        else
            usage();
    }
    if (i >= argc || argc - i > 2)
        usage();
    path = argv[i];
    if (i + 1 < argc)
        file = argv[i + 1];
    if (file != NULL && (fp = fopen(file, "r")) == NULL) {
        fprintf(stderr, "mkstore: %s: %s\n", file, strerror(errno));
        return 1;
    }
    if (fp == stdin) {
        /* two passes over the input: keep a copy that can be rewound */
        FILE *tmp = tmpfile();
        size_t n;

        if (tmp == NULL)
            return 1;
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
            fwrite(buf, 1, n, tmp);
        fp = tmp;
    }
    if ((rc = store_open(&st, path, 0, 64u << 20)) != 0) {
        fprintf(stderr, "mkstore: %s: %s\n", path, store_strerror(rc));
        return 1;
    }
    if ((rc = store_begin(st, 0, &txn)) != 0)
        goto fail;
    if (generation == 0) {
        if ((rc = store_meta_get_u64(txn, st, STORE_META_GENERATION, &generation)) != 0)
            goto fail;
        generation++;
    }
    if ((rc = mdb_drop(txn, store_dbi(st, STORE_ADDR), 0)) != 0 ||
        (rc = mdb_drop(txn, store_dbi(st, STORE_DOMAIN), 0)) != 0)
        goto fail;
    /* domain lines first, so derived domains do not overwrite configured ones */
    for (int pass = 0; pass < 2; pass++) {
        rewind(fp);
        line = 0;
        while (fgets(buf, sizeof(buf), fp) != NULL) {
            char *f[4], *save = NULL, key[ADDR_KEY_SIZE];
            int nf = 0, n;

            line++;
            buf[strcspn(buf, "\r\n")] = '\0';
            if (buf[0] == '\0' || buf[0] == '#')
                continue;
            for (char *t = strtok_r(buf, "\t", &save); t != NULL && nf < 4;
                 t = strtok_r(NULL, "\t", &save))
                f[nf++] = t;
            if (nf == 2 && strcmp(f[0], "domain") == 0) {
                if (pass == 1)
                    continue;
                n = addr_normalize_domain(key, sizeof(key), f[1], strlen(f[1]));
                if (n < 0 || (rc = mkstore_put_domain(txn, st, key, (size_t)n,
                                                      STORE_DOMAIN_CONFIGURED)) != 0) {
                    fprintf(stderr, "mkstore: line %d: bad domain\n", line);
                    goto fail;
                }
                explicit_domains = 1;
                continue;
            }
            if (pass == 0)
                continue;
            if (nf != 4) {
                fprintf(stderr, "mkstore: line %d: want 4 tab-separated fields\n", line);
                rc = EINVAL;
                goto fail;
            }
            {
                unsigned char rec[RCPT_MAX];
                char prim[ADDR_KEY_SIZE];
                struct rcpt r = {0};
                MDB_val k, v;
                int len, plen;

                n = addr_normalize(key, sizeof(key), f[0], strlen(f[0]), ADDR_CATCHALL);
                plen = addr_normalize(prim, sizeof(prim), f[3], strlen(f[3]), ADDR_CATCHALL);
                r.kind = (enum rcpt_kind)mkstore_kind(f[1]);
                r.state = strcmp(f[2], "disabled") == 0 ? RCPT_DISABLED : RCPT_ACTIVE;
                if (n < 0 || plen < 0 || (int)r.kind < 0 ||
                    (strcmp(f[2], "active") != 0 && strcmp(f[2], "disabled") != 0)) {
                    fprintf(stderr, "mkstore: line %d: bad record\n", line);
                    rc = EINVAL;
                    goto fail;
                }
                r.flags = key[0] == '@' ? RCPT_FLAG_CATCHALL : 0;
                r.primary = prim;
                r.primary_len = (size_t)plen;
                r.entry = prim; /* the primary stands in for the directory's entry id */
                r.entry_len = (size_t)plen;
                if ((len = rcpt_encode(rec, sizeof(rec), &r)) < 0) {
                    fprintf(stderr, "mkstore: line %d: cannot encode\n", line);
                    rc = EINVAL;
                    goto fail;
                }
                k.mv_size = (size_t)n;
                k.mv_data = key;
                v.mv_size = (size_t)len;
                v.mv_data = rec;
                if ((rc = mdb_put(txn, store_dbi(st, STORE_ADDR), &k, &v, 0)) != 0)
                    goto fail;
                if (!explicit_domains) {
                    size_t dlen;
                    const char *dom = addr_domain(key, (size_t)n, &dlen);
                    rc = mkstore_put_domain(txn, st, dom, dlen, STORE_DOMAIN_DERIVED);
                    if (rc != 0 && rc != MDB_KEYEXIST)
                        goto fail;
                }
            }
        }
    }
    if ((rc = mdb_stat(txn, store_dbi(st, STORE_ADDR), &ms)) != 0)
        goto fail;
    naddr = ms.ms_entries;
    if ((rc = mdb_stat(txn, store_dbi(st, STORE_DOMAIN), &ms)) != 0)
        goto fail;
    ndom = ms.ms_entries;
    if ((rc = store_meta_put_u64(txn, st, STORE_META_GENERATION, generation)) != 0 ||
        (rc = store_meta_put_u64(txn, st, STORE_META_LAST_ATTEMPT, (uint64_t)now)) != 0 ||
        (rc = store_meta_put_u64(txn, st, STORE_META_LAST_SUCCESS,
                                 never ? 0 : (uint64_t)(now - age))) != 0 ||
        (rc = store_meta_put(txn, st, STORE_META_LAST_RESULT, never ? "failed" : "ok")) != 0 ||
        (rc = store_meta_put(txn, st, STORE_META_LAST_ERROR, never ? "test: never synced" : "")) !=
            0 ||
        (rc = store_meta_put(txn, st, STORE_META_SOURCE, "mkstore")) != 0 ||
        (rc = store_meta_put_u64(txn, st, STORE_META_ADDRESSES, naddr)) != 0 ||
        (rc = store_meta_put_u64(txn, st, STORE_META_ENTRIES, naddr)) != 0 ||
        (rc = store_meta_put_u64(txn, st, STORE_META_DOMAINS, ndom)) != 0)
        goto fail;
    if ((rc = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        goto fail;
    }
    store_close(st);
    fclose(fp);
    return 0;
fail:
    fprintf(stderr, "mkstore: %s: %s\n", path, store_strerror(rc));
    if (txn != NULL)
        mdb_txn_abort(txn);
    store_close(st);
    return 1;
}
