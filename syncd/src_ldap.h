/*
 * src_ldap - an LDAP directory (OpenLDAP, Active Directory, 389-DS) as a source.
 *
 * Connects to each configured URI in order until one binds (failover): ldap:// with
 * optional StartTLS, or ldaps://; certificates are verified (tls_ca_file or the system's
 * CAs); simple bind with bind_dn and the password from bind_pw_file, or anonymous.
 * Group and disabled entries are found with two small searches that the directory
 * evaluates itself ((&filter group_filter), (&filter disabled_filter)), so AD's
 * userAccountControl rule works as written. Then one paged search (RFC 2696) per base
 * streams the entries to the sink; the next page is requested before the current one is
 * processed, so the directory and syncd work at the same time.
 *
 * Every operation has a time limit (timeout). A size limit, time limit, admin limit,
 * referral as a result, partial result or any other non-success result aborts the sync: a
 * partial directory must never be applied. Search continuation references (other naming
 * contexts under a base: Active Directory names them for every search from a domain root)
 * are skipped. An attribute cut short by AD's range retrieval (";range=0-1499") is followed
 * to its end with base searches. An entry may carry any number of attributes.
 *
 * The reader is shared with src_ad.c (Active Directory, incremental): src_ldap_bind(),
 * src_ldap_read_on() with an extra filter clause, src_ldap_ids().
 */
#ifndef RCPTDIR_SRC_LDAP_H
#define RCPTDIR_SRC_LDAP_H

#include <ldap.h>

#include "schema/conf.h"
#include "syncd/source.h"

/* the source (source.h): a whole directory through the full-stream driver (src_dir.h) */
extern const struct source src_ldap;

/* src_ldap_bind - connect and bind as the configuration says (uri failover): 0 with the
 * handle in *ld (ldap_unbind_ext_s() frees it), or src_ldap's error code with a message in
 * err and *ld NULL */
int src_ldap_bind(const struct conf *cf, LDAP **ld, char *err, size_t errlen);

/*
 * src_ldap_read_on - the directory into sink over ld (NULL: connect and bind first); with
 * extra, only the entries that also match it (every filter becomes (&FILTER extra)).
 * Returns 0, SOURCE_ERR with a message in err, or the sink's code.
 */
int src_ldap_read_on(const struct conf *cf, LDAP *ld, const char *extra,
                     const struct source_sink *sink, char *err, size_t errlen);

/*
 * src_ldap_ids - a paged subtree search under base for filter (with one more control ctrl,
 * or NULL), handing fn each entry's id (entry.h rules: id_attrs, else the DN). Returns 0,
 * SOURCE_ERR with a message in err, or fn's non-zero code.
 */
int src_ldap_ids(const struct conf *cf, LDAP *ld, const char *base, const char *filter,
                 LDAPControl *ctrl, int (*fn)(void *ctx, const char *id, size_t len), void *ctx,
                 char *err, size_t errlen);

#endif
