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
 * directory must never be applied.
 */
#ifndef RCPTDIR_SRC_LDAP_H
#define RCPTDIR_SRC_LDAP_H

#include "schema/conf.h"
#include "syncd/source.h"

/* ldap_source_run - read the whole directory into sink; 0, SOURCE_ERR, or the sink's code */
int ldap_source_run(const struct conf *cf, const struct source_sink *sink, char *err,
                    size_t errlen);

#endif
