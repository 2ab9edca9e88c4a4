/*
 * edges - the hub's table of the edges that pull its feeds (docs/protocol.md "Edges"): per
 * edge its name, address, the generation it last said it has, when it was last seen, and so
 * its lag behind the hub in generations and in seconds. Pure logic over a caller's clock
 * (wall-clock seconds passed in), so a unit test drives it with a fake one.
 *
 * An edge names itself in the Rcptdir-Edge request header (1..EDGES_NAME_MAX-1 bytes of
 * letters, digits, '.', '-', '_', ':'); an edge that does not (an older syncd), or names
 * itself with anything else, is known by its address.
 *
 * Lag in seconds: the hub's generations are noted with the time they were first seen
 * (edges_hub_generation(), a ring of the last EDGES_GENS); an edge at generation E behind the
 * hub lags by the time since the first generation after E was seen (at least since the
 * oldest one the ring remembers). An edge at the hub's generation lags 0.
 *
 * Bounds: at most max edges. A new name while the table is full takes the place of the edge
 * seen longest ago, but only if that one is stale (not seen for stale_after seconds);
 * otherwise the new name is not recorded (counted as dropped), so a client inventing names
 * cannot push real edges out. Edges not seen for forget_after seconds are forgotten.
 *
 * Thread safety: every call takes the table's mutex (MHD's thread notes and lists edges,
 * the long-poll watcher notes generations). Ownership: edges_new()/edges_free(); JSON values
 * returned are new references.
 */
#ifndef RCPTDIR_LK_EDGES_H
#define RCPTDIR_LK_EDGES_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#define EDGES_NAME_MAX     64 /* bytes of a name, with its NUL */
#define EDGES_ADDR_MAX     64 /* an address as text, with its NUL */
#define EDGES_GENS         64 /* hub generations remembered with their time */
#define EDGES_MAX          256
#define EDGES_STALE_AFTER  300
#define EDGES_FORGET_AFTER (7 * 86400)

struct edges;

/* edges_new - a table of at most max edges (0: the defaults for each argument) */
struct edges *edges_new(unsigned max, long long stale_after, long long forget_after);
void edges_free(struct edges *t);

/* edges_hub_generation - the hub's store is at gen at time now (noted when it changed) */
void edges_hub_generation(struct edges *t, uint64_t gen, time_t now);

/*
 * edges_seen - an edge named name (NULL or invalid: known by addr) at address addr pulled at
 * generation gen; waiting: its request now waits for a commit (a long poll: the edge counts
 * as seen until it is answered, the next edges_seen()). Returns 1 noted, 0 not noted (table full of
 * edges that are not stale).
 */
int edges_seen(struct edges *t, const char *name, const char *addr, uint64_t gen, int waiting,
               time_t now);

/* edges_left - the waiting request of the edge named so (as edges_seen()) ended unanswered:
 * it no longer counts as seen now */
void edges_left(struct edges *t, const char *name, const char *addr);

/* edges_count - edges known now; *dropped: names not noted, ever */
unsigned edges_count(struct edges *t, uint64_t *dropped);

/* edges_json - the edges as a JSON array (sorted by name), with lag against hub_gen */
json_t *edges_json(struct edges *t, uint64_t hub_gen, time_t now);

/* edges_metrics - per-edge Prometheus gauges and the table's counters */
void edges_metrics(struct edges *t, FILE *fp, uint64_t hub_gen, time_t now);

/* edges_addr_text - a client's address as text (no port) into buf */
void edges_addr_text(const struct sockaddr *sa, char *buf, size_t len);

/* edges_name_ok - a name an edge may give itself */
int edges_name_ok(const char *name);

#endif
