/*
 * store_list - walks over the store's databases; see store_list.h.
 */
#include "schema/store_list.h"

#include <string.h>
#include <strings.h>

#include "schema/err.h"

int store_key_in_domain(const char *key, size_t len, const char *domain)
{
    const char *at = memchr(key, '@', len);
    size_t dlen = strlen(domain);

    if (at == NULL)
        return 0;
    at++;
    return (size_t)(key + len - at) == dlen && strncasecmp(at, domain, dlen) == 0;
}

/* store_list_walk - one database in key order; each record to visit() */
static int store_list_walk(MDB_txn *txn, const struct store *st, enum store_db db,
                           int (*visit)(void *arg, const MDB_val *k, const MDB_val *v), void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc;

    if ((rc = mdb_cursor_open(txn, store_dbi(st, db), &cur)) != 0)
        return rc;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
        if ((rc = visit(arg, &k, &v)) != 0)
            break;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* what the visitors of the three walks need */
struct store_list_arg {
    const char *domain;
    void *fn;
    void *ctx;
    const char *key; /* store_entry_of: the key sought, its entry's id out */
    size_t len;
    char *id;
    size_t cap;
};

static int store_list_visit_addr(void *arg, const MDB_val *k, const MDB_val *v)
{
    struct store_list_arg *a = arg;
    struct rcpt r;

    if (a->domain != NULL && !store_key_in_domain(k->mv_data, k->mv_size, a->domain))
        return 0;
    if (rcpt_decode(&r, v->mv_data, v->mv_size) != 0)
        return STORE_ERR_CORRUPT;
    return ((store_list_addr_fn)a->fn)(a->ctx, k->mv_data, k->mv_size, &r);
}

int store_list_addrs(MDB_txn *txn, const struct store *st, const char *domain,
                     store_list_addr_fn fn, void *ctx)
{
    struct store_list_arg a = {.domain = domain, .fn = (void *)fn, .ctx = ctx};

    return store_list_walk(txn, st, STORE_ADDR, store_list_visit_addr, &a);
}

static int store_list_visit_domain(void *arg, const MDB_val *k, const MDB_val *v)
{
    struct store_list_arg *a = arg;
    enum store_domain_kind kind = STORE_DOMAIN_DERIVED;

    if (a->domain != NULL &&
        (k->mv_size != strlen(a->domain) || strncasecmp(k->mv_data, a->domain, k->mv_size) != 0))
        return 0;
    if (v->mv_size == STORE_DOMAIN_VALUE_SIZE)
        kind = *(const unsigned char *)v->mv_data == STORE_DOMAIN_CONFIGURED
                   ? STORE_DOMAIN_CONFIGURED
                   : STORE_DOMAIN_DERIVED;
    return ((store_list_domain_fn)a->fn)(a->ctx, k->mv_data, k->mv_size, kind);
}

int store_list_domains(MDB_txn *txn, const struct store *st, const char *domain,
                       store_list_domain_fn fn, void *ctx)
{
    struct store_list_arg a = {.domain = domain, .fn = (void *)fn, .ctx = ctx};

    return store_list_walk(txn, st, STORE_DOMAIN, store_list_visit_domain, &a);
}

/* store_list_entry_has - the decoded list holds key (any key in domain when key is NULL) */
static int store_list_entry_has(const struct store_entry *e, const char *key, size_t len,
                                const char *domain)
{
    const char *k;
    size_t off = 0, n;

    while (store_entry_next(e, &off, &k, &n) == 1) {
        if (key != NULL ? (n == len && memcmp(k, key, n) == 0) : store_key_in_domain(k, n, domain))
            return 1;
    }
    return 0;
}

static int store_list_visit_entry(void *arg, const MDB_val *k, const MDB_val *v)
{
    struct store_list_arg *a = arg;
    struct store_entry e;

    if (store_entry_decode(&e, v->mv_data, v->mv_size) != 0)
        return STORE_ERR_CORRUPT;
    if (a->domain != NULL && !store_list_entry_has(&e, NULL, 0, a->domain))
        return 0;
    return ((store_list_entry_fn)a->fn)(a->ctx, k->mv_data, k->mv_size, &e);
}

int store_list_entries(MDB_txn *txn, const struct store *st, const char *domain,
                       store_list_entry_fn fn, void *ctx)
{
    struct store_list_arg a = {.domain = domain, .fn = (void *)fn, .ctx = ctx};

    return store_list_walk(txn, st, STORE_ENTRY, store_list_visit_entry, &a);
}

/* store_list_visit_find - the entry whose list holds a->key: copy its id, stop the walk */
static int store_list_visit_find(void *arg, const MDB_val *k, const MDB_val *v)
{
    struct store_list_arg *a = arg;
    struct store_entry e;
    size_t n = k->mv_size < a->cap - 1 ? k->mv_size : a->cap - 1;

    if (store_entry_decode(&e, v->mv_data, v->mv_size) != 0)
        return STORE_ERR_CORRUPT;
    if (!store_list_entry_has(&e, a->key, a->len, NULL))
        return 0;
    memcpy(a->id, k->mv_data, n);
    a->id[n] = '\0';
    return 1;
}

int store_entry_of(MDB_txn *txn, const struct store *st, const char *key, size_t len, char *id,
                   size_t cap)
{
    struct store_list_arg a = {.key = key, .len = len, .id = id, .cap = cap};
    int rc;

    if (cap == 0)
        return MDB_NOTFOUND;
    id[0] = '\0';
    rc = store_list_walk(txn, st, STORE_ENTRY, store_list_visit_find, &a);
    return rc == 1 ? 0 : rc == 0 ? MDB_NOTFOUND : rc;
}
