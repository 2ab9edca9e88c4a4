/*
 * src_dir - the directory sources' sink: map, apply, stop; see src_dir.h.
 */
#include "syncd/src_dir.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "syncd/apply_full.h"

static double src_dir_elapsed(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* src_dir_entry - the sink: map one entry and apply it */
static int src_dir_entry(void *ctx, const struct attrs *a, const char *dn, size_t dnlen,
                         int is_group, int is_disabled)
{
    struct src_dir *d = ctx;
    uint64_t cut = d->stats.range_cut;

    if (*d->run->stop)
        return SOURCE_ERR;
    if (entry_map(&d->map, a, dn, dnlen, is_group, is_disabled, &d->entry, &d->stats) > 0 &&
        d->stats.range_cut == cut) {
        int rc = apply_full_entry(d->run->apply, &d->entry);
        if (rc != 0)
            return rc;
    }
    if (d->stats.range_cut != cut) { /* a partial entry must not be applied: stop */
        char safe[LOG_SAFE_MAX + 4];
        snprintf(d->why, sizeof(d->why),
                 "entry %s: an address attribute has more values than the directory sends in "
                 "one answer (Active Directory range retrieval, ;range=) and the rest could not "
                 "be fetched (an LDIF export); the sync is stopped so that no address goes "
                 "missing",
                 log_safe(safe, sizeof(safe), dn, dnlen));
        return SOURCE_ERR;
    }
    if (d->run->progress && (d->stats.entries & 4095) == 0 && src_dir_elapsed(&d->last) >= 1.0) {
        double t = src_dir_elapsed(&d->start);
        fprintf(stderr, "\rsync: %" PRIu64 " entries, %.0f/s   ", d->stats.entries,
                t > 0 ? (double)d->stats.entries / t : 0.0);
        clock_gettime(CLOCK_MONOTONIC, &d->last);
    }
    return 0;
}

void src_dir_mapping(const struct conf *cf, struct mapping *m)
{
    m->address_attrs = &cf->map_address_attrs;
    m->primary_attr = cf->map_primary_attr;
    m->id_attrs = &cf->map_id_attrs;
    m->addr_flags = conf_addr_flags(cf);
}

int src_dir_open(struct src_dir *d, struct source_run *r)
{
    memset(d, 0, sizeof(*d));
    d->sink.entry = src_dir_entry;
    d->sink.ctx = d;
    d->run = r;
    src_dir_mapping(r->cf, &d->map);
    clock_gettime(CLOCK_MONOTONIC, &d->start);
    d->last = d->start;
    return apply_full_start(r->apply);
}

int src_dir_run(struct source_run *r, src_dir_reader read)
{
    struct src_dir d;
    int rc;

    if ((rc = src_dir_open(&d, r)) == 0)
        rc = read(r->cf, &d.sink, r->err, r->errlen);
    return src_dir_close(&d, rc);
}

int src_dir_close(struct src_dir *d, int rc)
{
    struct source_run *r = d->run;

    if (rc == SOURCE_ERR && r->err[0] == '\0' && d->why[0] != '\0')
        snprintf(r->err, r->errlen, "%s", d->why);
    if (r->progress)
        fprintf(stderr, "\r%60s\r", "");
    r->invalid = d->stats.invalid;
    entry_free(&d->entry);
    return rc;
}
