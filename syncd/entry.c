/*
 * entry - directory entry to addresses; see entry.h.
 */
#include "syncd/entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hset.h"
#include "common/log.h"
#include "common/str.h"
#include "common/xmalloc.h"

static int entry_printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

size_t entry_id(const struct mapping *m, const struct attrs *a, const char *dn, size_t dnlen,
                char *buf, size_t cap)
{
    for (size_t k = 0; k < m->id_attrs->n; k++) {
        for (size_t i = 0; i < a->n; i++) {
            const struct attr_value *v = &a->v[i];
            if (!attrs_name_is(v, m->id_attrs->v[k]) || v->len == 0)
                continue;
            if (entry_printable(v->val, v->len) && v->len < cap) {
                memcpy(buf, v->val, v->len);
                buf[v->len] = '\0';
                return v->len;
            }
            if (v->len * 2 < cap)
                return str_hex(buf, cap, v->val, v->len);
        }
    }
    if (dnlen + 3 < cap) {
        return (size_t)snprintf(buf, cap, "dn:%.*s", (int)dnlen, dn);
    }
    return (size_t)snprintf(buf, cap, "dn-hash:%016llx", (unsigned long long)hset_hash(dn, dnlen));
}

/* entry_add - add a normalized address unless the entry has it already */
static void entry_add(struct sync_entry *e, const char *key, size_t len, enum rcpt_kind kind)
{
    for (size_t i = 0; i < e->naddrs; i++)
        if (e->addrs[i].len == len && memcmp(e->addrs[i].key, key, len) == 0)
            return;
    if (e->naddrs == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->addrs = xreallocarray(e->addrs, e->cap, sizeof(*e->addrs));
    }
    memcpy(e->addrs[e->naddrs].key, key, len);
    e->addrs[e->naddrs].key[len] = '\0';
    e->addrs[e->naddrs].len = len;
    e->addrs[e->naddrs].kind = kind;
    e->naddrs++;
}

/* entry_normalize - one raw value to a key; logs a few samples of invalid values */
static int entry_normalize(const struct mapping *m, const struct attr_value *v, char *key,
                           int *ad_primary, struct map_stats *st)
{
    const char *val = v->val;
    size_t len = v->len;
    int rc;

    *ad_primary = 0;
    if (attrs_name_is(v, "proxyAddresses")) {
        const char *rest = addr_proxy_value(val, len, ad_primary);
        if (rest == NULL)
            return -1; /* X400:, SIP:, ...: not an SMTP address, not an error */
        len -= (size_t)(rest - val);
        val = rest;
    }
    rc = addr_normalize(key, ADDR_KEY_SIZE, val, len, m->addr_flags | ADDR_CATCHALL);
    if (rc < 0) {
        if (st->invalid++ < ENTRY_INVALID_SAMPLES) {
            char safe[LOG_SAFE_MAX + 4], name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(v->name_len < 60 ? v->name_len : 60),
                     v->name);
            log_warnx("sync: skipping invalid address in %s: \"%s\": %s", name,
                      log_safe(safe, sizeof(safe), v->val, v->len), addr_strerror(rc));
        }
        return -1;
    }
    return rc;
}

static int entry_is_address_attr(const struct mapping *m, const struct attr_value *v)
{
    for (size_t k = 0; k < m->address_attrs->n; k++)
        if (attrs_name_is(v, m->address_attrs->v[k]))
            return 1;
    return 0;
}

size_t entry_map(const struct mapping *m, const struct attrs *a, const char *dn, size_t dnlen,
                 int is_group, int is_disabled, struct sync_entry *e, struct map_stats *st)
{
    char key[ADDR_KEY_SIZE], ad_key[ADDR_KEY_SIZE] = "";
    size_t ad_len = 0;
    int n, ad, cut = 0;

    st->entries++;
    e->naddrs = 0;
    e->primary_len = 0;
    e->state = is_disabled ? RCPT_DISABLED : RCPT_ACTIVE;
    e->id_len = entry_id(m, a, dn, dnlen, e->id, sizeof(e->id));

    /* every value of the address attributes and of the primary attribute; the first
     * valid primary_attr value is the primary, every other value an alias */
    for (size_t i = 0; i < a->n; i++) {
        const struct attr_value *v = &a->v[i];
        int is_primary_attr = attrs_name_is(v, m->primary_attr);
        if (!is_primary_attr && !entry_is_address_attr(m, v))
            continue;
        cut |= attrs_range_cut(v);
        if ((n = entry_normalize(m, v, key, &ad, st)) <= 0)
            continue;
        if (is_primary_attr && e->primary_len == 0) {
            memcpy(e->primary, key, (size_t)n + 1);
            e->primary_len = (size_t)n;
        }
        if (ad && ad_len == 0) {
            memcpy(ad_key, key, (size_t)n + 1);
            ad_len = (size_t)n;
        }
        entry_add(e, key, (size_t)n, RCPT_ALIAS);
    }
    st->range_cut += cut;
    if (e->primary_len == 0 && ad_len > 0) {
        memcpy(e->primary, ad_key, ad_len + 1);
        e->primary_len = ad_len;
    }
    if (e->primary_len == 0 && e->naddrs > 0) {
        memcpy(e->primary, e->addrs[0].key, e->addrs[0].len + 1);
        e->primary_len = e->addrs[0].len;
    }
    if (e->primary_len == 0) {
        st->no_addrs++;
        return 0;
    }
    /* the primary first, with the entry's kind; drop its alias twin */
    for (size_t i = 0; i < e->naddrs; i++) {
        if (e->addrs[i].len == e->primary_len &&
            memcmp(e->addrs[i].key, e->primary, e->primary_len) == 0) {
            memmove(&e->addrs[i], &e->addrs[i + 1], (e->naddrs - i - 1) * sizeof(*e->addrs));
            e->naddrs--;
            break;
        }
    }
    entry_add(e, e->primary, e->primary_len, is_group ? RCPT_GROUP : RCPT_USER);
    /* move the primary (just appended) to the front */
    if (e->naddrs > 1) {
        struct sync_addr tmp = e->addrs[e->naddrs - 1];
        memmove(&e->addrs[1], &e->addrs[0], (e->naddrs - 1) * sizeof(*e->addrs));
        e->addrs[0] = tmp;
    }
    return e->naddrs;
}

void entry_free(struct sync_entry *e)
{
    free(e->addrs);
    e->addrs = NULL;
    e->naddrs = e->cap = 0;
}
