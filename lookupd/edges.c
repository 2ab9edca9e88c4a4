/*
 * edges - the hub's bounded table of its edges; see edges.h. Owns the table and its ring of
 * hub generations; a linear table (EDGES_MAX is small, and an edge pulls at most a few times
 * a minute).
 */
#include "lookupd/edges.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

struct edge {
    char name[EDGES_NAME_MAX];
    char addr[EDGES_ADDR_MAX];
    uint64_t gen;
    time_t first_seen, last_seen;
    int used;
    int waiting; /* its long poll waits: seen now */
};

struct edges {
    pthread_mutex_t mu;
    struct edge *v;
    unsigned max, n;
    long long stale_after, forget_after;
    uint64_t dropped;
    struct {
        uint64_t gen;
        time_t at;
    } ring[EDGES_GENS]; /* ascending generations, the oldest at ring_first */
    unsigned ring_first, ring_n;
};

struct edges *edges_new(unsigned max, long long stale_after, long long forget_after)
{
    struct edges *t = xcalloc(1, sizeof(*t));

    t->max = max > 0 ? max : EDGES_MAX;
    t->stale_after = stale_after > 0 ? stale_after : EDGES_STALE_AFTER;
    t->forget_after = forget_after > 0 ? forget_after : EDGES_FORGET_AFTER;
    t->v = xcalloc(t->max, sizeof(*t->v));
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

void edges_free(struct edges *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->v);
    free(t);
}

void edges_hub_generation(struct edges *t, uint64_t gen, time_t now)
{
    unsigned last;

    pthread_mutex_lock(&t->mu);
    last = (t->ring_first + t->ring_n - 1) % EDGES_GENS;
    if (t->ring_n > 0 && t->ring[last].gen == gen) {
        pthread_mutex_unlock(&t->mu);
        return;
    }
    if (t->ring_n > 0 && t->ring[last].gen > gen)
        t->ring_n = t->ring_first = 0; /* the store went back (restored): start again */
    if (t->ring_n == EDGES_GENS) {
        t->ring_first = (t->ring_first + 1) % EDGES_GENS;
        t->ring_n--;
    }
    last = (t->ring_first + t->ring_n) % EDGES_GENS;
    t->ring[last].gen = gen;
    t->ring[last].at = now;
    t->ring_n++;
    pthread_mutex_unlock(&t->mu);
}

int edges_name_ok(const char *name)
{
    size_t n = 0;

    if (name == NULL)
        return 0;
    for (; name[n] != '\0'; n++) {
        char c = name[n];
        if (n + 1 >= EDGES_NAME_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == ':'))
            return 0;
    }
    return n > 0;
}

/* edges_idle - seconds since e was last seen; 0 while its long poll waits */
static long long edges_idle(const struct edge *e, time_t now)
{
    return e->waiting || now < e->last_seen ? 0 : (long long)(now - e->last_seen);
}

/* edges_forget - drop the edges gone for forget_after seconds (mu held) */
static void edges_forget(struct edges *t, time_t now)
{
    for (unsigned i = 0; i < t->max; i++) {
        if (t->v[i].used && edges_idle(&t->v[i], now) > t->forget_after) {
            t->v[i].used = 0;
            t->n--;
        }
    }
}

int edges_seen(struct edges *t, const char *name, const char *addr, uint64_t gen, int waiting,
               time_t now)
{
    struct edge *e = NULL, *free_slot = NULL, *oldest = NULL;

    if (!edges_name_ok(name))
        name = addr != NULL && *addr != '\0' ? addr : "unknown";
    pthread_mutex_lock(&t->mu);
    edges_forget(t, now);
    for (unsigned i = 0; i < t->max && e == NULL; i++) {
        struct edge *x = &t->v[i];
        if (!x->used) {
            if (free_slot == NULL)
                free_slot = x;
        } else if (strcmp(x->name, name) == 0) {
            e = x;
        } else if (!x->waiting && (oldest == NULL || x->last_seen < oldest->last_seen)) {
            oldest = x;
        }
    }
    if (e == NULL) {
        if (free_slot != NULL) {
            e = free_slot;
            t->n++;
        } else if (oldest != NULL && edges_idle(oldest, now) > t->stale_after) {
            e = oldest; /* a stale edge makes room */
        } else {
            t->dropped++;
            pthread_mutex_unlock(&t->mu);
            return 0;
        }
        memset(e, 0, sizeof(*e));
        e->used = 1;
        e->first_seen = now;
        snprintf(e->name, sizeof(e->name), "%s", name);
    }
    snprintf(e->addr, sizeof(e->addr), "%s", addr != NULL ? addr : "");
    e->gen = gen;
    e->last_seen = now;
    e->waiting = waiting;
    pthread_mutex_unlock(&t->mu);
    return 1;
}

void edges_left(struct edges *t, const char *name, const char *addr)
{
    if (!edges_name_ok(name))
        name = addr != NULL && *addr != '\0' ? addr : "unknown";
    pthread_mutex_lock(&t->mu);
    for (unsigned i = 0; i < t->max; i++)
        if (t->v[i].used && strcmp(t->v[i].name, name) == 0)
            t->v[i].waiting = 0;
    pthread_mutex_unlock(&t->mu);
}

unsigned edges_count(struct edges *t, uint64_t *dropped)
{
    unsigned n;

    pthread_mutex_lock(&t->mu);
    n = t->n;
    if (dropped != NULL)
        *dropped = t->dropped;
    pthread_mutex_unlock(&t->mu);
    return n;
}

/* edges_lag_seconds - how long the hub has had data the edge at gen lacks (mu held) */
static long long edges_lag_seconds(const struct edges *t, uint64_t gen, uint64_t hub_gen,
                                   time_t now)
{
    if (gen >= hub_gen)
        return 0;
    for (unsigned k = 0; k < t->ring_n; k++) {
        unsigned i = (t->ring_first + k) % EDGES_GENS;
        if (t->ring[i].gen > gen)
            return now > t->ring[i].at ? (long long)(now - t->ring[i].at) : 0;
    }
    return 0; /* the ring has not seen the hub's generation yet */
}

/* edges_sorted - indexes of the used entries sorted by name (mu held); the caller frees */
static unsigned *edges_sorted(const struct edges *t, unsigned *n)
{
    unsigned *ix = xcalloc(t->max + 1, sizeof(*ix));

    *n = 0;
    for (unsigned i = 0; i < t->max; i++) {
        unsigned j = (*n)++;
        if (!t->v[i].used) {
            (*n)--;
            continue;
        }
        for (; j > 0 && strcmp(t->v[ix[j - 1]].name, t->v[i].name) > 0; j--)
            ix[j] = ix[j - 1];
        ix[j] = i;
    }
    return ix;
}

json_t *edges_json(struct edges *t, uint64_t hub_gen, time_t now)
{
    json_t *a = json_array();
    unsigned n, *ix;

    pthread_mutex_lock(&t->mu);
    edges_forget(t, now);
    ix = edges_sorted(t, &n);
    for (unsigned k = 0; k < n; k++) {
        const struct edge *e = &t->v[ix[k]];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(e->name));
        json_object_set_new(o, "address", json_string(e->addr));
        json_object_set_new(o, "generation", json_integer((json_int_t)e->gen));
        json_object_set_new(o, "last_seen", json_integer((json_int_t)e->last_seen));
        json_object_set_new(o, "seen_ago", json_integer(edges_idle(e, now)));
        json_object_set_new(o, "waiting", json_boolean(e->waiting));
        json_object_set_new(o, "lag_generations",
                            json_integer((json_int_t)(hub_gen > e->gen ? hub_gen - e->gen : 0)));
        json_object_set_new(o, "lag_seconds",
                            json_integer(edges_lag_seconds(t, e->gen, hub_gen, now)));
        json_object_set_new(o, "stale", json_boolean(edges_idle(e, now) > t->stale_after));
        json_array_append_new(a, o);
    }
    pthread_mutex_unlock(&t->mu);
    free(ix);
    return a;
}

void edges_metrics(struct edges *t, FILE *fp, uint64_t hub_gen, time_t now)
{
    static const char *const help[][3] = {
        {"rcptdir_edge_lag_generations", "Generations an edge is behind this hub."},
        {"rcptdir_edge_lag_seconds", "Seconds this hub has had changes an edge lacks."},
        {"rcptdir_edge_last_seen_seconds", "Seconds since an edge last pulled."},
        {"rcptdir_edge_stale", "1 when an edge has not pulled for edge_stale_after seconds."},
    };
    unsigned n, *ix;

    pthread_mutex_lock(&t->mu);
    edges_forget(t, now);
    ix = edges_sorted(t, &n);
    for (unsigned m = 0; m < sizeof(help) / sizeof(help[0]); m++) {
        fprintf(fp, "# HELP %s %s\n# TYPE %s gauge\n", help[m][0], help[m][1], help[m][0]);
        for (unsigned k = 0; k < n; k++) {
            const struct edge *e = &t->v[ix[k]];
            long long v = m == 0   ? (long long)(hub_gen > e->gen ? hub_gen - e->gen : 0)
                          : m == 1 ? edges_lag_seconds(t, e->gen, hub_gen, now)
                          : m == 2 ? edges_idle(e, now)
                                   : (long long)(edges_idle(e, now) > t->stale_after);
            fprintf(fp, "%s{edge=\"%s\"} %lld\n", help[m][0], e->name, v);
        }
    }
    fprintf(fp,
            "# HELP rcptdir_edges Edges this hub knows.\n"
            "# TYPE rcptdir_edges gauge\n"
            "rcptdir_edges %u\n"
            "# HELP rcptdir_edges_dropped_total Edge names not noted: the table was full.\n"
            "# TYPE rcptdir_edges_dropped_total counter\n"
            "rcptdir_edges_dropped_total %llu\n",
            t->n, (unsigned long long)t->dropped);
    pthread_mutex_unlock(&t->mu);
    free(ix);
}

void edges_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
    buf[0] = '\0';
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                  (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
                  (socklen_t)len);
}
