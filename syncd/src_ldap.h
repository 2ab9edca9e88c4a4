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
 * referral, partial result or any other non-success result aborts the sync: a partial
 * directory must never be applied. An entry may carry any number of attributes.
 */
#ifndef RCPTDIR_SRC_LDAP_H
#define RCPTDIR_SRC_LDAP_H

#include "schema/conf.h"
#include "syncd/source.h"

/* the source (source.h): a whole directory through the full-stream driver (src_dir.h) */
extern const struct source src_ldap;

#endif
