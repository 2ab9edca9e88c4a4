/*
 * test_conf - rcptdir.conf: the design.md example, defaults, the cross-key rules, and the
 * key table against its documentation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "schema/addr.h"
#include "schema/conf.h"

struct fixture {
    char dir[64];
    char pw[128], token[128], loose[128];
    struct conf cf;
    struct cfg_errors errs;
    int loaded;
};

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_conf.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->pw, sizeof(f->pw), "%s/ldap.secret", f->dir);
    snprintf(f->token, sizeof(f->token), "%s/feed.token", f->dir);
    snprintf(f->loose, sizeof(f->loose), "%s/loose.secret", f->dir);
    write_file(f->pw, "bind-password\n", 0600);
    write_file(f->token, "feed-token\n", 0600);
    write_file(f->loose, "readable\n", 0644);
    *state = f;
    return 0;
}

static void unload(struct fixture *f)
{
    if (f->loaded)
        conf_free(&f->cf);
    f->loaded = 0;
    cfg_errors_free(&f->errs);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[128];

    unload(f);
    unlink(f->pw);
    unlink(f->token);
    unlink(f->loose);
    snprintf(path, sizeof(path), "%s/rcptdir.conf", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int load(struct fixture *f, const char *text, int need_source)
{
    unload(f);
    f->loaded = 1;
    return conf_load_string(&f->cf, text, strlen(text), need_source, &f->errs);
}

static void expect_errors(const struct fixture *f, int rc, const char *const *want, size_t n)
{
    int same = f->errs.n == n;

    for (size_t i = 0; same && i < n; i++)
        same = strcmp(f->errs.v[i], want[i]) == 0;
    if (!same) {
        print_error("expected %zu errors:\n", n);
        for (size_t i = 0; i < n; i++)
            print_error("  %s\n", want[i]);
        print_error("got %zu:\n", f->errs.n);
        for (size_t i = 0; i < f->errs.n; i++)
            print_error("  %s\n", f->errs.v[i]);
        fail_msg("error messages differ");
    }
    assert_int_equal(rc, n > 0 ? -1 : 0);
}

#define EXPECT(f, rc, ...)                                                                         \
    do {                                                                                           \
        const char *const want_[] = {__VA_ARGS__};                                                 \
        expect_errors(f, rc, want_, sizeof(want_) / sizeof(want_[0]));                             \
    } while (0)
#define EXPECT_NONE(f, rc) expect_errors(f, rc, NULL, 0)

static void path_in_top(char *buf, size_t len, const char *rel)
{
    const char *top = getenv("TOP");
    snprintf(buf, len, "%s/%s", top != NULL && *top ? top : ".", rel);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    size_t got;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

/* design_example - tests/data/conf/design-example.conf with @SECRETDIR@ replaced */
static char *design_example(const struct fixture *f)
{
    char path[4096], *tmpl, *out, *p, *q;
    static const char mark[] = "@SECRETDIR@";

    path_in_top(path, sizeof(path), "tests/data/conf/design-example.conf");
    tmpl = slurp(path);
    if (tmpl == NULL)
        fail_msg("cannot read %s", path);
    out = malloc(strlen(tmpl) * 2 + 1024);
    assert_non_null(out);
    for (p = tmpl, q = out; *p;) {
        if (strncmp(p, mark, sizeof(mark) - 1) == 0) {
            q += sprintf(q, "%s", f->dir);
            p += sizeof(mark) - 1;
        } else {
            *q++ = *p++;
        }
    }
    *q = '\0';
    free(tmpl);
    return out;
}

/* line_of - the number of the first line starting with prefix */
static int line_of(const char *text, const char *prefix)
{
    int line = 1;

    for (const char *p = text; *p; line++) {
        if (strncmp(p, prefix, strlen(prefix)) == 0)
            return line;
        p = strchr(p, '\n');
        if (p == NULL)
            break;
        p++;
    }
    fail_msg("no line starts with '%s'", prefix);
    return 0;
}

/* drop_section - remove "[name]" and its lines from text, in place */
static void drop_section(char *text, const char *name)
{
    char *start = strstr(text, name), *end;

    assert_non_null(start);
    end = strstr(start + 1, "\n[");
    assert_non_null(end);
    memmove(start, end + 1, strlen(end + 1) + 1);
}

static void check_example_values(const struct conf *cf)
{
    assert_string_equal(cf->store_path, "/var/lib/rcptdir");
    assert_int_equal(cf->ldap_uri.n, 1);
    assert_string_equal(cf->ldap_uri.v[0], "ldap://ldap.example.org");
    assert_int_equal(cf->ldap_starttls, 1);
    assert_string_equal(cf->ldap_tls_ca_file, "/etc/ssl/certs/ca-certificates.crt");
    assert_string_equal(cf->ldap_bind_dn, "cn=rcptdir,ou=services,dc=example,dc=org");
    assert_int_equal(cf->ldap_base.n, 1);
    assert_string_equal(cf->ldap_base.v[0], "ou=people,dc=example,dc=org");
    assert_string_equal(cf->map_filter, "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))");
    assert_int_equal(cf->map_address_attrs.n, 4);
    assert_string_equal(cf->map_address_attrs.v[0], "mail");
    assert_string_equal(cf->map_address_attrs.v[3], "proxyAddresses");
    assert_string_equal(cf->map_primary_attr, "mail");
    assert_string_equal(cf->map_group_filter, "(objectClass=groupOfNames)");
    assert_string_equal(cf->map_disabled_filter, "(description=disabled)");
    assert_int_equal(cf->ldap_page_size, 500);
    assert_int_equal(cf->ldap_timeout, 30);
    assert_int_equal(cf->domains.n, 2);
    assert_string_equal(cf->domains.v[0], "example.org");
    assert_string_equal(cf->domains.v[1], "example.com");
    assert_string_equal(cf->recipient_delimiter, "+");
    assert_true(cf->max_delete_ratio > 0.0999 && cf->max_delete_ratio < 0.1001);
    assert_int_equal(cf->interval, 300);
    assert_int_equal(cf->socketmap_listen.n, 2);
    assert_string_equal(cf->socketmap_listen.v[0], "inet:127.0.0.1:8641");
    assert_string_equal(cf->socketmap_listen.v[1], "unix:/run/rcptdir/socketmap");
    assert_string_equal(cf->http_listen, "127.0.0.1:8642");
    assert_int_equal(cf->max_age, 86400);
    assert_string_equal(cf->user, "rcptdir");
    assert_string_equal(cf->http_token_file, "");
    assert_string_equal(cf->feed_token_file, "");
}

/* The example names both [ldap] and [upstream]: exactly one error, at [upstream]. */
static void test_design_example(void **state)
{
    struct fixture *f = *state;
    char *text = design_example(f), want[256], path[128];
    int rc, up = line_of(text, "[upstream]");
    FILE *fp;

    rc = load(f, text, 1);
    snprintf(want, sizeof(want),
             "(string):%d: [upstream]: only one of [ldap], [ldif] and [upstream] may be given", up);
    EXPECT(f, rc, want);
    check_example_values(&f->cf);
    assert_string_equal(f->cf.ldap_bind_pw_file, f->pw);
    assert_string_equal(f->cf.up_url, "https://hub.example.org:8642");
    assert_string_equal(f->cf.up_token_file, f->token);
    assert_string_equal(f->cf.up_ca_file, "/etc/rcptdir/hub-ca.pem");

    /* the same through conf_load(): messages carry the file name */
    snprintf(path, sizeof(path), "%s/rcptdir.conf", f->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    unload(f);
    f->loaded = 1;
    rc = conf_load(&f->cf, path, 1, &f->errs);
    snprintf(want, sizeof(want),
             "%s:%d: [upstream]: only one of [ldap], [ldif] and [upstream] may be given", path, up);
    EXPECT(f, rc, want);
    check_example_values(&f->cf);
    free(text);
}

/* Without [upstream] the example is a hub's configuration: no error. */
static void test_design_example_hub(void **state)
{
    struct fixture *f = *state;
    char *text = design_example(f);
    int rc;

    drop_section(text, "[upstream]");
    rc = load(f, text, 1);
    EXPECT_NONE(f, rc);
    check_example_values(&f->cf);
    assert_int_equal(conf_source(&f->cf), CONF_SOURCE_LDAP);
    assert_string_equal(conf_source_name(conf_source(&f->cf)), "ldap");
    assert_int_equal(f->cf.sec_upstream, 0);
    assert_int_equal(f->cf.sec_ldap, line_of(text, "[ldap]"));
    assert_int_equal(f->cf.sec_store, line_of(text, "[store]"));
    assert_int_equal(f->cf.sec_lookupd, line_of(text, "[lookupd]"));
    assert_int_equal(conf_addr_flags(&f->cf), 0);
    free(text);
}

/* Without [ldap] it is an edge's. */
static void test_design_example_edge(void **state)
{
    struct fixture *f = *state;
    char *text = design_example(f);
    int rc;

    drop_section(text, "[ldap]");
    rc = load(f, text, 1);
    EXPECT_NONE(f, rc);
    assert_int_equal(conf_source(&f->cf), CONF_SOURCE_UPSTREAM);
    assert_string_equal(conf_source_name(CONF_SOURCE_UPSTREAM), "upstream");
    assert_string_equal(f->cf.up_token_file, f->token);
    assert_int_equal(f->cf.ldap_uri.n, 0);
    free(text);
}

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    int rc = load(f, "", 0);

    EXPECT_NONE(f, rc);
    assert_int_equal(conf_source(&f->cf), CONF_SOURCE_NONE);
    assert_string_equal(conf_source_name(CONF_SOURCE_NONE), "none");
    assert_string_equal(f->cf.store_path, "/var/lib/rcptdir");
    assert_int_equal(f->cf.ldap_starttls, 0);
    assert_int_equal(f->cf.ldap_page_size, 500);
    assert_int_equal(f->cf.ldap_timeout, 30);
    assert_string_equal(f->cf.ldap_bind_dn, "");
    assert_string_equal(f->cf.map_filter,
                        "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))");
    assert_int_equal(f->cf.map_address_attrs.n, 4);
    assert_string_equal(f->cf.map_address_attrs.v[1], "mailLocalAddress");
    assert_string_equal(f->cf.map_primary_attr, "mail");
    assert_string_equal(f->cf.map_disabled_filter, "");
    assert_int_equal(f->cf.map_id_attrs.n, 2);
    assert_string_equal(f->cf.map_id_attrs.v[0], "entryUUID");
    assert_string_equal(f->cf.map_id_attrs.v[1], "objectGUID");
    assert_null(f->cf.ldif_path);
    assert_null(f->cf.up_url);
    assert_int_equal(f->cf.up_timeout, 60);
    assert_int_equal(f->cf.up_max_size, 0); /* relative to the store (src_upstream.c) */
    assert_int_equal(f->cf.domains.n, 0);
    assert_string_equal(f->cf.recipient_delimiter, "+");
    assert_int_equal(f->cf.case_sensitive, 0);
    assert_true(f->cf.max_delete_ratio > 0.0999 && f->cf.max_delete_ratio < 0.1001);
    assert_int_equal(f->cf.interval, 300);
    assert_int_equal(f->cf.changelog_max, 1000000);
    assert_int_equal(f->cf.lock_timeout, 60);
    assert_int_equal(f->cf.socketmap_listen.n, 1);
    assert_string_equal(f->cf.socketmap_listen.v[0], "inet:127.0.0.1:8641");
    assert_string_equal(f->cf.http_listen, "127.0.0.1:8642");
    assert_int_equal(f->cf.max_age, 86400);
    assert_string_equal(f->cf.user, "rcptdir");
    assert_string_equal(f->cf.http_token_file, "");
    assert_string_equal(f->cf.feed_token_file, "");
    assert_int_equal(f->cf.max_connections, 4096);
    assert_int_equal(f->cf.idle_timeout, 300);
    assert_int_equal(f->cf.threads, 2);
    assert_int_equal(conf_addr_flags(&f->cf), 0);
}

static void test_sources(void **state)
{
    struct fixture *f = *state;
    int rc;

    rc = load(f, "", 1);
    EXPECT(f, rc, "(string): no source: give one of [ldap], [ldif] or [upstream]");
    rc = load(f, "[store]\npath = /srv/rcptdir\n", 0);
    EXPECT_NONE(f, rc);
    assert_string_equal(f->cf.store_path, "/srv/rcptdir");

    rc = load(f, "[ldif]\npath = /srv/export.ldif\n", 1);
    EXPECT_NONE(f, rc);
    assert_int_equal(conf_source(&f->cf), CONF_SOURCE_LDIF);
    assert_string_equal(conf_source_name(CONF_SOURCE_LDIF), "ldif");
    assert_string_equal(f->cf.ldif_path, "/srv/export.ldif");

    /* [ldif] shares the entry mapping keys with [ldap] */
    rc = load(
        f, "[ldif]\npath = /x.ldif\nprimary_attr = uid\naddress_attrs = mail proxyAddresses\n", 1);
    EXPECT_NONE(f, rc);
    assert_string_equal(f->cf.map_primary_attr, "uid");
    assert_int_equal(f->cf.map_address_attrs.n, 2);

    /* two sources: the error names the second section's line */
    rc = load(f, "[ldif]\npath = /x.ldif\n[upstream]\nurl = https://hub:8642\n", 1);
    EXPECT(f, rc, "(string):3: [upstream]: only one of [ldap], [ldif] and [upstream] may be given");
    rc = load(
        f, "[store]\n[upstream]\nurl = https://hub:8642\n\n[ldap]\nuri = ldap://x\nbase = dc=x\n",
        1);
    EXPECT(f, rc, "(string):5: [ldap]: only one of [ldap], [ldif] and [upstream] may be given");
    rc = load(f,
              "[ldif]\npath = /x.ldif\n[upstream]\nurl = https://hub:8642\n[ldap]\nuri = ldap://x\n"
              "base = dc=x\n",
              0);
    EXPECT(f, rc, "(string):3: [upstream]: only one of [ldap], [ldif] and [upstream] may be given",
           "(string):5: [ldap]: only one of [ldap], [ldif] and [upstream] may be given");
}

static void test_required(void **state)
{
    struct fixture *f = *state;
    char text[512];
    int rc;

    rc = load(f, "[sync]\n[ldap]\nstarttls = yes\n", 1);
    EXPECT(f, rc, "(string):2: [ldap] uri: required", "(string):2: [ldap] base: required");
    rc = load(f, "[ldap]\nuri = ldap://x\n", 1);
    EXPECT(f, rc, "(string):1: [ldap] base: required");
    rc = load(f, "[ldap]\nbase = dc=x\nbase = dc=y\n", 1);
    EXPECT(f, rc, "(string):1: [ldap] uri: required");
    assert_int_equal(f->cf.ldap_base.n, 2);
    rc = load(f, "[ldap]\nuri = ldap://x\nbase = dc=x\nbind_dn = cn=me\n", 1);
    EXPECT(f, rc, "(string):1: [ldap] bind_pw_file: required with bind_dn");

    snprintf(text, sizeof(text),
             "[ldap]\nuri = ldaps://a ldap://b, ldapi://%%2frun%%2fslapd\nbase = dc=x\n"
             "bind_dn = cn=me\nbind_pw_file = %s\nstarttls = yes\n",
             f->pw);
    rc = load(f, text, 1);
    EXPECT_NONE(f, rc);
    assert_int_equal(f->cf.ldap_uri.n, 3);
    assert_string_equal(f->cf.ldap_bind_pw_file, f->pw);

    /* a secret file is not opened while loading: -n checks it as the program's user
     * (schema/confenv.h, tests/unit/test_confenv.c) */
    snprintf(text, sizeof(text),
             "[ldap]\nuri = ldaps://x\nbase = dc=x\nbind_pw_file = %s\nbind_dn = cn=me\n",
             f->loose);
    rc = load(f, text, 1);
    EXPECT_NONE(f, rc);

    rc = load(f, "[ldif]\n", 1);
    EXPECT(f, rc, "(string):1: [ldif] path: required");
    rc = load(f, "[upstream]\nurl =\n", 1);
    EXPECT(f, rc, "(string):1: [upstream] url: required");
    rc = load(f, "[upstream]\nurl = ftp://hub\n", 1);
    EXPECT(f, rc, "(string):2: [upstream] url: 'ftp://hub' is not an http:// or https:// URL");
    rc = load(f, "[ldap]\nuri = ldap://a, http://b\nbase = dc=x\n", 1);
    EXPECT(f, rc, "(string):2: [ldap] uri: 'http://b' is not an ldap://, ldaps:// or ldapi:// URI");
    rc = load(f, "[store]\npath = var/lib/rcptdir\n", 0);
    EXPECT(f, rc, "(string): [store] path: must be an absolute path");
}

static void test_bad_values(void **state)
{
    struct fixture *f = *state;
    int rc;

    rc = load(f, "[lookupd]\nsocketmap_listen = inet:127.0.0.1:8641, inet:127.0.0.1:99999\n", 0);
    EXPECT(f, rc,
           "(string):2: [lookupd] socketmap_listen: 'inet:127.0.0.1:99999': port must be 1..65535");
    rc = load(f, "[lookupd]\nsocketmap_listen = unix:run/socketmap\n", 0);
    EXPECT(f, rc,
           "(string):2: [lookupd] socketmap_listen: 'unix:run/socketmap': a unix socket needs an "
           "absolute path");
    rc = load(f, "[lookupd]\nhttp_listen = localhost\n", 0);
    EXPECT(f, rc,
           "(string):2: [lookupd] http_listen: 'localhost': expected inet:HOST:PORT or unix:/PATH");
    rc = load(f, "[lookupd]\nhttp_listen =\nsocketmap_listen = [::1]:8641 unix:/run/s\n", 0);
    EXPECT_NONE(f, rc);
    assert_string_equal(f->cf.http_listen, "");
    assert_int_equal(f->cf.socketmap_listen.n, 2);

    /* [ldap] sync: the modes; syncrepl names entries by entryUUID, one base */
    rc = load(f, "[ldap]\nuri = ldap://127.0.0.1\nbase = dc=x\nsync = live\n", 1);
    EXPECT(f, rc, "(string):4: [ldap] sync: 'live' is not paged, syncrepl or auto");
    rc = load(f, "[ldap]\nuri = ldap://127.0.0.1\nbase = dc=x\nsync = syncrepl\n", 1);
    EXPECT_NONE(f, rc);
    assert_int_equal(conf_source(&f->cf), CONF_SOURCE_SYNCREPL);
    rc = load(f, "[ldap]\nuri = ldap://127.0.0.1\nbase = dc=x\n", 1);
    EXPECT_NONE(f, rc);
    assert_int_equal(conf_source(&f->cf), CONF_SOURCE_LDAP);
    rc = load(f, "[ldap]\nuri = ldap://127.0.0.1\nbase = dc=x\nsync = syncrepl\nid_attrs = uid\n",
              1);
    EXPECT(f, rc,
           "(string):1: [ldap] sync = syncrepl: id_attrs must start with entryUUID (the directory "
           "names deleted entries by it)");
    rc = load(f, "[ldap]\nuri = ldap://127.0.0.1\nbase = dc=x\nbase = dc=y\nsync = syncrepl\n", 1);
    EXPECT(f, rc,
           "(string):1: [ldap] sync = syncrepl: one base only (a cookie describes one search); use "
           "sync = paged for several");

    rc = load(f, "[sync]\ndomains = example.org, exa..mple.com\n", 0);
    EXPECT(f, rc, "(string):2: [sync] domains: 'exa..mple.com': empty or malformed domain");
    rc = load(f, "[sync]\ndomains = user@example.org\n", 0);
    EXPECT(f, rc, "(string):2: [sync] domains: 'user@example.org': empty or malformed domain");
    rc = load(f, "[sync]\ndomains = Example.ORG example.net.\n", 0);
    EXPECT_NONE(f, rc);
    assert_int_equal(f->cf.domains.n, 2);

    rc = load(f, "[sync]\nrecipient_delimiter = @\n", 0);
    EXPECT(f, rc,
           "(string):2: [sync] recipient_delimiter: delimiter characters must be printable ASCII "
           "other than '@'");
    rc = load(f, "[sync]\nrecipient_delimiter = +@\n", 0);
    assert_int_equal(rc, -1);
    rc = load(f, "[sync]\nrecipient_delimiter = +-_\n", 0);
    EXPECT_NONE(f, rc);
    assert_string_equal(f->cf.recipient_delimiter, "+-_");
    rc = load(f, "[sync]\nrecipient_delimiter =\n", 0);
    EXPECT_NONE(f, rc);
    assert_string_equal(f->cf.recipient_delimiter, "");

    rc = load(f, "[sync]\nmax_delete_ratio = 1.5\n", 0);
    EXPECT(f, rc, "(string):2: [sync] max_delete_ratio: 1.5 is out of range 0..1");
    rc = load(f, "[sync]\nmax_delete_ratio = 1\ncase_sensitive = yes\n", 0);
    EXPECT_NONE(f, rc);
    assert_true(f->cf.max_delete_ratio == 1.0);
    assert_int_equal(conf_addr_flags(&f->cf), ADDR_CASE_SENSITIVE);

    rc = load(f, "[sync]\ninterval = 0\n", 0);
    EXPECT(f, rc, "(string):2: [sync] interval: 0 is out of range 1..86400");
    rc = load(f, "[lookupd]\nidle_timeout = 10\nthreads = 0\n", 0);
    EXPECT(f, rc, "(string):2: [lookupd] idle_timeout: 10 is out of range 11..86400",
           "(string):3: [lookupd] threads: 0 is out of range 1..64");
    rc = load(f, "[upstream]\nurl = https://h\nmax_size = 1099511627777\n", 0);
    EXPECT(f, rc,
           "(string):3: [upstream] max_size: 1099511627777 is out of range 0..1099511627776");
    rc = load(f,
              "[ldap]\nuri = ldap://x\nbase = dc=x\nfilter = objectClass=person\n"
              "disabled_filter = (&(a=b)\n",
              0);
    EXPECT(f, rc, "(string):4: [ldap] filter: an LDAP filter starts with '('",
           "(string):5: [ldap] disabled_filter: unbalanced parentheses in LDAP filter");
    rc = load(f, "[ldap]\nbogus = 1\n[nosuch]\nx = y\n", 0);
    assert_int_equal(rc, -1);
    assert_int_equal(f->errs.n, 4);
    assert_string_equal(f->errs.v[0], "(string):2: [ldap] unknown key 'bogus'");
    assert_string_equal(f->errs.v[1], "(string):3: unknown section [nosuch]");
}

/* man_has_key - the manual page lists key as a ".B key" term under ".SS [section]" */
static int man_has_key(const char *man, const char *section, const char *key)
{
    char head[80], term[80];
    const char *start, *end;

    snprintf(head, sizeof(head), "\n.SS [%s]\n", section);
    snprintf(term, sizeof(term), "\n.B %s\n", key);
    if ((start = strstr(man, head)) == NULL)
        return 0;
    start += strlen(head) - 1;
    end = strstr(start, "\n.SS ");
    if (end == NULL)
        end = start + strlen(start);
    for (const char *p = strstr(start, term); p != NULL; p = strstr(p + 1, term))
        if (p < end)
            return 1;
    return 0;
}

/* man_documents - key is listed in its section, or (the entry mapping shared by [ldap]
 * and [ldif]) a key of another section writing the same field is */
static int man_documents(const char *man, const struct cfg_key *k)
{
    if (man_has_key(man, k->section, k->name))
        return 1;
    for (size_t i = 0; i < conf_nkeys; i++) {
        const struct cfg_key *o = &conf_keys[i];
        if (o != k && o->type == k->type && o->offset == k->offset && o->name != NULL &&
            strcmp(o->name, k->name) == 0 && man_has_key(man, o->section, o->name))
            return 1;
    }
    return 0;
}

/* every key is documented: a help text in the table, and its name in the manual page */
static void test_keys_documented(void **state)
{
    char path[4096], *text;
    size_t missing = 0, checked = 0;

    (void)state;
    assert_true(conf_nkeys > 30);
    for (size_t i = 0; i < conf_nkeys; i++) {
        const struct cfg_key *k = &conf_keys[i];
        int found = 0;
        assert_non_null(k->section);
        if (k->type == CFG_SECTION) {
            assert_null(k->name);
            continue;
        }
        assert_non_null(k->name);
        if (k->help == NULL || k->help[0] == '\0')
            fail_msg("[%s] %s has no help text", k->section, k->name);
        for (size_t s = 0; s < conf_nkeys; s++)
            if (conf_keys[s].type == CFG_SECTION && strcmp(conf_keys[s].section, k->section) == 0)
                found = 1;
        if (!found)
            fail_msg("[%s] %s: no CFG_SECTION row for its section", k->section, k->name);
    }

    path_in_top(path, sizeof(path), "docs/rcptdir.conf.5");
    if ((text = slurp(path)) != NULL) {
        checked++;
        for (size_t i = 0; i < conf_nkeys; i++) {
            const struct cfg_key *k = &conf_keys[i];
            if (k->type != CFG_SECTION && !man_documents(text, k)) {
                print_error("docs/rcptdir.conf.5 does not list [%s] %s\n", k->section, k->name);
                missing++;
            }
        }
        free(text);
    } else {
        print_message("docs/rcptdir.conf.5 does not exist yet: not checked\n");
    }
    /* the operations guide, when there is one, names every key somewhere */
    path_in_top(path, sizeof(path), "docs/operations.md");
    if ((text = slurp(path)) != NULL) {
        checked++;
        for (size_t i = 0; i < conf_nkeys; i++) {
            const struct cfg_key *k = &conf_keys[i];
            if (k->type != CFG_SECTION && strstr(text, k->name) == NULL) {
                print_error("docs/operations.md does not mention [%s] %s\n", k->section, k->name);
                missing++;
            }
        }
        free(text);
    }
    if (missing > 0)
        fail_msg("%zu keys undocumented", missing);
    /* nothing to compare with yet: pass (cmocka 1.1's TAP output prints a skip as "not ok") */
    if (checked == 0)
        print_message("# SKIP no documentation to check against\n");
}

/* issue 14: a bind password never crosses the network in clear, and HTTP off loopback
 * needs a token on every route, unless the operator says so explicitly */
static void test_hardening_rules(void **state)
{
    struct fixture *f = *state;
    char text[512];
    int rc;

    snprintf(
        text, sizeof(text),
        "[ldap]\nuri = ldap://127.0.0.1:389 ldap://localhost ldapi:/// ldaps://dir.example.org "
        "ldap://dir.example.org\nbase = dc=x\nbind_dn = cn=me\nbind_pw_file = %s\n",
        f->pw);
    rc = load(f, text, 1);
    EXPECT(f, rc,
           "(string):1: [ldap] uri = ldap://dir.example.org with bind_dn and starttls = no would "
           "send the bind password in clear; set starttls = yes, use ldaps://, or "
           "allow_cleartext_bind = yes to do it anyway");
    snprintf(text, sizeof(text),
             "[ldap]\nuri = ldap://dir.example.org\nbase = dc=x\nbind_dn = cn=me\n"
             "bind_pw_file = %s\nallow_cleartext_bind = yes\n",
             f->pw);
    rc = load(f, text, 1);
    EXPECT_NONE(f, rc);
    rc = load(f, "[ldap]\nuri = ldap://dir.example.org\nbase = dc=x\n", 1); /* anonymous */
    EXPECT_NONE(f, rc);
    snprintf(text, sizeof(text),
             "[ldap]\nuri = ldap://dir.example.org\nbase = dc=x\nbind_dn = cn=me\n"
             "bind_pw_file = %s\n",
             f->pw);
    rc = load(f, text, 0); /* lookupd never binds: its load does not refuse it */
    EXPECT_NONE(f, rc);

    rc = load(f, "[lookupd]\nhttp_listen = 0.0.0.0:8642\n", 0);
    EXPECT(f, rc,
           "(string): [lookupd] http_listen = 0.0.0.0:8642 is not loopback, but http_token_file "
           "and feed_token_file are empty: anyone who reaches it can read the whole address "
           "list; set both token files, or allow_open = yes to serve it open on purpose");
    snprintf(text, sizeof(text), "[lookupd]\nhttp_listen = 192.0.2.1:8642\nfeed_token_file = %s\n",
             f->pw);
    rc = load(f, text, 0);
    EXPECT(f, rc,
           "(string): [lookupd] http_listen = 192.0.2.1:8642 is not loopback, but http_token_file "
           "is empty: anyone who reaches it can read which addresses exist; set "
           "http_token_file, or allow_open = yes to serve it open on purpose");
    rc = load(f, "[lookupd]\nhttp_listen = 0.0.0.0:8642\nallow_open = yes\n", 0);
    EXPECT_NONE(f, rc);
    rc = load(f, "[ldif]\npath = /x.ldif\n[lookupd]\nhttp_listen = 0.0.0.0:8642\n", 1);
    EXPECT_NONE(f, rc); /* syncd's load: it does not listen, it keeps syncing */
    rc = load(f, "[lookupd]\nhttp_listen = [::1]:8642\n", 0);
    EXPECT_NONE(f, rc);
    rc = load(f, "[lookupd]\nsocket_mode = 0666\n", 0);
    EXPECT_NONE(f, rc);
    rc = load(f, "[lookupd]\nsocket_mode = 0999\n", 0);
    EXPECT(f, rc, "(string):2: [lookupd] socket_mode: '0999' is not an octal mode 0..0777");
}

/* the built-in defaults pass their own checks, and loads do not leak */
static void test_repeat_loads(void **state)
{
    struct fixture *f = *state;
    char *text = design_example(f);

    for (int i = 0; i < 20; i++) {
        int rc = load(f, text, i & 1);
        assert_int_equal(rc, -1);
        assert_int_equal(f->errs.n, 1);
    }
    free(text);
}

/* [ldap] preset = ad: the keys not in the file take the AD values, the others stay */
static void test_preset_ad(void **state)
{
    struct fixture *f = *state;
    const char *text = "[store]\npath = /tmp/x\n[ldap]\npreset = ad\nuri = ldap://dc\n"
                       "base = DC=example,DC=test\npage_size = 200\nprimary_attr = targetAddress\n";
    int rc = load(f, text, 1);

    EXPECT_NONE(f, rc);
    assert_string_equal(f->cf.map_filter, "(&(|(objectClass=user)(objectClass=group)"
                                          "(objectClass=contact))(|(mail=*)(proxyAddresses=*)))");
    assert_int_equal(f->cf.map_address_attrs.n, 2);
    assert_string_equal(f->cf.map_address_attrs.v[1], "proxyAddresses");
    assert_string_equal(f->cf.map_group_filter, "(objectClass=group)");
    assert_non_null(strstr(f->cf.map_disabled_filter, "1.2.840.113556.1.4.803:=2"));
    assert_int_equal(f->cf.map_id_attrs.n, 1);
    assert_string_equal(f->cf.map_id_attrs.v[0], "objectGUID");
    /* given in the file: kept */
    assert_int_equal(f->cf.ldap_page_size, 200);
    assert_string_equal(f->cf.map_primary_attr, "targetAddress");
    assert_int_equal(conf_source(&f->cf), CONF_SOURCE_LDAP);
}

/* incremental = yes is the AD source, and needs preset = ad; an unknown preset is an error */
static void test_preset_incremental(void **state)
{
    struct fixture *f = *state;
    int rc = load(f,
                  "[store]\npath = /tmp/x\n[ldap]\npreset = ad\nincremental = yes\n"
                  "uri = ldap://dc\nbase = DC=example,DC=test\n",
                  1);

    EXPECT_NONE(f, rc);
    assert_int_equal(conf_source(&f->cf), CONF_SOURCE_AD);
    assert_string_equal(conf_source_name(CONF_SOURCE_AD), "ad");
    rc = load(f, "[store]\npath = /tmp/x\n[ldap]\nincremental = yes\nuri = ldap://dc\nbase = x\n",
              1);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(f->errs.v[0], "incremental: needs preset = ad"));
    rc = load(f, "[store]\npath = /tmp/x\n[ldap]\npreset = exchange\nuri = ldap://dc\nbase = x\n",
              1);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(f->errs.v[0], "is not a preset"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_design_example, setup, teardown),
        cmocka_unit_test_setup_teardown(test_design_example_hub, setup, teardown),
        cmocka_unit_test_setup_teardown(test_design_example_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
        cmocka_unit_test(test_keys_documented),
        cmocka_unit_test_setup_teardown(test_hardening_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preset_ad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preset_incremental, setup, teardown),
    };

    return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
