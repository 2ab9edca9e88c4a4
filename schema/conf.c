/*
 * conf - the configuration table and its cross-key rules; see conf.h.
 */
#include "schema/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "common/cidr.h"
#include "common/listen.h"
#include "schema/addr.h"

/* conf_check_ldap_uri - ldap:// or ldaps:// (ldapi:// for a local directory) */
static int conf_check_ldap_uri(const char *v, char *err, size_t errlen)
{
    if (strncasecmp(v, "ldap://", 7) == 0 || strncasecmp(v, "ldaps://", 8) == 0 ||
        strncasecmp(v, "ldapi://", 8) == 0)
        return 0;
    snprintf(err, errlen, "'%.64s' is not an ldap://, ldaps:// or ldapi:// URI", v);
    return -1;
}

static int conf_check_http_url(const char *v, char *err, size_t errlen)
{
    if (strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0)
        return 0;
    snprintf(err, errlen, "'%.64s' is not an http:// or https:// URL", v);
    return -1;
}

static int conf_check_domain(const char *v, char *err, size_t errlen)
{
    char key[ADDR_KEY_SIZE];
    int rc = addr_normalize_domain(key, sizeof(key), v, strlen(v));

    if (rc >= 0)
        return 0;
    snprintf(err, errlen, "'%.64s': %s", v, addr_strerror(rc));
    return -1;
}

static int conf_check_delimiter(const char *v, char *err, size_t errlen)
{
    for (const char *p = v; *p; p++) {
        if (*p == '@' || *p == '"' || (unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            snprintf(err, errlen, "delimiter characters must be printable ASCII other than '@'");
            return -1;
        }
    }
    return 0;
}

static int conf_check_mode(const char *v, char *err, size_t errlen)
{
    char *end;
    long m = strtol(v, &end, 8);

    if (*v == '\0' || *end != '\0' || m < 0 || m > 0777) {
        snprintf(err, errlen, "'%.16s' is not an octal mode 0..0777", v);
        return -1;
    }
    return 0;
}

static int conf_check_ldap_sync(const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "paged") != 0 && strcmp(v, "syncrepl") != 0 && strcmp(v, "auto") != 0) {
        snprintf(err, errlen, "'%.32s' is not paged, syncrepl or auto", v);
        return -1;
    }
    return 0;
}

static int conf_check_filter(const char *v, char *err, size_t errlen)
{
    int depth = 0;

    if (v[0] != '(') {
        snprintf(err, errlen, "an LDAP filter starts with '('");
        return -1;
    }
    for (const char *p = v; *p; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')' && --depth < 0)
            break;
    }
    if (depth != 0) {
        snprintf(err, errlen, "unbalanced parentheses in LDAP filter");
        return -1;
    }
    return 0;
}

static int conf_check_preset(const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "openldap") == 0 || strcmp(v, "ad") == 0)
        return 0;
    snprintf(err, errlen, "'%.64s' is not a preset: openldap or ad", v);
    return -1;
}

#define OFF(f) offsetof(struct conf, f)
#define SECTION(name, field)                                                                       \
    {                                                                                              \
        name, NULL, CFG_SECTION, NULL, 0, 0, OFF(field), 0, NULL, NULL                             \
    }
#define MAPPING(sec)                                                                               \
    {sec,                                                                                          \
     "preset",                                                                                     \
     CFG_STR,                                                                                      \
     "openldap",                                                                                   \
     0,                                                                                            \
     0,                                                                                            \
     OFF(map_preset),                                                                              \
     0,                                                                                            \
     conf_check_preset,                                                                            \
     "defaults of the mapping keys (and page_size): openldap, or ad for Active Directory and "     \
     "Exchange; a key given in the file overrides its preset value"},                              \
        {sec,                                                                                      \
         "filter",                                                                                 \
         CFG_STR,                                                                                  \
         "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))",                               \
         0,                                                                                        \
         0,                                                                                        \
         OFF(map_filter),                                                                          \
         0,                                                                                        \
         conf_check_filter,                                                                        \
         "LDAP filter selecting the entries that own addresses"},                                  \
        {sec,                                                                                      \
         "address_attrs",                                                                          \
         CFG_LIST,                                                                                 \
         "mail, mailLocalAddress, mailAlternateAddress, proxyAddresses",                           \
         0,                                                                                        \
         0,                                                                                        \
         OFF(map_address_attrs),                                                                   \
         0,                                                                                        \
         NULL,                                                                                     \
         "attributes holding addresses; proxyAddresses counts only smtp: values"},                 \
        {sec,                                                                                      \
         "primary_attr",                                                                           \
         CFG_STR,                                                                                  \
         "mail",                                                                                   \
         0,                                                                                        \
         0,                                                                                        \
         OFF(map_primary_attr),                                                                    \
         0,                                                                                        \
         NULL,                                                                                     \
         "attribute holding an entry's primary address"},                                          \
        {sec,                                                                                      \
         "group_filter",                                                                           \
         CFG_STR,                                                                                  \
         "(objectClass=groupOfNames)",                                                             \
         0,                                                                                        \
         0,                                                                                        \
         OFF(map_group_filter),                                                                    \
         0,                                                                                        \
         conf_check_filter,                                                                        \
         "entries matching it are groups"},                                                        \
        {sec,                                                                                      \
         "disabled_filter",                                                                        \
         CFG_STR,                                                                                  \
         "",                                                                                       \
         0,                                                                                        \
         0,                                                                                        \
         OFF(map_disabled_filter),                                                                 \
         0,                                                                                        \
         conf_check_filter,                                                                        \
         "entries matching it are disabled (e.g. (description=disabled), or AD's "                 \
         "(userAccountControl:1.2.840.113556.1.4.803:=2))"},                                       \
    {                                                                                              \
        sec, "id_attrs", CFG_LIST, "entryUUID, objectGUID", 0, 0, OFF(map_id_attrs), 0, NULL,      \
            "attributes tried in order for an entry's stable id; the DN when none is present"      \
    }

const struct cfg_key conf_keys[] = {
    SECTION("store", sec_store),
    {"store", "path", CFG_STR, "/var/lib/rcptdir", 0, 0, OFF(store_path), 0, NULL,
     "LMDB environment directory"},

    SECTION("ldap", sec_ldap),
    {"ldap", "uri", CFG_LIST, NULL, 0, 0, OFF(ldap_uri), 0, conf_check_ldap_uri,
     "directory URIs, tried in order (failover)"},
    {"ldap", "starttls", CFG_BOOL, "no", 0, 0, OFF(ldap_starttls), 0, NULL,
     "require StartTLS on ldap:// URIs"},
    {"ldap", "tls_ca_file", CFG_STR, "", 0, 0, OFF(ldap_tls_ca_file), 0, NULL,
     "CA certificates that verify the directory (empty: the system's)"},
    {"ldap", "bind_dn", CFG_STR, "", 0, 0, OFF(ldap_bind_dn), 0, NULL,
     "DN for a simple bind (empty: anonymous)"},
    {"ldap", "bind_pw_file", CFG_STR, "", 0, 0, OFF(ldap_bind_pw_file), CFG_SECRET, NULL,
     "file holding the bind password (mode 600)"},
    {"ldap", "base", CFG_MULTI, NULL, 0, 0, OFF(ldap_base), 0, NULL,
     "search base; repeat the key for several"},
    {"ldap", "page_size", CFG_INT, "500", 1, 100000, OFF(ldap_page_size), 0, NULL,
     "entries per page of the paged search (RFC 2696)"},
    {"ldap", "timeout", CFG_INT, "30", 1, 3600, OFF(ldap_timeout), 0, NULL,
     "seconds allowed for connecting and for each page"},
    {"ldap", "allow_cleartext_bind", CFG_BOOL, "no", 0, 0, OFF(ldap_allow_cleartext_bind), 0, NULL,
     "allow a simple bind over ldap:// without starttls to a server not on loopback (the "
     "password crosses the network in clear)"},
    {"ldap", "incremental", CFG_BOOL, "no", 0, 0, OFF(ldap_incremental), 0, NULL,
     "with preset = ad: read only what changed since the last sync (uSNChanged, deletions "
     "through the Show Deleted control); a full sync when there is no mark or the DC changed"},
    {"ldap", "range_size", CFG_INT, "0", 0, 100000, OFF(ldap_range_size), 0, NULL,
     "values of a multi-valued address attribute asked for per request (AD range retrieval; "
     "0: as many as the directory sends); a cut-short attribute is followed to its end either "
     "way"},
    {"ldap", "sync", CFG_STR, "paged", 0, 0, OFF(ldap_sync), 0, conf_check_ldap_sync,
     "how a sync reads the directory: paged (the whole directory every run), syncrepl (only "
     "what changed since the cookie in the store, RFC 4533; --watch stays connected), auto "
     "(syncrepl when the server offers it, else paged)"},
    {"ldap", "persist_probe", CFG_INT, "60", 1, 86400, OFF(ldap_persist_probe), 0, NULL,
     "syncrepl --watch: seconds without a message on the persist connection before syncd asks "
     "the provider a cheap question on it; no answer within [ldap] timeout: a hung provider, "
     "reconnect and resume from the cookie"},
    MAPPING("ldap"),

    SECTION("ldif", sec_ldif),
    {"ldif", "path", CFG_STR, NULL, 0, 0, OFF(ldif_path), 0, NULL, "LDIF export to read"},
    MAPPING("ldif"),

    SECTION("upstream", sec_upstream),
    {"upstream", "url", CFG_STR, NULL, 0, 0, OFF(up_url), 0, conf_check_http_url,
     "the hub's rcptdir-lookupd HTTP address"},
    {"upstream", "token_file", CFG_STR, "", 0, 0, OFF(up_token_file), CFG_SECRET, NULL,
     "file holding the hub's feed bearer token"},
    {"upstream", "ca_file", CFG_STR, "", 0, 0, OFF(up_ca_file), 0, NULL,
     "CA certificates that verify the hub (empty: the system's)"},
    {"upstream", "timeout", CFG_INT, "60", 1, 3600, OFF(up_timeout), 0, NULL,
     "seconds allowed to connect; transfers slower than 1 kB/s for this long abort"},
    {"upstream", "max_size", CFG_INT, "0", 0, 1099511627776LL, OFF(up_max_size), 0, NULL,
     "largest snapshot or change feed accepted, in bytes (0: four times the store's size on "
     "disk, at least 1 GiB)"},
    {"upstream", "name", CFG_STR, "", 0, 0, OFF(up_name), 0, NULL,
     "the name this edge gives the hub (letters, digits, . - _ :; empty: the host name)"},
    {"upstream", "max_jump", CFG_INT, "1000000000", 1, 4611686018427387904LL, OFF(up_max_jump), 0,
     NULL,
     "most generations one feed may move this store forward without --force (a hub commits "
     "once per change at most: a second's commits for 31 years)"},
    {"upstream", "wait", CFG_INT, "30", 0, 60, OFF(up_wait), 0, NULL,
     "seconds a --watch pull waits at the hub for its next commit (long poll; 0: poll every "
     "[sync] interval)"},

    SECTION("sync", sec_sync),
    {"sync", "domains", CFG_LIST, "", 0, 0, OFF(domains), 0, conf_check_domain,
     "managed domains (empty: derived from the synced addresses)"},
    {"sync", "recipient_delimiter", CFG_STR, "+", 0, 0, OFF(recipient_delimiter), 0,
     conf_check_delimiter, "characters that start an address extension (empty: none)"},
    {"sync", "case_sensitive", CFG_BOOL, "no", 0, 0, OFF(case_sensitive), 0, NULL,
     "keep the case of local parts"},
    {"sync", "max_delete_ratio", CFG_RATIO, "0.10", 0, 1000, OFF(max_delete_ratio), 0, NULL,
     "largest share of addresses one sync may remove without --force"},
    {"sync", "delete_window", CFG_INT, "3600", 0, 31536000, OFF(delete_window), 0, NULL,
     "change streams (syncrepl): seconds within which removed addresses add up against "
     "max_delete_ratio (a sliding window in sixteenths; 0: each sync alone)"},
    {"sync", "interval", CFG_INT, "300", 1, 86400, OFF(interval), 0, NULL,
     "seconds between syncs with --watch"},
    {"sync", "changelog_max", CFG_INT, "1000000", 0, 100000000, OFF(changelog_max), 0, NULL,
     "changes kept for /v1/changes (older generations are trimmed)"},
    {"sync", "lock_timeout", CFG_INT, "60", 0, 3600, OFF(lock_timeout), 0, NULL,
     "seconds a sync waits for another one to finish"},

    SECTION("lookupd", sec_lookupd),
    {"lookupd", "socketmap_listen", CFG_LIST, "inet:127.0.0.1:8641", 0, 0, OFF(socketmap_listen), 0,
     listen_check, "socketmap listeners: inet:HOST:PORT, unix:/PATH"},
    {"lookupd", "http_listen", CFG_STR, "127.0.0.1:8642", 0, 0, OFF(http_listen), 0, listen_check,
     "HTTP listener HOST:PORT (empty: no HTTP)"},
    {"lookupd", "max_age", CFG_INT, "86400", 60, 31536000, OFF(max_age), 0, NULL,
     "seconds since the last successful sync before unknown turns into a temporary failure"},
    {"lookupd", "user", CFG_STR, "rcptdir", 0, 0, OFF(user), 0, NULL,
     "user both daemons run as when started as root: lookupd after binding, syncd from the start "
     "(empty: stay as started)"},
    {"lookupd", "http_token_file", CFG_STR, "", 0, 0, OFF(http_token_file), CFG_SECRET, NULL,
     "bearer token for /v1/recipients (empty: none)"},
    {"lookupd", "feed_token_file", CFG_STR, "", 0, 0, OFF(feed_token_file), CFG_SECRET, NULL,
     "bearer token for /v1/snapshot and /v1/changes (empty: none)"},
    {"lookupd", "pid_file", CFG_STR, "", 0, 0, OFF(pid_file), 0, NULL,
     "file to write the process id to (empty: none)"},
    {"lookupd", "max_connections", CFG_INT, "4096", 16, 1000000, OFF(max_connections), 0, NULL,
     "most socketmap connections open at once"},
    {"lookupd", "idle_timeout", CFG_INT, "300", 11, 86400, OFF(idle_timeout), 0, NULL,
     "seconds an idle socketmap connection stays open (Postfix closes its own after 10)"},
    {"lookupd", "threads", CFG_INT, "2", 1, 64, OFF(threads), 0, NULL,
     "socketmap worker threads; each one after the first takes new connections only while those "
     "before it use 75 % of a CPU"},
    {"lookupd", "max_per_peer", CFG_INT, "1024", 1, 1000000, OFF(max_per_peer), 0, NULL,
     "most socketmap connections from one client address (inet) or one user (unix)"},
    {"lookupd", "socket_mode", CFG_STR, "0660", 0, 0, OFF(socket_mode), 0, conf_check_mode,
     "permissions of unix: socketmap sockets, in octal (never world-writable unless set so)"},
    {"lookupd", "socket_group", CFG_STR, "", 0, 0, OFF(socket_group), 0, NULL,
     "group of unix: socketmap sockets, e.g. postfix (empty: the primary group of user)"},
    {"lookupd", "allow_open", CFG_BOOL, "no", 0, 0, OFF(allow_open), 0, NULL,
     "allow http_listen off loopback although http_token_file or feed_token_file is empty"},
    {"lookupd", "http_timeout", CFG_INT, "30", 1, 3600, OFF(http_timeout), 0, NULL,
     "seconds an HTTP connection may make no progress, a feed stream whose client stops "
     "reading included"},
    {"lookupd", "http_request_timeout", CFG_INT, "10", 1, 3600, OFF(http_request_timeout), 0, NULL,
     "seconds a client has to send a whole HTTP request"},
    {"lookupd", "feed_streams", CFG_INT, "16", 1, 256, OFF(feed_streams), 0, NULL,
     "most /v1/snapshot and /v1/changes answers streaming at once (more get 503)"},
    {"lookupd", "http_unknown_rate", CFG_INT, "20", 0, 1000000, OFF(http_unknown_rate), 0, NULL,
     "unknown-address answers per second to one client over HTTP; more get 429 (0: no limit)"},
    {"lookupd", "feed_waiters", CFG_INT, "1024", 0, 100000, OFF(feed_waiters), 0, NULL,
     "most /v1/changes long polls waiting at once, in connection slots of their own (more get "
     "503; 0: none wait)"},
    {"lookupd", "edges_max", CFG_INT, "256", 1, 100000, OFF(edges_max), 0, NULL,
     "most edges the hub keeps track of (a new name takes only a stale edge's place)"},
    {"lookupd", "edge_stale_after", CFG_INT, "300", 2, 31536000, OFF(edge_stale_after), 0, NULL,
     "seconds without a pull before an edge is flagged stale in /v1/status and /metrics"},
    {"lookupd", "edge_forget_after", CFG_INT, "604800", 60, 31536000, OFF(edge_forget_after), 0,
     NULL, "seconds without a pull before the hub forgets an edge"},
    {"lookupd", "allow_core_dumps", CFG_BOOL, "no", 0, 0, OFF(allow_core_dumps), 0, NULL,
     "let both daemons dump core (a dump can hold the bind password and tokens)"},
    {"lookupd", "policy_listen", CFG_LIST, "", 0, 0, OFF(policy_listen), 0, listen_check,
     "Postfix policy service listeners (check_policy_service): inet:HOST:PORT, unix:/PATH "
     "(empty: none)"},
    {"lookupd", "policy_idle_timeout", CFG_INT, "600", 11, 86400, OFF(policy_idle_timeout), 0, NULL,
     "seconds an idle policy connection stays open (Postfix closes its own after 300)"},
    {"lookupd", "harvest_threshold", CFG_INT, "25", 0, 1000000, OFF(harvest_threshold), 0, NULL,
     "unknown recipients from one client address within harvest_window before it is penalised "
     "(0: not counted)"},
    {"lookupd", "harvest_prefix_threshold", CFG_INT, "100", 0, 1000000,
     OFF(harvest_prefix_threshold), 0, NULL,
     "unknown recipients from one client prefix (harvest_prefix_v4, harvest_prefix_v6) within "
     "harvest_window before the whole prefix is penalised (0: not counted)"},
    {"lookupd", "harvest_window", CFG_INT, "3600", 8, 604800, OFF(harvest_window), 0, NULL,
     "seconds over which unknown recipients are counted (a sliding window in eighths)"},
    {"lookupd", "harvest_penalty", CFG_INT, "900", 1, 604800, OFF(harvest_penalty), 0, NULL,
     "seconds a penalised client gets a temporary refusal for every recipient"},
    {"lookupd", "harvest_prefix_v4", CFG_INT, "24", 1, 32, OFF(harvest_prefix_v4), 0, NULL,
     "IPv4 prefix length counted together (32: addresses only)"},
    {"lookupd", "harvest_prefix_v6", CFG_INT, "64", 1, 128, OFF(harvest_prefix_v6), 0, NULL,
     "IPv6 prefix length counted together (128: addresses only)"},
    {"lookupd", "harvest_max_clients", CFG_INT, "100000", 16, 10000000, OFF(harvest_max_clients), 0,
     NULL,
     "most client addresses and prefixes tracked (64 bytes each); the least recently "
     "counted is dropped first"},
    {"lookupd", "harvest_exempt", CFG_LIST, "127.0.0.0/8, ::1", 0, 0, OFF(harvest_exempt), 0,
     cidr_check, "networks never counted nor refused (ADDRESS[/LENGTH]; empty: none)"},
    {"lookupd", "harvest_disconnect", CFG_BOOL, "no", 0, 0, OFF(harvest_disconnect), 0, NULL,
     "refuse a penalised client with 421 4.7.1, which ends its SMTP session, instead of 450 "
     "4.7.1"},
};

const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);

/*
 * conf_check_open - HTTP off loopback with a route that has no token hands anyone the whole
 * list (/v1/snapshot) or an address oracle (/v1/recipients): refused unless allow_open
 */
static void conf_check_open(const struct conf *cf, const char *name, struct cfg_errors *errs)
{
    struct listen_spec ls;
    char err[256];
    int no_lookup = cf->http_token_file == NULL || cf->http_token_file[0] == '\0';
    int no_feed = cf->feed_token_file == NULL || cf->feed_token_file[0] == '\0';

    if (cf->allow_open || cf->http_listen == NULL || cf->http_listen[0] == '\0' ||
        (!no_lookup && !no_feed) || listen_parse(cf->http_listen, &ls, err, sizeof(err)) < 0 ||
        listen_is_loopback(&ls))
        return;
    cfg_error(errs,
              "%s: [lookupd] http_listen = %s is not loopback, but %s%s%s empty: anyone who "
              "reaches it can read %s; set %s, or allow_open = yes to serve it open on purpose",
              name, cf->http_listen, no_lookup ? "http_token_file" : "",
              no_lookup && no_feed ? " and feed_token_file are"
              : no_lookup          ? " is"
                                   : "",
              no_feed && !no_lookup ? "feed_token_file is" : "",
              no_feed ? "the whole address list" : "which addresses exist",
              no_lookup && no_feed ? "both token files"
              : no_lookup          ? "http_token_file"
                                   : "feed_token_file");
}

/* conf_ldap_loopback - is an ldap:// URI's host this machine (127/8, ::1, localhost, none)? */
static int conf_ldap_loopback(const char *uri)
{
    const char *h = uri + 7, *e;
    size_t n;

    if (*h == '[') {
        e = strchr(h, ']');
        return e != NULL && (size_t)(e - h - 1) == 3 && strncmp(h + 1, "::1", 3) == 0;
    }
    e = h + strcspn(h, ":/");
    n = (size_t)(e - h);
    return n == 0 || (n >= 4 && strncmp(h, "127.", 4) == 0) ||
           (n == 9 && strncasecmp(h, "localhost", 9) == 0);
}

/*
 * conf_check_cleartext - a simple bind over ldap:// without StartTLS sends the password in
 * clear: refused for a directory off this host unless allow_cleartext_bind
 */
static void conf_check_cleartext(const struct conf *cf, const char *name, struct cfg_errors *errs)
{
    if (!cf->sec_ldap || cf->ldap_starttls || cf->ldap_allow_cleartext_bind ||
        cf->ldap_bind_dn == NULL || cf->ldap_bind_dn[0] == '\0' || cf->ldap_bind_pw_file == NULL ||
        cf->ldap_bind_pw_file[0] == '\0')
        return;
    for (size_t i = 0; i < cf->ldap_uri.n; i++) {
        const char *uri = cf->ldap_uri.v[i];
        if (strncasecmp(uri, "ldap://", 7) != 0 || conf_ldap_loopback(uri))
            continue;
        cfg_error(errs,
                  "%s:%d: [ldap] uri = %.100s with bind_dn and starttls = no would send the bind "
                  "password in clear; set starttls = yes, use ldaps://, or allow_cleartext_bind = "
                  "yes to do it anyway",
                  name, cf->sec_ldap, uri);
    }
}

/*
 * The values [ldap] preset = ad gives the keys left at their built-in (openldap) defaults;
 * docs/operations.md "Active Directory / Exchange" says why each one.
 */
static const struct {
    const char *name, *value;
} conf_preset_ad[] = {
    {"filter", "(&(|(objectClass=user)(objectClass=group)(objectClass=contact))"
               "(|(mail=*)(proxyAddresses=*)))"},
    {"address_attrs", "mail, proxyAddresses"},
    {"primary_attr", "mail"},
    {"group_filter", "(objectClass=group)"},
    {"disabled_filter", "(&(userAccountControl:1.2.840.113556.1.4.803:=2)"
                        "(!(msExchRecipientTypeDetails=4))(!(msExchRecipientTypeDetails=16))"
                        "(!(msExchRecipientTypeDetails=32)))"},
    {"id_attrs", "objectGUID"},
    {"page_size", "1000"},
};

static const struct cfg_key *conf_key(const char *section, const char *name)
{
    for (size_t i = 0; i < conf_nkeys; i++)
        if (conf_keys[i].name != NULL && strcmp(conf_keys[i].section, section) == 0 &&
            strcmp(conf_keys[i].name, name) == 0)
            return &conf_keys[i];
    return NULL;
}

/* conf_at_default - the key still holds its built-in default (it was not in the file) */
static int conf_at_default(const struct conf *cf, const struct cfg_key *k)
{
    const char *slot = (const char *)cf + k->offset;
    const char *def = k->def, *p;
    const struct cfg_list *l;

    switch (k->type) {
    case CFG_STR:
        return *(char *const *)(const void *)slot != NULL &&
               strcmp(*(char *const *)(const void *)slot, def) == 0;
    case CFG_INT:
        return *(const long long *)(const void *)slot == strtoll(def, NULL, 10);
    case CFG_LIST:
        /* the defaults are written "a, b, c" */
        l = (const struct cfg_list *)(const void *)slot;
        p = def;
        for (size_t i = 0; i < l->n; i++) {
            size_t n = strlen(l->v[i]);
            if (strncmp(p, l->v[i], n) != 0)
                return 0;
            p += n;
            if (*p == ',')
                p += 2;
        }
        return *p == '\0';
    default:
        return 0;
    }
}

/* conf_apply_preset - the preset's values into the keys of section left at their defaults */
static void conf_apply_preset(struct conf *cf, const char *section, const char *name,
                              struct cfg_errors *errs)
{
    char text[1024];
    struct conf tmp;
    struct cfg_errors terrs = {0};
    size_t len;

    len = (size_t)snprintf(text, sizeof(text), "[%s]\n", section);
    for (size_t i = 0; i < sizeof(conf_preset_ad) / sizeof(conf_preset_ad[0]); i++)
        if (conf_key(section, conf_preset_ad[i].name) != NULL)
            len += (size_t)snprintf(text + len, sizeof(text) - len, "%s = %s\n",
                                    conf_preset_ad[i].name, conf_preset_ad[i].value);
    memset(&tmp, 0, sizeof(tmp));
    if (len >= sizeof(text) ||
        cfg_load_string("(preset ad)", text, len, conf_keys, conf_nkeys, &tmp, &terrs) < 0) {
        cfg_error(errs, "%s: [%s] preset: the built-in ad preset does not load", name, section);
    } else {
        for (size_t i = 0; i < sizeof(conf_preset_ad) / sizeof(conf_preset_ad[0]); i++) {
            const struct cfg_key *k = conf_key(section, conf_preset_ad[i].name);
            char swap[sizeof(struct cfg_list)];
            size_t sz = k == NULL             ? 0
                        : k->type == CFG_LIST ? sizeof(struct cfg_list)
                        : k->type == CFG_INT  ? sizeof(long long)
                                              : sizeof(char *);
            if (k == NULL || !conf_at_default(cf, k))
                continue;
            memcpy(swap, (char *)cf + k->offset, sz);
            memcpy((char *)cf + k->offset, (char *)&tmp + k->offset, sz);
            memcpy((char *)&tmp + k->offset, swap, sz);
        }
    }
    cfg_errors_free(&terrs);
    cfg_free(conf_keys, conf_nkeys, &tmp);
}

void conf_preset_print(const struct conf *cf, FILE *out)
{
    const char *section = cf->sec_ldap ? "ldap" : cf->sec_ldif ? "ldif" : NULL;

    if (section == NULL || cf->map_preset == NULL || strcmp(cf->map_preset, "openldap") == 0)
        return;
    for (size_t i = 0; i < sizeof(conf_preset_ad) / sizeof(conf_preset_ad[0]); i++) {
        const struct cfg_key *k = conf_key(section, conf_preset_ad[i].name);
        const char *slot;
        if (k == NULL)
            continue;
        slot = (const char *)cf + k->offset;
        fprintf(out, "[%s] %s = ", section, k->name);
        if (k->type == CFG_INT) {
            fprintf(out, "%lld\n", *(const long long *)(const void *)slot);
        } else if (k->type == CFG_LIST) {
            const struct cfg_list *l = (const struct cfg_list *)(const void *)slot;
            for (size_t j = 0; j < l->n; j++)
                fprintf(out, "%s%s", j ? ", " : "", l->v[j]);
            fputc('\n', out);
        } else {
            fprintf(out, "%s\n", *(char *const *)(const void *)slot);
        }
    }
}

/* conf_check_syncrepl - sync = syncrepl names entries by entryUUID, one base, one cookie */
static void conf_check_syncrepl(const struct conf *cf, const char *name, struct cfg_errors *errs)
{
    if (cf->ldap_sync == NULL || strcmp(cf->ldap_sync, "syncrepl") != 0)
        return;
    if (cf->ldap_incremental)
        cfg_error(errs,
                  "%s:%d: [ldap] sync = syncrepl and incremental = yes (Active Directory) "
                  "exclude each other: AD offers no syncrepl",
                  name, cf->sec_ldap);
    if (cf->ldap_base.n > 1)
        cfg_error(errs,
                  "%s:%d: [ldap] sync = syncrepl: one base only (a cookie describes one "
                  "search); use sync = paged for several",
                  name, cf->sec_ldap);
    if (cf->map_id_attrs.n == 0 || strcasecmp(cf->map_id_attrs.v[0], "entryUUID") != 0)
        cfg_error(errs,
                  "%s:%d: [ldap] sync = syncrepl: id_attrs must start with entryUUID (the "
                  "directory names deleted entries by it)",
                  name, cf->sec_ldap);
}

/* conf_check - the rules that span keys */
static void conf_check(struct conf *cf, const char *name, int need_source, struct cfg_errors *errs)
{
    struct {
        int line;
        const char *section;
    } src[] = {{cf->sec_ldap, "ldap"}, {cf->sec_ldif, "ldif"}, {cf->sec_upstream, "upstream"}};
    int nsrc = 0;

    /* in file order: the first source section counts, each later one is an error */
    for (size_t i = 1; i < 3; i++)
        for (size_t j = i; j > 0 && src[j].line < src[j - 1].line; j--) {
            __typeof__(src[0]) t = src[j];
            src[j] = src[j - 1];
            src[j - 1] = t;
        }
    for (size_t i = 0; i < 3; i++) {
        if (src[i].line == 0)
            continue;
        if (++nsrc > 1)
            cfg_error(errs, "%s:%d: [%s]: only one of [ldap], [ldif] and [upstream] may be given",
                      name, src[i].line, src[i].section);
    }
    if (nsrc == 0 && need_source)
        cfg_error(errs, "%s: no source: give one of [ldap], [ldif] or [upstream]", name);
    if (cf->sec_ldap) {
        if (cf->ldap_uri.n == 0)
            cfg_error(errs, "%s:%d: [ldap] uri: required", name, cf->sec_ldap);
        if (cf->ldap_base.n == 0)
            cfg_error(errs, "%s:%d: [ldap] base: required", name, cf->sec_ldap);
        if (cf->ldap_incremental && (cf->map_preset == NULL || strcmp(cf->map_preset, "ad") != 0))
            cfg_error(errs, "%s:%d: [ldap] incremental: needs preset = ad (Active Directory)", name,
                      cf->sec_ldap);
        if (cf->ldap_bind_dn[0] != '\0' && cf->ldap_bind_pw_file[0] == '\0')
            cfg_error(errs, "%s:%d: [ldap] bind_pw_file: required with bind_dn", name,
                      cf->sec_ldap);
        conf_check_syncrepl(cf, name, errs);
    }
    if (cf->sec_ldif && (cf->ldif_path == NULL || cf->ldif_path[0] == '\0'))
        cfg_error(errs, "%s:%d: [ldif] path: required", name, cf->sec_ldif);
    if (cf->sec_upstream && (cf->up_url == NULL || cf->up_url[0] == '\0'))
        cfg_error(errs, "%s:%d: [upstream] url: required", name, cf->sec_upstream);
    if (cf->store_path[0] != '/')
        cfg_error(errs, "%s: [store] path: must be an absolute path", name);
    if (!need_source) /* lookupd's rule: a hub's syncd keeps syncing whatever lookupd thinks */
        conf_check_open(cf, name, errs);
}

static int conf_finish(struct conf *cf, const char *name, int need_source, int rc,
                       struct cfg_errors *errs)
{
    size_t before = errs->n;

    if (cf->sec_ldap && cf->map_preset != NULL && strcmp(cf->map_preset, "ad") == 0)
        conf_apply_preset(cf, "ldap", name, errs);
    else if (cf->sec_ldif && cf->map_preset != NULL && strcmp(cf->map_preset, "ad") == 0)
        conf_apply_preset(cf, "ldif", name, errs);

    conf_check(cf, name, need_source, errs);
    /* syncd's rule (lookupd never binds to the directory), once the [ldap] keys are sound */
    if (need_source && rc == 0 && errs->n == before)
        conf_check_cleartext(cf, name, errs);
    return rc < 0 || errs->n > before ? -1 : 0;
}

int conf_load(struct conf *cf, const char *path, int need_source, struct cfg_errors *errs)
{
    int rc;

    memset(cf, 0, sizeof(*cf));
    rc = cfg_load(path, conf_keys, conf_nkeys, cf, errs);
    if (cf->store_path == NULL) /* the file could not be read at all */
        return -1;
    return conf_finish(cf, path, need_source, rc, errs);
}

int conf_load_string(struct conf *cf, const char *text, size_t len, int need_source,
                     struct cfg_errors *errs)
{
    int rc;

    memset(cf, 0, sizeof(*cf));
    rc = cfg_load_string("(string)", text, len, conf_keys, conf_nkeys, cf, errs);
    return conf_finish(cf, "(string)", need_source, rc, errs);
}

void conf_free(struct conf *cf)
{
    cfg_free(conf_keys, conf_nkeys, cf);
}

enum conf_source conf_source(const struct conf *cf)
{
    if (cf->sec_ldap && cf->ldap_incremental)
        return CONF_SOURCE_AD;
    if (cf->sec_ldap)
        return cf->ldap_sync != NULL && strcmp(cf->ldap_sync, "paged") != 0 ? CONF_SOURCE_SYNCREPL
                                                                            : CONF_SOURCE_LDAP;
    if (cf->sec_ldif)
        return CONF_SOURCE_LDIF;
    if (cf->sec_upstream)
        return CONF_SOURCE_UPSTREAM;
    return CONF_SOURCE_NONE;
}

const char *conf_source_name(enum conf_source src)
{
    switch (src) {
    case CONF_SOURCE_LDAP:
        return "ldap";
    case CONF_SOURCE_LDIF:
        return "ldif";
    case CONF_SOURCE_UPSTREAM:
        return "upstream";
    case CONF_SOURCE_AD:
        return "ad";
    case CONF_SOURCE_SYNCREPL:
        return "syncrepl";
    case CONF_SOURCE_NONE:
        break;
    }
    return "none";
}

unsigned conf_addr_flags(const struct conf *cf)
{
    return cf->case_sensitive ? ADDR_CASE_SENSITIVE : 0;
}

/* conf_print_errors - each error on its own line, to stderr, prefixed with the program */
static void conf_print_errors(const char *prog, const struct cfg_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        fprintf(stderr, "%s: %s\n", prog, errs->v[i]);
    if (errs->dropped)
        fprintf(stderr, "%s: ... and %zu more errors\n", prog, errs->dropped);
}

int conf_load_main(struct conf *cf, const char *prog, const char *path, int need_source,
                   int check_only)
{
    struct cfg_errors errs = {0};

    if (conf_load(cf, path, need_source, &errs) < 0) {
        conf_print_errors(prog, &errs);
        cfg_errors_free(&errs);
        conf_free(cf);
        return EX_CONFIG;
    }
    if (check_only) {
        conf_preset_print(cf, stdout);
        printf("configuration OK\n");
        conf_free(cf);
        return EX_OK;
    }
    return -1;
}
