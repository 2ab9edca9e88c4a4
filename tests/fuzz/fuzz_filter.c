/*
 * fuzz_filter - filter_parse() and filter_match() on arbitrary bytes. The first line is the
 * filter text, every further line "name: value" an attribute of the entry (a line without
 * ':' is a name with an empty value). A parse gives a tree and no message, or a message
 * and no tree; a match is 0 or 1, agrees with the same filter wrapped in (!...), (&F F)
 * and (|F) whenever those parse, and for a plain "(attr=value)" with the byte comparison
 * of reference(). Everything is freed (LeakSanitizer).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncd/attrs.h"
#include "syncd/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* wrapped - match of a filter built as pre + text + mid + text + post, or -1 if it fails */
static int wrapped(const char *pre, const char *text, const char *mid, int twice, const char *post,
                   const struct attrs *a)
{
    size_t tl = strlen(text);
    char *s = malloc(strlen(pre) + 2 * tl + strlen(mid) + strlen(post) + 1), err[256];
    struct filter *f;
    int r = -1;

    if (s == NULL)
        return -1;
    strcpy(s, pre);
    strcat(s, text);
    if (twice) {
        strcat(s, mid);
        strcat(s, text);
    }
    strcat(s, post);
    if (filter_parse(s, &f, err, sizeof(err)) == 0) {
        r = filter_match(f, a);
        filter_free(f);
    }
    free(s);
    return r;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/*
 * reference - an independent evaluation of the simplest filters, "(attr=value)" with a
 * plain name, no '*' and only \XX escapes: 1 or 0, or -1 when text is not of that form.
 * Values are byte strings compared with ASCII case folding, whatever bytes they hold.
 */
static int reference(const char *text, const struct attrs *a)
{
    size_t len = strlen(text), alen = 0, vlen = 0;
    const char *eq;
    char val[4096];

    if (len < 4 || text[0] != '(' || text[len - 1] != ')' || (eq = strchr(text, '=')) == NULL)
        return -1;
    for (const char *p = text + 1; p < eq; p++, alen++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return -1;
    if (alen == 0)
        return -1;
    for (const char *p = eq + 1; p < text + len - 1; p++) {
        int hi, lo;
        if (*p == '*' || *p == '(' || *p == ')' || vlen == sizeof(val))
            return -1;
        if (*p != '\\') {
            val[vlen++] = *p;
            continue;
        }
        if (p + 2 >= text + len - 1 || (hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0)
            return -1;
        val[vlen++] = (char)(hi << 4 | lo);
        p += 2;
    }
    for (size_t i = 0; i < a->n; i++) {
        const struct attr_value *v = &a->v[i];
        size_t j;
        if (v->name_len != alen || v->len != vlen)
            continue;
        for (j = 0; j < alen; j++)
            if (lower((unsigned char)v->name[j]) != lower((unsigned char)text[1 + j]))
                break;
        if (j < alen)
            continue;
        for (j = 0; j < vlen; j++)
            if (lower((unsigned char)v->val[j]) != lower((unsigned char)val[j]))
                break;
        if (j == vlen)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const char *nl = memchr(p, '\n', size);
    size_t tlen = nl ? (size_t)(nl - p) : size;
    struct attrs a = {0};
    struct filter *f = (struct filter *)&a;
    char *text, err[256];
    int rc, r, w;

    text = malloc(tlen + 1);
    if (text == NULL)
        return 0;
    memcpy(text, p, tlen);
    text[tlen] = '\0';

    /* the entry */
    for (const char *l = nl ? nl + 1 : end; l < end;) {
        const char *e = memchr(l, '\n', (size_t)(end - l));
        size_t len = e ? (size_t)(e - l) : (size_t)(end - l);
        const char *colon = memchr(l, ':', len);
        if (colon == NULL) {
            if (len > 0)
                attrs_add(&a, l, len, "", 0);
        } else if (colon > l) {
            const char *v = colon + 1;
            if (v < l + len && *v == ' ')
                v++;
            attrs_add(&a, l, (size_t)(colon - l), v, (size_t)(l + len - v));
        }
        l += len + 1;
    }

    memset(err, 'x', sizeof(err));
    rc = filter_parse(text, &f, err, sizeof(err));
    if (rc == 0) {
        if (f == NULL || err[0] != '\0')
            abort();
        r = filter_match(f, &a);
        if (r != 0 && r != 1)
            abort();
        if (filter_match(f, &a) != r)
            abort();
        if ((w = reference(text, &a)) >= 0 && w != r)
            abort(); /* an equality filter disagrees with a plain byte comparison */
        filter_free(f);
        if ((w = wrapped("(!", text, "", 0, ")", &a)) >= 0 && w != !r)
            abort();
        if ((w = wrapped("(&", text, "", 1, ")", &a)) >= 0 && w != r)
            abort();
        if ((w = wrapped("(|", text, "", 0, ")", &a)) >= 0 && w != r)
            abort();
        if ((w = wrapped("(|(!", text, ")", 1, ")", &a)) >= 0 && w != 1)
            abort(); /* F or not F */
    } else {
        if (rc != -1 || f != NULL || strncmp(err, "LDAP filter: ", 13) != 0 ||
            memchr(err, '\0', sizeof(err)) == NULL)
            abort();
    }
    free(text);
    attrs_free(&a);
    return 0;
}
