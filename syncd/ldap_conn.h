/*
 * ldap_conn - one LDAP connection as the configuration's [ldap] section describes it,
 * shared by the LDAP sources (src_ldap.c, src_syncrepl.c): each URI in order until one
 * binds (failover); ldap:// with optional StartTLS, or ldaps://; certificates verified
 * (tls_ca_file or the system's CAs); a simple bind with bind_dn and the password read from
 * bind_pw_file, or anonymous. Network and operation timeouts are the configured timeout.
 *
 *   struct ldap_conn c = {.cf = cf, .err = err, .errlen = errlen};
 *   if (ldap_conn_open(&c) == 0) ... c.ld ...;
 *   ldap_conn_close(&c);
 *
 * Ownership: c.ld belongs to c until ldap_conn_close(); cf and err are borrowed. Errors:
 * SOURCE_ERR with the message in err ("ldap: STEP at URI: reason"), or SOURCE_ERR_CONFIG
 * when retrying cannot help (the password refused, bind_pw_file unreadable): exit 78.
 */
#ifndef RCPTDIR_LDAP_CONN_H
#define RCPTDIR_LDAP_CONN_H

#include <ldap.h>
#include <stddef.h>

#include "schema/conf.h"

struct ldap_conn {
    const struct conf *cf;
    char *err;
    size_t errlen;
    int no_readahead; /* no 32 kB read layer: for libldap's ldap_sync_* (src_syncrepl.c) */
    LDAP *ld;         /* out: the bound connection */
    const char *uri;  /* out: the URI connected to */
};

/* ldap_conn_open - connect and bind to the first URI that answers; 0, SOURCE_ERR or
 * SOURCE_ERR_CONFIG (then c->ld is NULL) */
int ldap_conn_open(struct ldap_conn *c);
/* ldap_conn_close - unbind (nothing when not open) */
void ldap_conn_close(struct ldap_conn *c);
/* ldap_conn_fail - "ldap: ACT at URI: code's text: detail" into c->err; returns SOURCE_ERR */
int ldap_conn_fail(struct ldap_conn *c, const char *act, int code, const char *detail);

#endif
