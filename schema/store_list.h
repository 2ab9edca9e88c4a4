/*
 * store_list - walk the store's addresses, domains and entries in key order, for the tools an
 * operator reaches for (rcptdir-lookupd --list, --count, --explain) and the tests' dumpstore.
 *
 * Each walk runs in the caller's read transaction and calls fn once per record with borrowed
 * bytes (valid until fn returns); fn returns 0 to go on, anything else stops the walk and is
 * returned. A domain filter keeps the addresses ("user@dom", "@dom") and entries (those with at
 * least one such address) of one domain, compared case-insensitively. Returns 0, fn's value,
 * an LMDB error, or STORE_ERR_CORRUPT for a record that does not decode. Nothing here
 * allocates, logs or exits.
 */
#ifndef RCPTDIR_STORE_LIST_H
#define RCPTDIR_STORE_LIST_H

#include <stddef.h>

#include "schema/store.h"

typedef int (*store_list_addr_fn)(void *ctx, const char *key, size_t len, const struct rcpt *r);
typedef int (*store_list_domain_fn)(void *ctx, const char *dom, size_t len,
                                    enum store_domain_kind kind);
typedef int (*store_list_entry_fn)(void *ctx, const char *id, size_t len,
                                   const struct store_entry *e);

/* store_list_addrs - every address record (of domain, when not NULL) */
int store_list_addrs(MDB_txn *txn, const struct store *st, const char *domain,
                     store_list_addr_fn fn, void *ctx);
/* store_list_domains - every managed domain (only domain, when not NULL) */
int store_list_domains(MDB_txn *txn, const struct store *st, const char *domain,
                       store_list_domain_fn fn, void *ctx);
/* store_list_entries - every entry list (those with an address in domain, when not NULL) */
int store_list_entries(MDB_txn *txn, const struct store *st, const char *domain,
                       store_list_entry_fn fn, void *ctx);

/* store_key_in_domain - the address key[0..len) is in domain (case-insensitive); 1 or 0 */
int store_key_in_domain(const char *key, size_t len, const char *domain);

/*
 * store_entry_of - the id of the entry whose list holds key (a scan of every entry list:
 * for tools, not lookups). Copies it into id (cap bytes, NUL-terminated, cut when longer).
 * 0, MDB_NOTFOUND, or an error as above.
 */
int store_entry_of(MDB_txn *txn, const struct store *st, const char *key, size_t len, char *id,
                   size_t cap);

#endif
