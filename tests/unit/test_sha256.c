/*
 * test_sha256 - SHA-256 against the FIPS 180-4 / NIST example vectors, and incremental
 * updates split at every offset (and fed byte by byte) giving the one-update digest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/sha256.h"

/* hex - digest as lower-case hex into out (2 * SHA256_SIZE + 1 bytes) */
static void hex(char *out, const unsigned char d[SHA256_SIZE])
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < SHA256_SIZE; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * SHA256_SIZE] = '\0';
}

static void digest_hex(char *out, const void *data, size_t len)
{
    struct sha256 c;
    unsigned char d[SHA256_SIZE];

    sha256_init(&c);
    sha256_update(&c, data, len);
    sha256_final(&c, d);
    hex(out, d);
}

static void test_empty(void **state)
{
    char h[2 * SHA256_SIZE + 1];
    struct sha256 c;
    unsigned char d[SHA256_SIZE];

    (void)state;
    digest_hex(h, "", 0);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* no update at all */
    sha256_init(&c);
    sha256_final(&c, d);
    hex(h, d);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc(void **state)
{
    char h[2 * SHA256_SIZE + 1];

    (void)state;
    digest_hex(h, "abc", 3);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_448_bits(void **state)
{
    static const char m[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char h[2 * SHA256_SIZE + 1];

    (void)state;
    assert_int_equal(strlen(m), 56);
    digest_hex(h, m, strlen(m));
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_896_bits(void **state)
{
    static const char m[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                            "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    char h[2 * SHA256_SIZE + 1];

    (void)state;
    assert_int_equal(strlen(m), 112);
    digest_hex(h, m, strlen(m));
    assert_string_equal(h, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
    static const char want[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    char h[2 * SHA256_SIZE + 1];
    unsigned char d[SHA256_SIZE], chunk[1000];
    struct sha256 c;
    char *m = malloc(1000000);

    (void)state;
    assert_non_null(m);
    memset(m, 'a', 1000000);
    /* one update */
    digest_hex(h, m, 1000000);
    assert_string_equal(h, want);
    /* 1000 updates of 1000 bytes (not a multiple of the block size) */
    memset(chunk, 'a', sizeof(chunk));
    sha256_init(&c);
    for (int i = 0; i < 1000; i++)
        sha256_update(&c, chunk, sizeof(chunk));
    sha256_final(&c, d);
    hex(h, d);
    assert_string_equal(h, want);
    free(m);
}

/* lengths around the padding boundaries: 55, 56, 63, 64, 65 bytes of 'a' */
static void test_padding_boundaries(void **state)
{
    static const struct {
        size_t len;
        const char *hex;
    } cases[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
    };
    char buf[65], h[2 * SHA256_SIZE + 1];

    (void)state;
    memset(buf, 'a', sizeof(buf));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        digest_hex(h, buf, cases[i].len);
        if (strcmp(h, cases[i].hex) != 0)
            fail_msg("%zu x 'a': %s, want %s", cases[i].len, h, cases[i].hex);
    }
}

/* a 200-byte message split at every offset, in two and three updates, and byte by byte */
static void test_incremental_splits(void **state)
{
    /* python3: hashlib.sha256(bytes((i*7+3)&255 for i in range(200))).hexdigest() */
    static const char want[] = "2c7e18c942ef065b526a2d4e5546283749cd3ddfb51d8fc71f42717363685f46";
    unsigned char m[200], one[SHA256_SIZE], d[SHA256_SIZE];
    char h[2 * SHA256_SIZE + 1];
    struct sha256 c;

    (void)state;
    for (size_t i = 0; i < sizeof(m); i++)
        m[i] = (unsigned char)((i * 7 + 3) & 255);
    sha256_init(&c);
    sha256_update(&c, m, sizeof(m));
    sha256_final(&c, one);
    hex(h, one);
    assert_string_equal(h, want);

    for (size_t i = 0; i <= sizeof(m); i++) {
        sha256_init(&c);
        sha256_update(&c, m, i);
        sha256_update(&c, m + i, sizeof(m) - i);
        sha256_final(&c, d);
        if (memcmp(d, one, SHA256_SIZE) != 0)
            fail_msg("split at %zu: digest differs from one update", i);
        for (size_t j = i; j <= sizeof(m); j += 13) {
            sha256_init(&c);
            sha256_update(&c, m, i);
            sha256_update(&c, m + i, j - i);
            sha256_update(&c, m + j, sizeof(m) - j);
            sha256_final(&c, d);
            if (memcmp(d, one, SHA256_SIZE) != 0)
                fail_msg("split at %zu and %zu: digest differs from one update", i, j);
        }
    }
    sha256_init(&c);
    for (size_t i = 0; i < sizeof(m); i++)
        sha256_update(&c, m + i, 1);
    sha256_final(&c, d);
    assert_memory_equal(d, one, SHA256_SIZE);
}

/* hmac_hex - HMAC-SHA-256 of data under key, in hex, the data pushed in pieces of step bytes */
static void hmac_hex(char *out, const void *key, size_t keylen, const void *data, size_t len,
                     size_t step)
{
    struct hmac_sha256 c;
    unsigned char d[SHA256_SIZE];
    const unsigned char *p = data;

    hmac_sha256_init(&c, key, keylen);
    for (size_t off = 0; off < len; off += step)
        hmac_sha256_update(&c, p + off, len - off < step ? len - off : step);
    hmac_sha256_final(&c, d);
    hex(out, d);
}

/* test_hmac_rfc4231 - the RFC 4231 test cases 1-4, 6 and 7 (5 truncates the output) */
static void test_hmac_rfc4231(void **state)
{
    unsigned char k1[20], k3[20], k4[25], k6[131], d3[50], d4[50];
    char h[2 * SHA256_SIZE + 1];
    static const char m6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    static const char m7[] = "This is a test using a larger than block-size key and a larger "
                             "than block-size data. The key needs to be hashed before being "
                             "used by the HMAC algorithm.";

    (void)state;
    memset(k1, 0x0b, sizeof(k1));
    memset(k3, 0xaa, sizeof(k3));
    memset(d3, 0xdd, sizeof(d3));
    for (size_t i = 0; i < sizeof(k4); i++)
        k4[i] = (unsigned char)(i + 1);
    memset(d4, 0xcd, sizeof(d4));
    memset(k6, 0xaa, sizeof(k6));
    for (size_t step = 1; step <= 200; step += 199) {
        hmac_hex(h, k1, sizeof(k1), "Hi There", 8, step);
        assert_string_equal(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        hmac_hex(h, "Jefe", 4, "what do ya want for nothing?", 28, step);
        assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        hmac_hex(h, k3, sizeof(k3), d3, sizeof(d3), step);
        assert_string_equal(h, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
        hmac_hex(h, k4, sizeof(k4), d4, sizeof(d4), step);
        assert_string_equal(h, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
        hmac_hex(h, k6, sizeof(k6), m6, strlen(m6), step);
        assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        hmac_hex(h, k6, sizeof(k6), m7, strlen(m7), step);
        assert_string_equal(h, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_abc),
        cmocka_unit_test(test_448_bits),
        cmocka_unit_test(test_896_bits),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_padding_boundaries),
        cmocka_unit_test(test_incremental_splits),
    };

    return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
