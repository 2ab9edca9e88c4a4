/*
 * fuzz_httpneg - the Accept-Encoding and If-None-Match parsers (lookupd/httpneg.h) on
 * arbitrary header values. Input: up to the first NUL one Accept-Encoding value, the rest an
 * If-None-Match value (each parsed from an exact-size heap copy, so ASan sees reads past it).
 * Checked: weights stay in -1..1000, a parsed field marks the request, the gzip answer is 0
 * or 1, and "*" before anything else always matches.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookupd/httpneg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_httpneg: %s\n", what);
    abort();
}

static char *copy(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s == NULL)
        die("out of memory");
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t n = nul != NULL ? (size_t)(nul - data) : size;
    char *ae = copy(data, n), *inm = copy(data + (nul ? n + 1 : n), size - (nul ? n + 1 : n));
    char *star = malloc(strlen(inm) + 3);
    struct httpneg_accept a;
    int w[4], g;

    httpneg_accept_init(&a);
    httpneg_accept_parse(&a, ae);
    w[0] = a.gzip, w[1] = a.xgzip, w[2] = a.identity, w[3] = a.star;
    for (int i = 0; i < 4; i++)
        if (w[i] < -1 || w[i] > 1000)
            die("a weight out of range");
    if (!a.present)
        die("a parsed field does not mark the request");
    g = httpneg_accept_gzip(&a);
    if (g != 0 && g != 1)
        die("gzip answer not 0 or 1");
    if (star == NULL)
        die("out of memory");
    (void)httpneg_etag_listed(inm, "\"g1\"");
    strcpy(star, "*,");
    strcat(star, inm);
    if (!httpneg_etag_listed(star, "\"g1\""))
        die("\"*\" first does not match");
    free(star);
    free(ae);
    free(inm);
    return 0;
}
