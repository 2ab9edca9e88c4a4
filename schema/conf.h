/*
 * conf - rcptdir.conf: the configuration both daemons read (design.md "Interface contract").
 *
 * conf_keys[] is the one table of keys, defaults and ranges; docs/rcptdir.conf.5 and the
 * reference in docs/operations.md are checked against it by tests/unit/test_conf.c.
 * conf_load() reads a file and checks the rules that span keys (one source section, URIs,
 * domains, delimiter). struct conf owns its strings; conf_free() releases them.
 */
#ifndef RCPTDIR_CONF_H
#define RCPTDIR_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "common/cfg.h"

enum conf_source {
    CONF_SOURCE_NONE = 0,
    CONF_SOURCE_LDAP,
    CONF_SOURCE_LDIF,
    CONF_SOURCE_UPSTREAM,
    CONF_SOURCE_AD,       /* [ldap] with preset = ad and incremental = yes */
    CONF_SOURCE_SYNCREPL, /* [ldap] with sync = syncrepl or auto */
};

struct conf {
    /* line where each section starts (0: absent) */
    int sec_store, sec_ldap, sec_ldif, sec_upstream, sec_sync, sec_lookupd;

    char *store_path;

    /* [ldap] connection */
    struct cfg_list ldap_uri;
    int ldap_starttls;
    char *ldap_tls_ca_file;
    char *ldap_bind_dn;
    char *ldap_bind_pw_file;
    struct cfg_list ldap_base;
    long long ldap_page_size;
    long long ldap_timeout;
    int ldap_allow_cleartext_bind;
    long long ldap_range_size;
    int ldap_incremental;
    char *ldap_sync; /* paged, syncrepl, auto */
    long long ldap_persist_probe;
    /* entry mapping: [ldap] and [ldif] */
    char *map_preset; /* "openldap" or "ad": the defaults of the keys below (conf_preset) */
    char *map_filter;
    struct cfg_list map_address_attrs;
    char *map_primary_attr;
    char *map_group_filter;
    char *map_disabled_filter;
    struct cfg_list map_id_attrs;

    /* [ldif] */
    char *ldif_path;

    /* [upstream] */
    char *up_url;
    char *up_token_file;
    char *up_ca_file;
    long long up_timeout;
    long long up_max_size;
    char *up_name;
    long long up_wait;
    long long up_max_jump;

    /* [sync] */
    struct cfg_list domains;
    char *recipient_delimiter;
    int case_sensitive;
    double max_delete_ratio;
    long long delete_window;
    long long interval;
    long long changelog_max;
    long long lock_timeout;

    /* [lookupd] */
    struct cfg_list socketmap_listen;
    char *http_listen;
    long long max_age;
    char *user;
    char *http_token_file;
    char *feed_token_file;
    char *pid_file;
    long long max_connections;
    long long idle_timeout;
    long long threads;
    long long max_per_peer;
    char *socket_mode;
    char *socket_group;
    int allow_open;
    long long http_timeout;
    long long http_request_timeout;
    long long feed_streams;
    long long http_unknown_rate;
    int allow_core_dumps;
    long long feed_waiters;
    long long edges_max;
    long long edge_stale_after;
    long long edge_forget_after;
    /* [lookupd] policy service and harvest defence (lookupd/policy.h, harvest.h) */
    struct cfg_list policy_listen;
    long long policy_idle_timeout;
    long long harvest_threshold;
    long long harvest_prefix_threshold;
    long long harvest_window;
    long long harvest_penalty;
    long long harvest_prefix_v4;
    long long harvest_prefix_v6;
    long long harvest_max_clients;
    struct cfg_list harvest_exempt;
    int harvest_disconnect;
};

extern const struct cfg_key conf_keys[];
extern const size_t conf_nkeys;

/*
 * conf_load - defaults, then path, then the cross-key rules. Returns 0, or -1 with every
 * problem in errs. need_source: a missing source section is an error too (syncd's load: a
 * simple bind over cleartext is refused, see conf.c); without it (lookupd's load) HTTP off
 * loopback without tokens is refused instead.
 */
int conf_load(struct conf *cf, const char *path, int need_source, struct cfg_errors *errs);

/* conf_load_string - the same for text in memory (tests, fuzzing) */
int conf_load_string(struct conf *cf, const char *text, size_t len, int need_source,
                     struct cfg_errors *errs);

void conf_free(struct conf *cf);

/* conf_source - which section names the source */
enum conf_source conf_source(const struct conf *cf);
const char *conf_source_name(enum conf_source src);

/*
 * conf_preset_print - "[section] key = value" for the keys a preset other than openldap set
 * (what `-n` prints for [ldap] preset = ad); nothing for the openldap preset
 */
void conf_preset_print(const struct conf *cf, FILE *out);

/* conf_addr_flags - the addr_normalize() flags this configuration asks for */
unsigned conf_addr_flags(const struct conf *cf);

/*
 * conf_load_main - what both daemons' main() does with -c FILE [-n]: load, print every error
 * (then cf is freed and EX_CONFIG returned), or with check_only print "configuration OK"
 * (cf freed, 0 returned). Returns -1 when cf is loaded and the program goes on.
 */
int conf_load_main(struct conf *cf, const char *prog, const char *path, int need_source,
                   int check_only);
#endif
