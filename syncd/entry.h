/*
 * entry - map one directory entry (struct attrs) to its normalized addresses.
 *
 * The rules of design.md, shared by every directory source (LDAP, LDIF):
 *   - addresses come from the configured address_attrs; proxyAddresses values count only
 *     with an smtp: prefix (any case), which is removed;
 *   - the primary address is the first valid primary_attr value, else AD's "SMTP:"
 *     proxyAddresses value, else the first valid address; its kind is user, or group when
 *     the entry matched group_filter; every other address of the entry is an alias;
 *   - the state (active/disabled) is the entry's, decided by disabled_filter;
 *   - invalid values are skipped and counted (a few samples are logged);
 *   - the id is the first id_attrs value present (binary values such as objectGUID as
 *     lower-case hex), else the DN.
 *
 * struct sync_entry owns its address array; entry_free() releases it. It is reused
 * across entries: entry_map() overwrites it.
 */
#ifndef RCPTDIR_ENTRY_H
#define RCPTDIR_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "schema/rcpt.h"
#include "syncd/attrs.h"

struct mapping {
    const struct cfg_list *address_attrs;
    const char *primary_attr;
    const struct cfg_list *id_attrs;
    unsigned addr_flags;
};

struct sync_addr {
    char key[ADDR_KEY_SIZE];
    size_t len;
    enum rcpt_kind kind;
};

struct sync_entry {
    char id[RCPT_ENTRY_MAX + 1];
    size_t id_len;
    char primary[ADDR_KEY_SIZE];
    size_t primary_len;
    enum rcpt_state state;
    struct sync_addr *addrs;
    size_t naddrs, cap;
};

struct map_stats {
    uint64_t entries;   /* entries mapped */
    uint64_t invalid;   /* values skipped as invalid addresses */
    uint64_t no_addrs;  /* entries without any valid address */
    uint64_t range_cut; /* entries with an address attribute cut short (attrs_range_cut) */
};

/* Invalid values logged per sync, as samples. */
#define ENTRY_INVALID_SAMPLES 5

/*
 * entry_map - fill e from the entry's attributes. Returns the number of addresses
 * (0: nothing to store for this entry).
 */
size_t entry_map(const struct mapping *m, const struct attrs *a, const char *dn, size_t dnlen,
                 int is_group, int is_disabled, struct sync_entry *e, struct map_stats *st);

void entry_free(struct sync_entry *e);

/* entry_id - the id of an entry from its attributes (id_attrs, else the DN) into buf */
size_t entry_id(const struct mapping *m, const struct attrs *a, const char *dn, size_t dnlen,
                char *buf, size_t cap);

#endif
