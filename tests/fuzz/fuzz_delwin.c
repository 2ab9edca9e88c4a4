/*
 * fuzz_delwin - delwin_parse() (syncd/delwin.h) on arbitrary bytes as the stored delete
 * window, then the steps a sync takes with it. The first 4 bytes give the window (1 s to a
 * year), the next 4 the time; the rest is the text.
 *
 * Invariants checked (abort() on violation):
 *   - a text that is not a window leaves the window empty; one that is has at most
 *     DELWIN_MAX buckets with ends strictly increasing;
 *   - delwin_format() fits DELWIN_TEXT and parses back to the same sum of removals (the same
 *     buckets when none had to be merged);
 *   - after delwin_expire() and delwin_add() the buckets stay bounded and ordered, and the sum
 *     grows by what was added (saturating); delwin_base() is never below the sync's count.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncd/delwin.h"

#define FUZZ_TEXT 2048

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_delwin: %s\n", what);
    abort();
}

/* fuzz_check - w is bounded and ordered */
static void fuzz_check(const struct delwin *w, const char *when)
{
    if (w->n > DELWIN_MAX)
        fuzz_fail(when);
    for (size_t i = 1; i < w->n; i++)
        if (w->b[i - 1].end >= w->b[i].end)
            fuzz_fail(when);
}

/* fuzz_u32 - 4 bytes, little-endian */
static uint32_t fuzz_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[FUZZ_TEXT + 1], out[DELWIN_TEXT];
    struct delwin w, back;
    uint64_t window, now, sum;
    size_t len;

    if (size < 8)
        return 0;
    window = fuzz_u32(data) % 31536000 + 1;
    now = fuzz_u32(data + 4);
    len = size - 8 < FUZZ_TEXT ? size - 8 : FUZZ_TEXT;
    memcpy(text, data + 8, len);
    text[len] = '\0';

    w.n = 3;
    if (delwin_parse(&w, text, window) != 0) {
        if (w.n != 0)
            fuzz_fail("a text that is not a window left buckets");
        return 0;
    }
    fuzz_check(&w, "parsed buckets unbounded or out of order");

    if (delwin_format(&w, out, sizeof(out)) != 0 || strlen(out) >= DELWIN_TEXT)
        fuzz_fail("format does not fit");
    if (delwin_parse(&back, out, window) != 0)
        fuzz_fail("formatted text does not parse");
    if (delwin_removed(&back) != delwin_removed(&w))
        fuzz_fail("round trip changed the removals");
    if (back.n == w.n && memcmp(back.b, w.b, w.n * sizeof(w.b[0])) != 0)
        fuzz_fail("round trip changed the buckets");

    delwin_expire(&w, window, now);
    fuzz_check(&w, "expired buckets out of order");
    sum = delwin_removed(&w);
    delwin_add(&w, window, now, 7, 1000);
    fuzz_check(&w, "added buckets unbounded or out of order");
    if (delwin_removed(&w) != (sum > UINT64_MAX - 7 ? UINT64_MAX : sum + 7))
        fuzz_fail("the sum did not grow by what was added");
    if (delwin_base(&w, 1000) < 1000)
        fuzz_fail("base below the sync's count");
    return 0;
}
