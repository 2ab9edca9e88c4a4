/*
 * cfg - table-driven INI reader with exact line numbers; see cfg.h.
 */
#include "common/cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/str.h"
#include "common/xmalloc.h"

/* Largest configuration file read, in bytes. */
#define CFG_MAX_FILE (1024 * 1024)

struct cfg_ctx {
    const char *name; /* file name for messages */
    const struct cfg_key *keys;
    size_t nkeys;
    char *target;
    struct cfg_errors *errs;
    unsigned char *seen; /* per key: given in the file */
};

void cfg_error(struct cfg_errors *errs, const char *fmt, ...)
{
    va_list ap;

    if (errs->n >= CFG_MAX_ERRORS) {
        errs->dropped++;
        return;
    }
    va_start(ap, fmt);
    if (vasprintf(&errs->v[errs->n], fmt, ap) < 0)
        errs->v[errs->n] = NULL;
    else
        errs->n++;
    va_end(ap);
}

void cfg_errors_free(struct cfg_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        free(errs->v[i]);
    errs->n = 0;
    errs->dropped = 0;
}

static void cfg_list_clear(struct cfg_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->v[i]);
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

static void cfg_list_add(struct cfg_list *list, const char *s, size_t len)
{
    list->v = xreallocarray(list->v, list->n + 2, sizeof(*list->v));
    list->v[list->n++] = xstrndup(s, len);
    list->v[list->n] = NULL;
}

int cfg_list_has(const struct cfg_list *list, const char *s)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->v[i], s) == 0)
            return 1;
    return 0;
}

/* cfg_split - add the comma- or space-separated items of value to list */
static void cfg_split(struct cfg_list *list, const char *value)
{
    const char *p = value;

    while (*p) {
        size_t n = strcspn(p, ", \t");
        if (n > 0)
            cfg_list_add(list, p, n);
        p += n;
        p += strspn(p, ", \t");
    }
}

/* cfg_set - convert value for key and store it; returns 0 or -1 with message in err */
static int cfg_set(const struct cfg_key *key, char *target, const char *value, int first, char *err,
                   size_t errlen)
{
    void *slot = target + key->offset;
    char *end;

    switch (key->type) {
    case CFG_SECTION:
        break;
    case CFG_STR: {
        char **s = slot;
        free(*s);
        *s = xstrdup(value); /* a CFG_SECRET file is checked by the program that reads it */
        break;
    }
    case CFG_INT: {
        long long v;
        errno = 0;
        v = strtoll(value, &end, 10);
        if (*value == '\0' || *end != '\0' || errno != 0) {
            snprintf(err, errlen, "'%.64s' is not a whole number", value);
            return -1;
        }
        if (v < key->min || v > key->max) {
            snprintf(err, errlen, "%lld is out of range %lld..%lld", v, key->min, key->max);
            return -1;
        }
        *(long long *)slot = v;
        break;
    }
    case CFG_BOOL: {
        static const char *const yes[] = {"yes", "true", "on", "1"};
        static const char *const no[] = {"no", "false", "off", "0"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(value, yes[i]) == 0) {
                *(int *)slot = 1;
                return 0;
            }
            if (strcasecmp(value, no[i]) == 0) {
                *(int *)slot = 0;
                return 0;
            }
        }
        snprintf(err, errlen, "'%.64s' is not yes or no", value);
        return -1;
    }
    case CFG_RATIO: {
        double v;
        errno = 0;
        v = strtod(value, &end);
        if (*value == '\0' || *end != '\0' || errno != 0 || !isfinite(v)) {
            snprintf(err, errlen, "'%.64s' is not a number", value);
            return -1;
        }
        if (v < (double)key->min / 1000 || v > (double)key->max / 1000) {
            snprintf(err, errlen, "%g is out of range %g..%g", v, (double)key->min / 1000,
                     (double)key->max / 1000);
            return -1;
        }
        *(double *)slot = v;
        break;
    }
    case CFG_LIST:
    case CFG_MULTI: {
        struct cfg_list *list = slot;
        size_t had;
        if (first)
            cfg_list_clear(list);
        had = list->n;
        if (key->type == CFG_LIST)
            cfg_split(list, value);
        else if (*value != '\0')
            cfg_list_add(list, value, strlen(value));
        if (key->check != NULL) {
            for (size_t i = had; i < list->n; i++) /* only what this line added */
                if (key->check(list->v[i], err, errlen) < 0)
                    return -1;
        }
        return 0;
    }
    }
    if (key->check != NULL && *value != '\0')
        return key->check(value, err, errlen);
    return 0;
}

/* cfg_find - the row for section/name (name NULL: the section row), or -1 */
static long cfg_find(const struct cfg_ctx *ctx, const char *section, const char *name)
{
    for (size_t i = 0; i < ctx->nkeys; i++) {
        const struct cfg_key *k = &ctx->keys[i];
        if (strcmp(k->section, section) != 0)
            continue;
        if (name == NULL ? k->type == CFG_SECTION : (k->name != NULL && strcmp(k->name, name) == 0))
            return (long)i;
    }
    return -1;
}

/* cfg_strip_comment - cut a ';' comment that follows white space */
static void cfg_strip_comment(char *line)
{
    for (char *p = line; *p; p++) {
        if (*p == ';' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            return;
        }
    }
}

/* cfg_line - interpret one line; section is the current section row (-1: none/unknown) */
static void cfg_line(struct cfg_ctx *ctx, char *line, int lineno, long *section)
{
    char err[512], *eq, *key, *value;
    const char *secname;
    long k;

    str_trim(line);
    if (*line == '\0' || *line == ';' || *line == '#')
        return;
    cfg_strip_comment(line);
    str_trim(line);
    if (*line == '[') {
        size_t n = strlen(line);
        if (line[n - 1] != ']') {
            cfg_error(ctx->errs, "%s:%d: section header without ']'", ctx->name, lineno);
            *section = -2;
            return;
        }
        line[n - 1] = '\0';
        str_trim(line + 1);
        *section = cfg_find(ctx, line + 1, NULL);
        if (*section < 0) {
            cfg_error(ctx->errs, "%s:%d: unknown section [%.64s]", ctx->name, lineno, line + 1);
            *section = -2;
        } else {
            int *where = (int *)(ctx->target + ctx->keys[*section].offset);
            if (*where == 0)
                *where = lineno;
        }
        return;
    }
    if (*section == -2)
        return; /* keys of an unknown or broken section: reported once, above */
    if ((eq = strchr(line, '=')) == NULL) {
        cfg_error(ctx->errs, "%s:%d: expected 'key = value'", ctx->name, lineno);
        return;
    }
    *eq = '\0';
    key = str_trim(line);
    value = str_trim(eq + 1);
    if (*section < 0) {
        cfg_error(ctx->errs, "%s:%d: key '%.64s' outside of any [section]", ctx->name, lineno, key);
        return;
    }
    secname = ctx->keys[*section].section;
    if ((k = cfg_find(ctx, secname, key)) < 0) {
        cfg_error(ctx->errs, "%s:%d: [%s] unknown key '%.64s'", ctx->name, lineno, secname, key);
        return;
    }
    if (ctx->seen[k] && ctx->keys[k].type != CFG_MULTI) {
        cfg_error(ctx->errs, "%s:%d: [%s] %s: given more than once", ctx->name, lineno, secname,
                  key);
        return;
    }
    if (cfg_set(&ctx->keys[k], ctx->target, value, !ctx->seen[k], err, sizeof(err)) < 0)
        cfg_error(ctx->errs, "%s:%d: [%s] %s: %s", ctx->name, lineno, secname, key, err);
    ctx->seen[k] = 1;
}

int cfg_load_string(const char *name, const char *text, size_t len, const struct cfg_key *keys,
                    size_t nkeys, void *target, struct cfg_errors *errs)
{
    struct cfg_ctx ctx = {name, keys, nkeys, target, errs, xcalloc(nkeys, 1)};
    char line[CFG_MAX_LINE + 1], err[512];
    size_t before = errs->n + errs->dropped, pos = 0;
    long section = -1;
    int lineno = 0;

    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i].def != NULL && cfg_set(&keys[i], target, keys[i].def, 1, err, sizeof(err)) < 0)
            cfg_error(errs, "built-in default of [%s] %s: %s", keys[i].section, keys[i].name, err);
    }
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        pos = 3; /* UTF-8 byte order mark */
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = (nl ? (size_t)(nl - text) : len) - pos;

        lineno++;
        if (n > CFG_MAX_LINE)
            cfg_error(errs, "%s:%d: line longer than %d bytes", name, lineno, CFG_MAX_LINE);
        else if (memchr(text + pos, '\0', n) != NULL)
            cfg_error(errs, "%s:%d: NUL byte in line", name, lineno);
        else {
            memcpy(line, text + pos, n);
            line[n] = '\0';
            cfg_line(&ctx, line, lineno, &section);
        }
        pos += n + 1;
    }
    free(ctx.seen);
    return errs->n + errs->dropped > before ? -1 : 0;
}

int cfg_load(const char *path, const struct cfg_key *keys, size_t nkeys, void *target,
             struct cfg_errors *errs)
{
    struct stat st;
    char *text;
    size_t len = 0;
    ssize_t n;
    int fd, rc;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        cfg_error(errs, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CFG_MAX_FILE) {
        cfg_error(errs, "%s: not a regular file of at most %d bytes", path, CFG_MAX_FILE);
        close(fd);
        return -1;
    }
    text = xmalloc((size_t)st.st_size + 1);
    while (len < (size_t)st.st_size && (n = read(fd, text + len, (size_t)st.st_size - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            cfg_error(errs, "%s: read error: %s", path, strerror(errno));
            close(fd);
            free(text);
            return -1;
        }
        len += (size_t)n;
    }
    close(fd);
    rc = cfg_load_string(path, text, len, keys, nkeys, target, errs);
    free(text);
    return rc;
}

void cfg_free(const struct cfg_key *keys, size_t nkeys, void *target)
{
    for (size_t i = 0; i < nkeys; i++) {
        void *slot = (char *)target + keys[i].offset;
        if (keys[i].type == CFG_STR) {
            free(*(char **)slot);
            *(char **)slot = NULL;
        } else if (keys[i].type == CFG_LIST || keys[i].type == CFG_MULTI) {
            cfg_list_clear(slot);
        }
    }
}
