/*
 * ldap_conn - connect, StartTLS and bind; see ldap_conn.h.
 */
#include "syncd/ldap_conn.h"

#include <lber.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "schema/err.h"

/* ldap_conn_fail - see ldap_conn.h */
int ldap_conn_fail(struct ldap_conn *r, const char *act, int code, const char *detail)
{
    snprintf(r->err, r->errlen, "ldap: %s%s%s: %s%s%s", act, r->uri ? " at " : "",
             r->uri ? r->uri : "", ldap_err2string(code), detail && *detail ? ": " : "",
             detail ? detail : "");
    return SOURCE_ERR;
}

/*
 * ldap_conn_readahead - read the socket in 32 kB gulps. Without it libldap reads each message's
 * header and body with separate read()s and polls before each: three system calls per entry
 * (strace -c). slapd puts the same readahead layer under its own connections; TLS, when
 * used, sits above it (LBER_SBIOD_LEVEL_TRANSPORT). Without the layer a sync still works.
 */
static void ldap_conn_readahead(LDAP *ld)
{
    int size = 32768;
    Sockbuf *sb = NULL;

    if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) == LDAP_OPT_SUCCESS && sb != NULL &&
        ber_sockbuf_add_io(sb, &ber_sockbuf_io_readahead, LBER_SBIOD_LEVEL_PROVIDER, &size) != 0)
        log_debug("ldap: no readahead on the connection");
}

/*
 * ldap_conn_badcred - the directory refused bind_dn's password (result 49): a configuration
 * error (exit 78), not "try again later", with what to check; returns SOURCE_ERR_CONFIG
 */
static int ldap_conn_badcred(struct ldap_conn *r)
{
    size_t n = strlen(r->err);

    snprintf(r->err + n, r->errlen - n,
             "; check [ldap] bind_dn and the password in bind_pw_file (no trailing spaces)");
    return SOURCE_ERR_CONFIG;
}

/* ldap_conn_open_one - connect, StartTLS, bind to one URI */
static int ldap_conn_open_one(struct ldap_conn *r, const char *uri, const char *pw)
{
    const struct conf *cf = r->cf;
    struct timeval tv = {(time_t)cf->ldap_timeout, 0};
    int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, rc;
    struct berval cred = {pw ? strlen(pw) : 0, (char *)(uintptr_t)(pw ? pw : "")};
    char *diag = NULL;

    r->uri = uri;
    if ((rc = ldap_initialize(&r->ld, uri)) != LDAP_SUCCESS)
        return ldap_conn_fail(r, "initializing", rc, NULL);
    ldap_set_option(r->ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(r->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
    ldap_set_option(r->ld, LDAP_OPT_TIMEOUT, &tv);
    ldap_set_option(r->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    ldap_set_option(r->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
    if (cf->ldap_tls_ca_file[0] != '\0')
        ldap_set_option(r->ld, LDAP_OPT_X_TLS_CACERTFILE, cf->ldap_tls_ca_file);
    ldap_set_option(r->ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
    /* connect on its own, so a failed TLS handshake is not reported as a failed bind */
    if ((rc = ldap_connect(r->ld)) != LDAP_SUCCESS) {
        int tls = strncasecmp(uri, "ldaps:", 6) == 0;
        ldap_get_option(r->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
        ldap_conn_fail(r,
                       tls ? "connecting (TLS handshake: is the server's certificate signed by "
                             "tls_ca_file and issued for this host name?)"
                           : "connecting",
                       rc, diag);
        ldap_memfree(diag);
        return SOURCE_ERR;
    }
    if (!r->no_readahead)
        ldap_conn_readahead(r->ld);
    if (cf->ldap_starttls && strncasecmp(uri, "ldaps:", 6) != 0 &&
        (rc = ldap_start_tls_s(r->ld, NULL, NULL)) != LDAP_SUCCESS) {
        ldap_get_option(r->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
        ldap_conn_fail(r, "starting TLS", rc, diag);
        ldap_memfree(diag);
        return SOURCE_ERR;
    }
    rc = ldap_sasl_bind_s(r->ld, cf->ldap_bind_dn[0] ? cf->ldap_bind_dn : NULL, LDAP_SASL_SIMPLE,
                          &cred, NULL, NULL, NULL);
    if (rc != LDAP_SUCCESS) {
        ldap_get_option(r->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
        ldap_conn_fail(r, "binding", rc, diag);
        ldap_memfree(diag);
        return rc == LDAP_INVALID_CREDENTIALS ? ldap_conn_badcred(r) : SOURCE_ERR;
    }
    return 0;
}

/* ldap_conn_open - try each URI in order until one binds */
int ldap_conn_open(struct ldap_conn *r)
{
    char pw[FS_SECRET_MAX + 1], msg[512];
    const char *pwp = NULL;
    int rc = SOURCE_ERR;

    if (r->cf->ldap_bind_pw_file[0] != '\0') {
        if (fs_read_secret(r->cf->ldap_bind_pw_file, pw, sizeof(pw), msg, sizeof(msg)) < 0) {
            snprintf(r->err, r->errlen, "ldap: bind_pw_file: %s", msg);
            return SOURCE_ERR_CONFIG;
        }
        pwp = pw;
    }
    for (size_t i = 0; i < r->cf->ldap_uri.n; i++) {
        if ((rc = ldap_conn_open_one(r, r->cf->ldap_uri.v[i], pwp)) == 0)
            break;
        if (r->ld != NULL) {
            ldap_unbind_ext_s(r->ld, NULL, NULL);
            r->ld = NULL;
        }
        if (rc == SOURCE_ERR_CONFIG) /* the next server of the directory says the same */
            break;
        if (i + 1 < r->cf->ldap_uri.n)
            log_warnx("%s; trying the next URI", r->err);
    }
    explicit_bzero(pw, sizeof(pw));
    return rc;
}

void ldap_conn_close(struct ldap_conn *c)
{
    if (c->ld != NULL)
        ldap_unbind_ext_s(c->ld, NULL, NULL);
    c->ld = NULL;
}
