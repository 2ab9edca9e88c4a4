/*
 * ctl - rcptdir-lookupd's commands for an operator, run instead of the server: they open the
 * store read-only (as the user who runs them), print, and exit.
 *
 *   --list      the addresses: "address<TAB>kind<TAB>state<TAB>primary" (the format of
 *               schema/ldap/sample.expected), in key order
 *   --domains   the managed domains: "domain<TAB>configured|derived"
 *   --entries   the entries: "id<TAB>state<TAB>kind<TAB>address,address,..." (the primary first)
 *   --count     "addresses N", "domains N", "entries N", then per kind and state
 *   --domain D  only the addresses, entries, domains of D (and their counts)
 *   --json      one JSON object a line instead (JSON Lines; --count: one object)
 *   -q ADDRESS --explain   the lookup's JSON with why: the rule that matched (exact,
 *               extension, alias, catch-all, disabled), the stored key, the entry it came from,
 *               the store's generation, last success and age
 *
 * Each returns the exit status: 0, 1 (-q: not valid), 75 (the store cannot be read).
 * Output on stdout, errors on stderr; nothing else here logs.
 */
#ifndef RCPTDIR_CTL_H
#define RCPTDIR_CTL_H

#include "lookupd/lookup.h"
#include "schema/conf.h"

enum ctl_what { CTL_LIST, CTL_DOMAINS, CTL_ENTRIES, CTL_COUNT };

struct ctl_opts {
    const char *domain; /* NULL: all */
    int json;
};

/* ctl_list - one of the listings above of cf's store */
int ctl_list(const struct conf *cf, enum ctl_what what, const struct ctl_opts *o);

/* ctl_explain - -q ADDRESS --explain */
int ctl_explain(const struct conf *cf, const struct lookup_opts *opts, const char *addr);

#endif
