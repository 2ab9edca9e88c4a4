/*
 * page_fixture - a status snapshot of a fixed night for the page's tests (test_page.c:
 * golden SVG) and for the screenshot in docs/ (build/tests/test_page --demo): 48 syncs every
 * 15 minutes up to 08:00 UTC, four refused around 03:00 and one failed, a day of answers
 * per minute with unknown addresses tripling from 03:00 to 04:00, lookupd started at 12:00
 * the day before. Deterministic. page_fixture_free() frees what it allocates.
 */
#ifndef RCPTDIR_PAGE_FIXTURE_H
#define RCPTDIR_PAGE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookupd/status.h"

#define PAGE_FIXTURE_NOW 1796630400 /* 2026-12-07 08:00:00 UTC */

static inline void page_fixture_fill(struct lk_status *s)
{
    uint64_t gen = 1423;

    memset(s, 0, sizeof(*s));
    s->now = PAGE_FIXTURE_NOW;
    s->version = "0.1.0";
    s->max_age = 3600;
    s->fresh = LOOKUP_FRESH;
    s->nsyncs = 48;
    s->syncs = calloc(s->nsyncs, sizeof(*s->syncs));
    for (size_t i = 0; i < s->nsyncs; i++) { /* newest first */
        struct status_sync *y = &s->syncs[i];
        size_t age = i; /* quarter hours before 07:55 */
        y->time = PAGE_FIXTURE_NOW - 300 - 900 * age;
        y->duration_ms = 1800 + (uint64_t)((i * 7919) % 900);
        y->result = STORE_HIST_OK;
        snprintf(y->source, sizeof(y->source),
                 "ldap://ldap1.example.org ou=people,dc=example,dc=org");
        y->added = (i * 3) % 4 == 0 ? i % 3 : 0;
        y->changed = i % 5 == 0 ? 1 : 0;
        y->removed = i % 7 == 0 ? 1 : 0;
        if (i == 8) /* 05:55 */
            y->added = 57, y->changed = 12;
        if (i >= 17 && i <= 20) { /* 02:55 to 03:40 */
            y->result = STORE_HIST_REFUSED;
            y->added = 0, y->changed = 0, y->removed = 912;
            snprintf(y->error, sizeof(y->error),
                     "refused: the sync would remove 912 of 4210 addresses (21.7%%, "
                     "max_delete_ratio is 10.0%%); run with --dry-run to see them, --force to "
                     "apply");
        }
        if (i == 11) { /* 05:10 */
            y->result = STORE_HIST_FAILED;
            y->duration_ms = 10012;
            y->added = y->changed = y->removed = 0;
            snprintf(y->error, sizeof(y->error),
                     "ldap: connecting at ldap://ldap1.example.org: Can't contact LDAP server");
        }
    }
    for (size_t i = s->nsyncs; i > 0; i--) { /* generations, oldest first */
        struct status_sync *y = &s->syncs[i - 1];
        y->gen_before = gen;
        gen += y->result == STORE_HIST_OK && y->added + y->changed + y->removed > 0;
        y->gen_after = gen;
    }
    for (size_t i = 0; i < s->nsyncs; i++) { /* status_fill() counts these from the store */
        const struct status_sync *y = &s->syncs[i];
        s->day.ok += y->result == STORE_HIST_OK;
        s->day.refused += y->result == STORE_HIST_REFUSED;
        s->day.failed += y->result == STORE_HIST_FAILED;
        if (y->result == STORE_HIST_OK) {
            s->day.added += y->added;
            s->day.changed += y->changed;
            s->day.removed += y->removed;
        }
    }
    s->info.generation = gen;
    s->info.last_attempt = s->info.last_success = s->syncs[0].time;
    s->info.duration_ms = s->syncs[0].duration_ms;
    s->info.addresses = 4210;
    s->info.entries = 3987;
    s->info.domains = 3;
    s->info.invalid = 2;
    snprintf(s->info.source, sizeof(s->info.source), "%s", s->syncs[0].source);
    snprintf(s->info.last_result, sizeof(s->info.last_result), "ok");
    s->nminutes = STATS_MINUTES;
    s->minutes = calloc(s->nminutes, sizeof(*s->minutes));
    for (size_t i = 0; i < s->nminutes; i++) {
        struct stats_minute *m = &s->minutes[i];
        uint64_t hour;
        m->minute = PAGE_FIXTURE_NOW / 60 - s->nminutes + i;
        hour = m->minute / 60 % 24;
        m->known = i >= 240; /* lookupd started at 12:00 */
        if (!m->known)
            continue;
        m->n[STATS_K_VALID] =
            (uint32_t)(hour >= 7 && hour <= 19 ? 90 + (i * 37) % 40 : 30 + (i * 13) % 15);
        m->n[STATS_K_UNKNOWN] = (uint32_t)(6 + (i * 11) % 5);
        if (hour == 3)
            m->n[STATS_K_UNKNOWN] *= 3;
        m->n[STATS_K_DISABLED] = (uint32_t)((i * 7) % 3 == 0);
        m->n[STATS_K_TEMPFAIL] = 0;
        m->p50_us = 25, m->p90_us = 50, m->p99_us = 100;
    }
    for (size_t i = s->nminutes - 60; i < s->nminutes; i++)
        for (size_t k = 0; k < STATS_NKINDS; k++)
            s->answers_hour[k] += s->minutes[i].n[k];
    s->domains = calloc(3, sizeof(*s->domains));
    s->ndomains = 3;
    snprintf(s->domains[0], sizeof(s->domains[0]), "example.com");
    snprintf(s->domains[1], sizeof(s->domains[1]), "example.net");
    snprintf(s->domains[2], sizeof(s->domains[2]), "example.org");
    s->harvest = json_pack("{s:i,s:i,s:[{s:s,s:i,s:i}]}", "threshold", 25, "window", 3600,
                           "offenders", "client", "203.0.113.0/24", "count", 57, "remaining", 1740);
    s->verdict = status_verdict_of(s, s->reason, sizeof(s->reason));
}

static inline void page_fixture_free(struct lk_status *s)
{
    free(s->syncs);
    free(s->minutes);
    free(s->domains);
    if (s->harvest != NULL)
        json_decref(s->harvest);
}

#endif
