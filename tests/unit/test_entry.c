/*
 * test_entry - entry_map() with the default mapping (address_attrs mail, mailLocalAddress,
 * mailAlternateAddress, proxyAddresses; primary_attr mail; id_attrs entryUUID, objectGUID):
 * primary first with the entry's kind, aliases, duplicates folded, AD proxyAddresses,
 * invalid values counted, catch-all, state, and the entry id (uuid, binary GUID, DN, hash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/log.h"
#include "syncd/entry.h"

static char *addr_attrs_v[] = {"mail", "mailLocalAddress", "mailAlternateAddress",
                               "proxyAddresses"};
static char *id_attrs_v[] = {"entryUUID", "objectGUID"};
static const struct cfg_list addr_attrs = {addr_attrs_v, 4};
static const struct cfg_list id_attrs = {id_attrs_v, 2};
static const struct mapping mapping = {&addr_attrs, "mail", &id_attrs, 0};

#define DN "uid=john,ou=people,dc=example,dc=org"

struct kv {
    const char *name, *val;
    size_t len; /* 0: strlen(val) */
};

struct ctx {
    struct attrs a;
    struct sync_entry e;
    struct map_stats st;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;

    attrs_free(&c->a);
    entry_free(&c->e);
    free(c);
    return 0;
}

/* map - fill the attributes from kv (NULL-terminated) and map them with DN */
static size_t map_dn(struct ctx *c, const struct mapping *m, const struct kv *kv, const char *dn,
                     size_t dnlen, int group, int disabled)
{
    attrs_clear(&c->a);
    for (size_t i = 0; kv[i].name != NULL; i++)
        attrs_add(&c->a, kv[i].name, strlen(kv[i].name), kv[i].val,
                  kv[i].len ? kv[i].len : strlen(kv[i].val));
    return entry_map(m, &c->a, dn, dnlen, group, disabled, &c->e, &c->st);
}

static size_t map(struct ctx *c, const struct kv *kv, int group, int disabled)
{
    return map_dn(c, &mapping, kv, DN, strlen(DN), group, disabled);
}

/* expect_addrs - e holds exactly the keys (primary first), with kinds */
static void expect_addrs(const struct sync_entry *e, const char *const *keys,
                         const enum rcpt_kind *kinds, size_t n)
{
    if (e->naddrs != n) {
        char got[2048] = "";
        for (size_t i = 0; i < e->naddrs; i++) {
            strncat(got, e->addrs[i].key, sizeof(got) - strlen(got) - 2);
            strncat(got, " ", sizeof(got) - strlen(got) - 1);
        }
        fail_msg("expected %zu addresses, got %zu: %s", n, e->naddrs, got);
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(e->addrs[i].key, keys[i]) != 0 || e->addrs[i].len != strlen(keys[i]))
            fail_msg("address %zu: expected %s, got %s", i, keys[i], e->addrs[i].key);
        if (e->addrs[i].kind != kinds[i])
            fail_msg("address %zu (%s): expected kind %s, got %s", i, keys[i],
                     rcpt_kind_name(kinds[i]), rcpt_kind_name(e->addrs[i].kind));
    }
    if (n > 0) {
        assert_string_equal(e->primary, keys[0]);
        assert_int_equal(e->primary_len, strlen(keys[0]));
    }
}

static void test_user_aliases(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"objectClass", "inetOrgPerson", 0},
        {"mailLocalAddress", "js@example.org", 0},
        {"mail", "John.Smith@Example.ORG", 0},
        {"cn", "John Smith", 0},
        {"mailAlternateAddress", " jsmith@example.com ", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"john.smith@example.org", "js@example.org", "jsmith@example.com"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS, RCPT_ALIAS};

    assert_int_equal(map(c, kv, 0, 0), 3);
    expect_addrs(&c->e, keys, kinds, 3);
    assert_int_equal(c->e.state, RCPT_ACTIVE);
    assert_int_equal(c->st.entries, 1);
    assert_int_equal(c->st.invalid, 0);
    assert_int_equal(c->st.no_addrs, 0);
}

static void test_group(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"objectClass", "groupOfNames", 0},
        {"mail", "Staff@example.org", 0},
        {"mailAlternateAddress", "all@example.org", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"staff@example.org", "all@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_GROUP, RCPT_ALIAS};

    assert_int_equal(map(c, kv, 1, 0), 2);
    expect_addrs(&c->e, keys, kinds, 2);
    assert_int_equal(c->e.state, RCPT_ACTIVE);
}

static void test_disabled(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"mail", "gone@example.org", 0},
        {"mailLocalAddress", "g@example.org", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"gone@example.org", "g@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS};

    assert_int_equal(map(c, kv, 0, 1), 2);
    expect_addrs(&c->e, keys, kinds, 2);
    assert_int_equal(c->e.state, RCPT_DISABLED);
    /* the same sync_entry reused: the state follows the entry */
    assert_int_equal(map(c, kv, 0, 0), 2);
    assert_int_equal(c->e.state, RCPT_ACTIVE);
}

/* the same address through several attributes, also differing in case: one key */
static void test_duplicates(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"mail", "John@Example.org", 0},
        {"mailLocalAddress", "JOHN@example.ORG", 0},
        {"mailLocalAddress", "alias@example.org", 0},
        {"mailAlternateAddress", "Alias@Example.Org", 0},
        {"proxyAddresses", "smtp:john@example.org", 0},
        {"proxyAddresses", "smtp:ALIAS@example.org", 0},
        {"mailAlternateAddress", "alias@example.org", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"john@example.org", "alias@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS};

    assert_int_equal(map(c, kv, 0, 0), 2);
    expect_addrs(&c->e, keys, kinds, 2);
    assert_int_equal(c->st.invalid, 0);
}

/* proxyAddresses: smtp: any case is an address, SMTP: is AD's primary, others are ignored */
static void test_proxy_addresses(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"proxyAddresses", "X400:c=US;a= ;p=Example;o=Exchange;s=Smith;g=John;", 0},
        {"proxyAddresses", "smtp:john.smith@example.com", 0},
        {"proxyAddresses", "sip:john@example.org", 0},
        {"proxyAddresses", "SMTP:John.Smith@Example.org", 0},
        {"proxyAddresses", "Smtp:js@example.org", 0},
        {"proxyAddresses", "x500:/o=Example/ou=Exchange/cn=Recipients/cn=jsmith", 0},
        {"proxyAddresses", "EUM:1234;phone-context=x", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"john.smith@example.org", "john.smith@example.com", "js@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS, RCPT_ALIAS};

    assert_int_equal(map(c, kv, 0, 0), 3);
    expect_addrs(&c->e, keys, kinds, 3);
    assert_int_equal(c->st.invalid, 0); /* other address types are not invalid addresses */
}

/* mail wins over SMTP:; SMTP: then is an alias like any other */
static void test_mail_beats_ad_primary(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"proxyAddresses", "SMTP:ad@example.org", 0},
        {"mail", "mail@example.org", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"mail@example.org", "ad@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS};

    assert_int_equal(map(c, kv, 0, 0), 2);
    expect_addrs(&c->e, keys, kinds, 2);
}

/* neither mail nor SMTP:: the first valid address is the primary */
static void test_first_valid_is_primary(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"mailLocalAddress", "not an address", 0},
        {"mailAlternateAddress", "First@Example.org", 0},
        {"proxyAddresses", "smtp:second@example.org", 0},
        {"mailLocalAddress", "third@example.org", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"first@example.org", "second@example.org", "third@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_GROUP, RCPT_ALIAS, RCPT_ALIAS};

    assert_int_equal(map(c, kv, 1, 0), 3);
    expect_addrs(&c->e, keys, kinds, 3);
    assert_int_equal(c->st.invalid, 1);
}

/* an invalid mail value: the next valid one is the primary */
static void test_invalid_values_counted(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"mail", "no-at-sign", 0},
        {"mail", "ok@example.org", 0},
        {"mailLocalAddress", "a@@example.org", 0},
        {"mailLocalAddress", "ctl\001@example.org", 0},
        {"mailAlternateAddress", "", 0},
        {"proxyAddresses", "smtp:no-at-sign.example.org", 0},
        {"proxyAddresses", "smtp:", 0},
        {"mailLocalAddress", "good@example.org", 0},
        {"description", "not-an-address-attr", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"ok@example.org", "good@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS};
    static char longlocal[80];

    assert_int_equal(map(c, kv, 0, 0), 2);
    expect_addrs(&c->e, keys, kinds, 2);
    assert_int_equal(c->st.invalid, 6);
    assert_int_equal(c->st.no_addrs, 0);

    /* a local part over 64 octets */
    memset(longlocal, 'a', 70);
    memcpy(longlocal + 70, "@x.org", 7);
    {
        const struct kv kv2[] = {
            {"mail", longlocal, 0}, {"mailLocalAddress", "y@x.org", 0}, {NULL, NULL, 0}};
        const char *k2[] = {"y@x.org"};
        const enum rcpt_kind kd2[] = {RCPT_USER};
        assert_int_equal(map(c, kv2, 0, 0), 1);
        expect_addrs(&c->e, k2, kd2, 1);
        assert_int_equal(c->st.invalid, 7);
        assert_int_equal(c->st.entries, 2);
    }
}

static void test_no_valid_address(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"cn", "Printer", 0},
        {"mail", "printer", 0},
        {"proxyAddresses", "X400:c=US;", 0},
        {NULL, NULL, 0},
    };
    const struct kv none[] = {{"cn", "nobody", 0}, {NULL, NULL, 0}};

    assert_int_equal(map(c, kv, 0, 0), 0);
    assert_int_equal(c->e.naddrs, 0);
    assert_int_equal(c->st.no_addrs, 1);
    assert_int_equal(c->st.invalid, 1);
    assert_int_equal(map(c, none, 0, 0), 0);
    assert_int_equal(c->st.no_addrs, 2);
    assert_int_equal(c->st.entries, 2);
    assert_int_equal(c->st.invalid, 1);
}

/* a previous entry's addresses do not leak into the next mapping */
static void test_reuse(void **state)
{
    struct ctx *c = *state;
    const struct kv many[] = {
        {"mail", "a@example.org", 0},
        {"mailLocalAddress", "b@example.org", 0},
        {"mailLocalAddress", "c@example.org", 0},
        {"mailLocalAddress", "d@example.org", 0},
        {"mailLocalAddress", "e@example.org", 0},
        {"mailLocalAddress", "f@example.org", 0},
        {"mailLocalAddress", "g@example.org", 0},
        {"mailLocalAddress", "h@example.org", 0},
        {"mailLocalAddress", "i@example.org", 0},
        {"mailLocalAddress", "j@example.org", 0},
        {NULL, NULL, 0},
    };
    const struct kv one[] = {{"mail", "z@example.org", 0}, {NULL, NULL, 0}};
    const char *keys[] = {"z@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER};

    assert_int_equal(map(c, many, 0, 0), 10);
    assert_int_equal(map(c, one, 0, 0), 1);
    expect_addrs(&c->e, keys, kinds, 1);
}

/* "@domain" is the catch-all key, kept as an address of the entry */
static void test_catchall(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"mail", "postmaster@example.org", 0},
        {"mailLocalAddress", "@Example.ORG", 0},
        {NULL, NULL, 0},
    };
    const struct kv only[] = {{"mailLocalAddress", "@example.net", 0}, {NULL, NULL, 0}};
    const char *keys[] = {"postmaster@example.org", "@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS};
    const char *k2[] = {"@example.net"};
    const enum rcpt_kind kd2[] = {RCPT_USER};

    assert_int_equal(map(c, kv, 0, 0), 2);
    expect_addrs(&c->e, keys, kinds, 2);
    assert_int_equal(map(c, only, 0, 0), 1);
    expect_addrs(&c->e, k2, kd2, 1);
}

/* attribute names match case-insensitively and with ;options */
static void test_attribute_names(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"MAIL;lang-en", "x@example.org", 0},
        {"maillocaladdress", "y@example.org", 0},
        {"ProxyAddresses;binary", "smtp:z@example.org", 0},
        {"mailAlternateAddressX", "not@example.org", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"x@example.org", "y@example.org", "z@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS, RCPT_ALIAS};

    assert_int_equal(map(c, kv, 0, 0), 3);
    expect_addrs(&c->e, keys, kinds, 3);
}

/* a second mail value is an address of the entry too (an alias), not dropped */
static void test_multivalued_mail(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"mail", "first@example.org", 0},
        {"mail", "second@example.org", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"first@example.org", "second@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS};

    assert_int_equal(map(c, kv, 0, 0), 2);
    expect_addrs(&c->e, keys, kinds, 2);
}

/* ADDR_CASE_SENSITIVE keeps the local part's case; domains are still folded */
static void test_case_sensitive(void **state)
{
    struct ctx *c = *state;
    const struct mapping cs = {&addr_attrs, "mail", &id_attrs, ADDR_CASE_SENSITIVE};
    const struct kv kv[] = {
        {"mail", "John@Example.ORG", 0},
        {"mailLocalAddress", "john@example.org", 0},
        {"mailLocalAddress", "John@EXAMPLE.org", 0},
        {NULL, NULL, 0},
    };
    const char *keys[] = {"John@example.org", "john@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS};

    assert_int_equal(map_dn(c, &cs, kv, DN, strlen(DN), 0, 0), 2);
    expect_addrs(&c->e, keys, kinds, 2);
}

/*
 * only a value written "@domain" is a catch-all: an empty quoted local part ""@domain is
 * not one (it is invalid, or at most its own key), or a stray value would make every
 * address of the domain valid
 */
static void test_empty_quoted_not_catchall(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {
        {"mail", "user@example.org", 0},
        {"mailLocalAddress", "\"\"@example.org", 0},
        {NULL, NULL, 0},
    };

    assert_true(map(c, kv, 0, 0) >= 1);
    assert_string_equal(c->e.addrs[0].key, "user@example.org");
    for (size_t i = 0; i < c->e.naddrs; i++)
        if (c->e.addrs[i].key[0] == '@')
            fail_msg("\"\"@example.org became the catch-all key %s", c->e.addrs[i].key);
}

/* ---- entry ids ------------------------------------------------------------------------ */

static void test_id_entry_uuid(void **state)
{
    struct ctx *c = *state;
    static const char guid[16] = {0x01,       0x23,       0x45, 0x67, (char)0x89, (char)0xab,
                                  (char)0xcd, (char)0xef, 0x00, 0x10, 0x7f,       (char)0x80,
                                  (char)0xff, 0x0a,       0x0d, 0x20};
    const struct kv kv[] = {
        {"objectGUID", guid, 16}, /* comes first in the entry, but id_attrs order rules */
        {"mail", "a@example.org", 0},
        {"entryUUID", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", 0},
        {NULL, NULL, 0},
    };

    assert_int_equal(map(c, kv, 0, 0), 1);
    assert_string_equal(c->e.id, "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    assert_int_equal(c->e.id_len, 36);
}

static void test_id_binary_guid(void **state)
{
    struct ctx *c = *state;
    static const char guid[16] = {0x01,       0x23,       0x45, 0x67, (char)0x89, (char)0xab,
                                  (char)0xcd, (char)0xef, 0x00, 0x10, 0x7f,       (char)0x80,
                                  (char)0xff, 0x0a,       0x0d, 0x20};
    const struct kv kv[] = {
        {"mail", "a@example.org", 0},
        {"objectGUID", guid, 16},
        {NULL, NULL, 0},
    };

    assert_int_equal(map(c, kv, 0, 0), 1);
    assert_string_equal(c->e.id, "0123456789abcdef00107f80ff0a0d20");
    assert_int_equal(c->e.id_len, 32);
}

static void test_id_dn_fallback(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {{"mail", "a@example.org", 0}, {"entryUUID", "", 0}, {NULL, NULL, 0}};

    assert_int_equal(map(c, kv, 0, 0), 1);
    assert_string_equal(c->e.id, "dn:" DN);
    assert_int_equal(c->e.id_len, strlen("dn:" DN));
}

/* the longest DN that fits is kept as "dn:..."; longer ones become "dn-hash:" + 16 hex */
static void test_id_long_dn(void **state)
{
    struct ctx *c = *state;
    const struct kv kv[] = {{"mail", "a@example.org", 0}, {NULL, NULL, 0}};
    size_t fit = RCPT_ENTRY_MAX - 3;
    char *dn = malloc(2000), id1[64];

    assert_non_null(dn);
    memset(dn, 'x', 2000);
    memcpy(dn, "cn=", 3);

    assert_int_equal(map_dn(c, &mapping, kv, dn, fit, 0, 0), 1);
    assert_int_equal(c->e.id_len, RCPT_ENTRY_MAX);
    assert_memory_equal(c->e.id, "dn:cn=xxx", 9);
    assert_int_equal(strlen(c->e.id), RCPT_ENTRY_MAX);

    assert_int_equal(map_dn(c, &mapping, kv, dn, fit + 1, 0, 0), 1);
    assert_int_equal(c->e.id_len, strlen("dn-hash:") + 16);
    assert_memory_equal(c->e.id, "dn-hash:", 8);
    for (size_t i = 8; i < c->e.id_len; i++)
        assert_non_null(strchr("0123456789abcdef", c->e.id[i]));
    strcpy(id1, c->e.id);

    /* the same long DN gives the same id, another long DN another one */
    assert_int_equal(map_dn(c, &mapping, kv, dn, fit + 1, 0, 0), 1);
    assert_string_equal(c->e.id, id1);
    dn[fit] = 'y';
    assert_int_equal(map_dn(c, &mapping, kv, dn, fit + 1, 0, 0), 1);
    assert_string_not_equal(c->e.id, id1);
    assert_int_equal(map_dn(c, &mapping, kv, dn, 2000, 0, 0), 1);
    assert_memory_equal(c->e.id, "dn-hash:", 8);
    free(dn);
}

/* an over-long printable id value is skipped for the next id attribute or the DN */
static void test_id_too_long_value(void **state)
{
    struct ctx *c = *state;
    char *uuid = malloc(RCPT_ENTRY_MAX + 2);
    static const char guid[4] = {(char)0xde, (char)0xad, (char)0xbe, (char)0xef};

    assert_non_null(uuid);
    memset(uuid, 'u', RCPT_ENTRY_MAX + 1);
    uuid[RCPT_ENTRY_MAX + 1] = '\0';
    {
        const struct kv kv[] = {{"mail", "a@example.org", 0},
                                {"entryUUID", uuid, 0},
                                {"objectGUID", guid, 4},
                                {NULL, NULL, 0}};
        assert_int_equal(map(c, kv, 0, 0), 1);
        assert_string_equal(c->e.id, "deadbeef");
    }
    uuid[RCPT_ENTRY_MAX] = '\0'; /* exactly RCPT_ENTRY_MAX: fits */
    {
        const struct kv kv[] = {
            {"mail", "a@example.org", 0}, {"entryUUID", uuid, 0}, {NULL, NULL, 0}};
        assert_int_equal(map(c, kv, 0, 0), 1);
        assert_int_equal(c->e.id_len, RCPT_ENTRY_MAX);
    }
    free(uuid);
}

/* entry_id on its own gives the same as entry_map */
static void test_entry_id(void **state)
{
    struct ctx *c = *state;
    char buf[RCPT_ENTRY_MAX + 1];
    const struct kv kv[] = {{"entryUUID", "abc-123", 0}, {NULL, NULL, 0}};

    attrs_clear(&c->a);
    assert_int_equal(entry_id(&mapping, &c->a, "cn=x", 4, buf, sizeof(buf)), 7);
    assert_string_equal(buf, "dn:cn=x");
    attrs_add(&c->a, kv[0].name, strlen(kv[0].name), kv[0].val, strlen(kv[0].val));
    assert_int_equal(entry_id(&mapping, &c->a, "cn=x", 4, buf, sizeof(buf)), 7);
    assert_string_equal(buf, "abc-123");
}

/* AD range retrieval: ";range=0-1499" cuts the values short and is counted; "-*" is whole */
static void test_range_cut(void **state)
{
    struct ctx *c = *state;
    const struct kv whole[] = {
        {"mail", "a@example.org", 0},
        {"proxyAddresses;range=0-*", "smtp:b@example.org", 0},
        {"proxyAddresses;Range=1500-*", "smtp:c@example.org", 0},
        {NULL, NULL, 0},
    };
    const struct kv cut[] = {
        {"mail", "a@example.org", 0},
        {"proxyAddresses;range=0-1499", "smtp:b@example.org", 0},
        {NULL, NULL, 0},
    };
    const struct kv cut_other_option[] = {
        {"mail", "a@example.org", 0},
        {"proxyAddresses;lang-en;RANGE=0-1499", "smtp:b@example.org", 0},
        {NULL, NULL, 0},
    };
    const struct kv not_an_address_attr[] = {
        {"mail", "a@example.org", 0},
        {"member;range=0-1499", "cn=x", 0},
        {NULL, NULL, 0},
    };
    const char *const keys[] = {"a@example.org", "b@example.org", "c@example.org"};
    const enum rcpt_kind kinds[] = {RCPT_USER, RCPT_ALIAS, RCPT_ALIAS};

    assert_int_equal(map(c, whole, 0, 0), 3);
    expect_addrs(&c->e, keys, kinds, 3);
    assert_int_equal(c->st.range_cut, 0);
    map(c, cut, 0, 0);
    assert_int_equal(c->st.range_cut, 1);
    map(c, cut_other_option, 0, 0);
    assert_int_equal(c->st.range_cut, 2);
    map(c, not_an_address_attr, 0, 0);
    assert_int_equal(c->st.range_cut, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_user_aliases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proxy_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mail_beats_ad_primary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_valid_is_primary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_values_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_valid_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catchall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attribute_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multivalued_mail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_sensitive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_quoted_not_catchall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_id_entry_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_id_binary_guid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_id_dn_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_id_long_dn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_id_too_long_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_cut, setup, teardown),
    };

    log_init("test_entry", 1, LOG_LEVEL_ERR); /* invalid-address samples are warnings */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
