/*
 * feeddump - decode a feed (schema/feed.h) from stdin and print it as text for tests:
 *
 *   header KIND FROM TO
 *   TYPE<TAB>KEY<TAB>VALUE      one per record; A, + and ~ values as
 *                               "kind<TAB>state<TAB>primary" (as dumpstore prints them), M as
 *                               its byte, E as its addresses joined by ',', others as
 *                               "N bytes"
 *   end RECORDS
 *
 * Exits 1 with "feeddump: ERROR" on stderr at the first decode error (also a feed without
 * its trailer), 64 on bad usage. Reads in odd-sized pieces to exercise the decoder.
 */
#include <stdio.h>
#include <string.h>

#include "common/fsutil.h"
#include "schema/feed.h"
#include "schema/rcpt.h"

static unsigned long long records;

static void print_key(const char *k, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)k[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '\\')
            printf("\\x%02x", ch);
        else
            putchar(ch);
    }
}

static int dump_cb(void *ctx, const struct feed_header *h, const struct feed_record *r)
{
    struct rcpt rc;

    (void)ctx;
    if (r == NULL) {
        printf("header %c %llu %llu\n", (int)h->kind, (unsigned long long)h->from,
               (unsigned long long)h->to);
        return 0;
    }
    records++;
    printf("%c\t", r->type);
    print_key(r->key, r->keylen);
    putchar('\t');
    if ((r->type == 'A' || r->type == '+' || r->type == '~') &&
        rcpt_decode(&rc, r->val, r->vallen) == 0) {
        printf("%s\t%s\t%.*s", rcpt_kind_name(rc.kind), rcpt_state_name(rc.state),
               (int)rc.primary_len, rc.primary);
    } else if (r->type == 'M' && r->vallen == 1) {
        putchar(r->val[0]);
    } else {
        printf("%zu bytes", r->vallen);
    }
    putchar('\n');
    return 0;
}

int main(int argc, char **argv)
{
    static struct feed_dec d;
    unsigned char buf[7777];
    size_t n;
    int rc;

    char key[FS_SECRET_MAX], err[256];
    long keylen = 0;

    if (argc == 3 && strcmp(argv[1], "-k") == 0) {
        if ((keylen = fs_read_secret(argv[2], key, sizeof(key), err, sizeof(err))) < 0) {
            fprintf(stderr, "feeddump: %s\n", err);
            return 66;
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: feeddump [-k TOKENFILE] < FEED\n");
        return 64;
    }
    feed_dec_init(&d);
    feed_dec_key(&d, key, (size_t)keylen); /* a keyed feed verifies with the feed token */
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
        if ((rc = feed_dec_push(&d, buf, n, dump_cb, NULL)) != 0) {
            fprintf(stderr, "feeddump: %s\n", feed_strerror(rc));
            return 1;
        }
    }
    if (ferror(stdin)) {
        perror("feeddump: stdin");
        return 1;
    }
    if ((rc = feed_dec_finish(&d)) != 0) {
        fprintf(stderr, "feeddump: %s\n", feed_strerror(rc));
        return 1;
    }
    printf("end %llu\n", records);
    return 0;
}
