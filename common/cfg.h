/*
 * cfg - INI files loaded through a table of keys (Postfix's CONFIG_*_TABLE idea).
 *
 * Syntax: "[section]" lines, "key = value" lines, comments from ';' or '#' at the start
 * of a line, and from a ';' preceded by white space inside a line. Lines are at most
 * CFG_MAX_LINE bytes. Every key belongs to a section.
 *
 * Why not Debian's libinih: its build cuts lines at 200 bytes (INI_MAX_LINE) and hands
 * the rest on as another line, which silently breaks long LDAP filters; its handler gets
 * no line number, and continuation lines are merged into repeated keys. A reader of
 * this size gives exact line numbers and refuses what it does not understand.
 *
 * Each struct cfg_key says where in the caller's struct the value goes, its type, its
 * default and its range. Every error (unknown section or key, bad value, out of range,
 * repeated key, line too long) is collected as "FILE:LINE: [section] key: message" in
 * struct cfg_errors, so `-n` can print them all. Strings and lists written into the
 * target are owned by it: cfg_free() releases them.
 */
#ifndef RCPTDIR_CFG_H
#define RCPTDIR_CFG_H

#include <stddef.h>

#define CFG_MAX_LINE   8192
#define CFG_MAX_ERRORS 100

enum cfg_type {
    CFG_SECTION, /* a section: its int at offset gets the line it starts on (0: absent) */
    CFG_STR,     /* char *, NULL when unset and no default */
    CFG_INT,     /* long long within [min, max] */
    CFG_BOOL,    /* int: yes/no, true/false, on/off, 1/0 */
    CFG_RATIO,   /* double within [min/1000, max/1000] */
    CFG_LIST,    /* struct cfg_list: split at commas and white space, empty items dropped */
    CFG_MULTI,   /* struct cfg_list: one item per line; the key may be repeated */
};

/* Flags of a key. */
/*
 * CFG_STR naming a secret file. Not opened while loading: the program that reads it checks it
 * with fs_read_secret(), as the user it runs as (schema/confenv.h for -n).
 */
#define CFG_SECRET 0x1

struct cfg_list {
    char **v;
    size_t n;
};

struct cfg_key {
    const char *section;
    const char *name; /* NULL for a CFG_SECTION row */
    enum cfg_type type;
    const char *def; /* default as it would be written in the file, or NULL */
    long long min, max;
    size_t offset; /* offsetof() the value in the target struct */
    unsigned flags;
    /* optional extra check of a non-empty value: 0 ok, -1 with a message in err */
    int (*check)(const char *value, char *err, size_t errlen);
    const char *help; /* one line for the reference documentation */
};

struct cfg_errors {
    char *v[CFG_MAX_ERRORS];
    size_t n;
    size_t dropped; /* errors beyond CFG_MAX_ERRORS */
};

/*
 * cfg_load - apply defaults, then read path into target. Returns 0, or -1 when errs holds
 * at least one error. The target is filled as far as possible either way.
 */
int cfg_load(const char *path, const struct cfg_key *keys, size_t nkeys, void *target,
             struct cfg_errors *errs);

/* cfg_load_string - the same for text in memory (tests, fuzzing); name is used in errors */
int cfg_load_string(const char *name, const char *text, size_t len, const struct cfg_key *keys,
                    size_t nkeys, void *target, struct cfg_errors *errs);

/* cfg_error - add a formatted error (for checks that span keys) */
void cfg_error(struct cfg_errors *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cfg_free - release what cfg_load wrote into target */
void cfg_free(const struct cfg_key *keys, size_t nkeys, void *target);

/* cfg_errors_free - release the messages */
void cfg_errors_free(struct cfg_errors *errs);

/* cfg_list_has - 1 when the list holds s */
int cfg_list_has(const struct cfg_list *list, const char *s);

#endif
