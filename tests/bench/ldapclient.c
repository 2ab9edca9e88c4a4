/*
 * ldapclient - direct LDAP lookups as a Postfix ldap: table does them per RCPT: N client
 * threads, each with its own persistent LDAP connection (bound once), one synchronous
 * equality search (ldap_search_ext_s) at a time, for a fixed time. Prints lookups/s and
 * latency percentiles in loadclient's format.
 *
 *   ldapclient [-c CONNS] [-t SECONDS] -H URI [-D BINDDN -y PWFILE] -b BASE -f FILTER
 *              [-a ATTR] KEYFILE
 *
 * FILTER is a template: every %s becomes the key, escaped as an assertion value (RFC 4515),
 * e.g. "(&(|(mail=%s)(mailLocalAddress=%s))(!(description=disabled)))". The search is a
 * subtree search under BASE asking for ATTR (default "mail"), whose values are read as a
 * table would read its result_attribute. Thread k starts at key k * 7919 and walks the list.
 * Output (one line): "conns=16 idle=0 lookups=... rate=... p50_us=... p99_us=... mean_us=...
 * errors=... found=..." where found counts searches that returned at least one entry.
 */
#include <ldap.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LD_HIST_US 100000 /* latency histogram: 1 µs buckets up to 100 ms */

struct ld_thread {
    pthread_t tid;
    int index;
    LDAP *ld;
    uint64_t done, errors, found, total;
    uint32_t *hist;
};

static char **keys;
static size_t nkeys;
static const char *uri, *binddn, *base, *filter_tpl, *attr = "mail";
static char *bindpw;
static uint64_t t_end;
static pthread_barrier_t barrier;

/* ld_now - monotonic nanoseconds */
static uint64_t ld_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ld_connect - a bound connection, or exit */
static LDAP *ld_connect(void)
{
    LDAP *ld;
    int version = LDAP_VERSION3, rc;
    struct berval cred = {0, NULL};

    if ((rc = ldap_initialize(&ld, uri)) != LDAP_SUCCESS) {
        fprintf(stderr, "ldapclient: %s: %s\n", uri, ldap_err2string(rc));
        exit(2);
    }
    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
    if (bindpw != NULL) {
        cred.bv_val = bindpw;
        cred.bv_len = strlen(bindpw);
    }
    rc = ldap_sasl_bind_s(ld, binddn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
    if (rc != LDAP_SUCCESS) {
        fprintf(stderr, "ldapclient: bind: %s\n", ldap_err2string(rc));
        exit(2);
    }
    return ld;
}

/* ld_filter - the filter for a key, or NULL when it does not fit */
static char *ld_filter(char *buf, size_t cap, const char *key)
{
    struct berval in, out;
    const char *p = filter_tpl;
    size_t n = 0;

    in.bv_val = (char *)(uintptr_t)key;
    in.bv_len = strlen(key);
    if (ldap_bv2escaped_filter_value(&in, &out) != 0)
        return NULL;
    while (*p != '\0') {
        if (p[0] == '%' && p[1] == 's') {
            if (n + out.bv_len >= cap)
                goto toolong;
            memcpy(buf + n, out.bv_val, out.bv_len);
            n += out.bv_len;
            p += 2;
        } else {
            if (n + 1 >= cap)
                goto toolong;
            buf[n++] = *p++;
        }
    }
    buf[n] = '\0';
    ber_memfree(out.bv_val);
    return buf;
toolong:
    ber_memfree(out.bv_val);
    return NULL;
}

/* ld_search - one lookup; 1 found, 0 not found, -1 error */
static int ld_search(LDAP *ld, const char *key)
{
    char filter[4096];
    char *attrs[2];
    LDAPMessage *res = NULL, *e;
    int rc, found = 0;

    attrs[0] = (char *)(uintptr_t)attr;
    attrs[1] = NULL;
    if (ld_filter(filter, sizeof(filter), key) == NULL)
        return -1;
    rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, NULL, 0,
                           &res);
    if (rc != LDAP_SUCCESS) {
        ldap_msgfree(res);
        return -1;
    }
    for (e = ldap_first_entry(ld, res); e != NULL; e = ldap_next_entry(ld, e)) {
        struct berval **vals = ldap_get_values_len(ld, e, attr);
        if (vals != NULL && vals[0] != NULL)
            found = 1;
        ldap_value_free_len(vals);
    }
    ldap_msgfree(res);
    return found;
}

/* ld_run - a client thread: connect, wait for the others, search until t_end */
static void *ld_run(void *arg)
{
    struct ld_thread *t = arg;
    size_t next = (size_t)t->index * 7919;

    t->ld = ld_connect();
    pthread_barrier_wait(&barrier); /* every connection is bound */
    pthread_barrier_wait(&barrier); /* t_end is set */
    for (;;) {
        uint64_t t0 = ld_now(), t1, us;
        int rc = ld_search(t->ld, keys[next++ % nkeys]);

        t1 = ld_now();
        if (t1 >= t_end)
            break;
        if (rc < 0)
            t->errors++;
        else if (rc > 0)
            t->found++;
        us = (t1 - t0) / 1000;
        t->hist[us > LD_HIST_US ? LD_HIST_US : us]++;
        t->total += t1 - t0;
        t->done++;
    }
    return NULL;
}

/* ld_read_keys - KEYFILE into keys[], or exit */
static void ld_read_keys(const char *path)
{
    char line[1100];
    size_t cap = 0;
    FILE *fp = fopen(path, "r");

    if (fp == NULL) {
        perror(path);
        exit(66);
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (nkeys == cap) {
            cap = cap ? cap * 2 : 1024;
            keys = realloc(keys, cap * sizeof(*keys));
            if (keys == NULL)
                exit(70);
        }
        keys[nkeys++] = strdup(line);
    }
    fclose(fp);
    if (nkeys == 0) {
        fprintf(stderr, "ldapclient: no keys in %s\n", path);
        exit(65);
    }
}

/* ld_read_pw - the first line of PWFILE, or exit */
static char *ld_read_pw(const char *path)
{
    char buf[1024];
    FILE *fp = fopen(path, "r");

    if (fp == NULL) {
        perror(path);
        exit(66);
    }
    if (fgets(buf, sizeof(buf), fp) == NULL)
        buf[0] = '\0';
    fclose(fp);
    buf[strcspn(buf, "\r\n")] = '\0';
    return strdup(buf);
}

int main(int argc, char **argv)
{
    int conns = 1, secs = 5, ch;
    struct ld_thread *ts;
    uint32_t *hist;
    uint64_t start, done = 0, errors = 0, found = 0, total = 0;

    while ((ch = getopt(argc, argv, "c:t:H:D:y:b:f:a:")) != -1) {
        switch (ch) {
        case 'c':
            conns = atoi(optarg);
            break;
        case 't':
            secs = atoi(optarg);
            break;
        case 'H':
            uri = optarg;
            break;
        case 'D':
            binddn = optarg;
            break;
        case 'y':
            bindpw = ld_read_pw(optarg);
            break;
        case 'b':
            base = optarg;
            break;
        case 'f':
            filter_tpl = optarg;
            break;
        case 'a':
            attr = optarg;
            break;
        default:
            return 64;
        }
    }
    if (optind + 1 != argc || conns < 1 || secs < 1 || uri == NULL || base == NULL ||
        filter_tpl == NULL) {
        fprintf(stderr, "usage: ldapclient [-c CONNS] [-t SECONDS] -H URI [-D BINDDN -y PWFILE] "
                        "-b BASE -f FILTER [-a ATTR] KEYFILE\n");
        return 64;
    }
    ld_read_keys(argv[optind]);
    ts = calloc((size_t)conns, sizeof(*ts));
    hist = calloc(LD_HIST_US + 1, sizeof(*hist));
    if (ts == NULL || hist == NULL)
        return 70;
    pthread_barrier_init(&barrier, NULL, (unsigned)conns + 1);
    for (int i = 0; i < conns; i++) {
        ts[i].index = i;
        ts[i].hist = calloc(LD_HIST_US + 1, sizeof(*ts[i].hist));
        if (ts[i].hist == NULL || pthread_create(&ts[i].tid, NULL, ld_run, &ts[i]) != 0) {
            fprintf(stderr, "ldapclient: cannot start thread %d\n", i);
            return 70;
        }
    }
    pthread_barrier_wait(&barrier);
    start = ld_now();
    t_end = start + (uint64_t)secs * 1000000000u;
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < conns; i++) {
        pthread_join(ts[i].tid, NULL);
        ldap_unbind_ext_s(ts[i].ld, NULL, NULL);
        done += ts[i].done;
        errors += ts[i].errors;
        found += ts[i].found;
        total += ts[i].total;
        for (uint32_t us = 0; us <= LD_HIST_US; us++)
            hist[us] += ts[i].hist[us];
    }
    {
        double elapsed = (double)(t_end - start) / 1e9;
        uint64_t p50 = 0, p99 = 0, seen = 0;
        int got50 = 0;

        for (uint32_t us = 0; us <= LD_HIST_US; us++) {
            seen += hist[us];
            if (!got50 && seen * 100 >= done * 50) {
                p50 = us;
                got50 = 1;
            }
            if (seen * 100 >= done * 99) {
                p99 = us;
                break;
            }
        }
        printf("conns=%d idle=0 lookups=%llu rate=%.0f p50_us=%llu p99_us=%llu mean_us=%.1f "
               "errors=%llu found=%llu\n",
               conns, (unsigned long long)done, (double)done / elapsed, (unsigned long long)p50,
               (unsigned long long)p99, done ? (double)total / (double)done / 1000.0 : 0.0,
               (unsigned long long)errors, (unsigned long long)found);
    }
    return 0;
}
