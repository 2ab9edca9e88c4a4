/*
 * rcptdir-syncd - copy the recipient list from the configured source (source.h: LDAP, LDIF,
 * or an upstream hub's feed) into the LMDB store: one all-or-nothing sync per run, or
 * repeatedly with --watch (after a failure it retries sooner, backing off: 5 s, 10 s, ... up
 * to the interval). It knows no source by name: it begins the sync (apply.h), lets the
 * source run, and commits or aborts.
 *
 * Exit codes (sysexits): 0 done (changed or not), 65 refused by a safety rule, 75
 * temporary source failure (also: another sync holds the lock), 78 configuration error,
 * 73 the store cannot be opened or created, 74 store write error, 64 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/privdrop.h"
#include "schema/conf.h"
#include "schema/confenv.h"
#include "schema/version.h"
#include "schema/store.h"
#include "syncd/apply.h"
#include "syncd/source.h"

#define SYNCD_NAME     "rcptdir-syncd"
#define SYNCD_MAX_GROW 12 /* map doublings one sync may ask for */

struct syncd_opts {
    int watch, dry_run, force, verbose, foreground;
};

static volatile sig_atomic_t syncd_stop;

/* the last syncd_once()'s source waited at the source for news (source_run.waited) */
static int syncd_waited;

static void syncd_on_signal(int sig)
{
    (void)sig;
    syncd_stop = 1;
}

/*
 * syncd_on_sigbus - the store is written through its memory map (MDB_WRITEMAP); when the disk
 * is full, writing a new page of the sparse file raises SIGBUS. The transaction is not
 * committed, so the store keeps its last sync: say so and exit like any store write error.
 */
static void syncd_on_sigbus(int sig)
{
    static const char msg[] = SYNCD_NAME ": store: write failed (SIGBUS: is the disk full?); "
                                         "store unchanged\n";
    ssize_t n;

    (void)sig;
    n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
    _exit(EX_IOERR);
}

static double syncd_elapsed(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/*
 * syncd_log_summary - a sync's lines (the source's note, the summary): info, but debug for a
 * --watch run that changed nothing (an edge polling every few seconds would log tens of
 * thousands of lines a day)
 */
static void syncd_log_summary(const struct syncd_opts *o, const struct apply_stats *s,
                              const char *note, const char *summary)
{
    int quiet = o->watch && !o->dry_run &&
                s->added + s->changed + s->removed + s->domains_added + s->domains_removed == 0;

    for (int i = 0; i < 2; i++) {
        const char *line = i == 0 ? note : summary;
        if (line[0] == '\0')
            continue;
        if (quiet)
            log_debug("sync: %s", line);
        else
            log_info("sync: %s", line);
    }
}

/* syncd_once - one sync, all or nothing; returns a sysexits code */
static int syncd_once(const struct conf *cf, const struct source *src, struct store *st,
                      const struct syncd_opts *o, int *again)
{
    struct source_run r = {0};
    struct apply_opts ao = {0};
    struct apply_stats stats = {0};
    struct timespec start;
    char source[512], err[1024] = "", held[600] = "", summary[512];
    int rc = 0;

    src->describe(cf, source, sizeof(source));
    ao.source = source;
    ao.domains = &cf->domains;
    ao.max_delete_ratio = cf->max_delete_ratio;
    ao.changelog_max = (uint64_t)cf->changelog_max;
    ao.force = o->force;
    ao.dry_run = o->dry_run;
    ao.print = o->dry_run;
    r.cf = cf;
    r.force = o->force;
    r.dry_run = o->dry_run;
    r.progress = isatty(STDERR_FILENO) && !o->dry_run;
    r.stop = &syncd_stop;
    r.watch = o->watch;
    r.err = err;
    r.errlen = sizeof(err);

    for (int attempt = 0; attempt <= SYNCD_MAX_GROW; attempt++) {
        clock_gettime(CLOCK_MONOTONIC, &start);
        if ((rc = apply_begin(&r.apply, st, &ao)) != 0)
            break;
        err[0] = '\0';
        r.note[0] = '\0';
        r.invalid = 0;
        r.again = 0;
        r.held = 0;
        rc = src->run(&r);
        syncd_waited = r.waited;
        if (rc == 0)
            rc = apply_commit(r.apply, r.invalid, &stats);
        else
            apply_abort(r.apply);
        r.apply = NULL;
        if (rc == APPLY_REFUSED && r.can_hold && !r.hold && !o->dry_run) {
            /* a stream's deletes refused: the rest goes live, the deletes wait (--force) */
            snprintf(held, sizeof(held), "%s", stats.refusal[0] ? stats.refusal : err);
            log_warnx("sync: %s; applying the other changes, holding back the deletes", held);
            r.hold = 1;
            attempt--;
            continue;
        }
        if (rc != MDB_MAP_FULL)
            break;
        if ((rc = store_grow(st)) != 0)
            break;
        log_info("sync: store map grown to %zu MB; running the sync again",
                 store_mapsize(st) >> 20);
    }

    *again = r.again;
    if (rc == SOURCE_ERR_CONFIG) { /* retrying will not help: exit 78, "config" in status */
        log_errorx("sync failed, store unchanged: configuration: %s", err);
        if (!o->dry_run)
            apply_note_failure(st, source, "config", err);
        return EX_CONFIG;
    }
    if (rc == SOURCE_ERR || (rc != 0 && err[0] != '\0' && syncd_stop)) {
        if (syncd_stop && err[0] == '\0')
            snprintf(err, sizeof(err), "interrupted");
        log_errorx("sync failed, store unchanged: %s", err);
        if (!o->dry_run)
            apply_note_attempt(st, source, "failed", err, NULL,
                               (uint64_t)(syncd_elapsed(&start) * 1000));
        return EX_TEMPFAIL;
    }
    if (rc == APPLY_REFUSED) {
        const char *why = stats.refusal[0] != '\0' ? stats.refusal : err;
        log_errorx("sync refused, store unchanged: %s (--dry-run shows what would change, --force "
                   "applies it)",
                   why);
        if (!o->dry_run)
            apply_note_attempt(st, source, "refused", why, &stats,
                               (uint64_t)(syncd_elapsed(&start) * 1000));
        return EX_DATAERR;
    }
    if (rc != 0) {
        log_errorx("sync failed, store unchanged: store: %s", store_strerror(rc));
        return EX_IOERR;
    }
    if (r.hold && r.held > 0) { /* committed all but the deletes: still a refusal */
        char why[1024];
        snprintf(why, sizeof(why),
                 "%" PRIu64 " deletes held back (run with --force to apply "
                 "them): %s",
                 r.held, held);
        log_warnx("sync: %s", why);
        apply_note_failure(st, source, "refused", why);
        if (r.note[0] != '\0')
            log_info("sync: %s", r.note);
        return EX_DATAERR;
    }
    snprintf(summary, sizeof(summary),
             "%sgeneration %" PRIu64 ": +%" PRIu64 " ~%" PRIu64 " -%" PRIu64 " = %" PRIu64
             " addresses, %" PRIu64 " domains, %" PRIu64 " entries in %.1f s (%" PRIu64
             " invalid, %" PRIu64 " conflicts)",
             o->dry_run ? "dry run, nothing written: " : "", stats.generation, stats.added,
             stats.changed, stats.removed, stats.addresses, stats.domains, stats.entries,
             syncd_elapsed(&start), r.invalid, stats.conflicts);
    syncd_log_summary(o, &stats, r.note, summary);
    if (o->force && stats.refusal[0] != '\0')
        log_warnx("sync: applied with --force although: %s", stats.refusal);
    return EX_OK;
}

/*
 * syncd_become_user - started as root with [lookupd] user set: make the store directory and
 * the files a sync writes that user's (lookupd, running as it, must open the store's lock
 * file for writing), then drop to it for good. 0, or -1 with the reason logged.
 */
static int syncd_become_user(const struct conf *cf)
{
    static const char *files[] = {"", "/data.mdb", "/lock.mdb", "/sync.lock"};
    char path[4096], err[256];
    uid_t uid;
    gid_t gid;
    int rc;

    if (geteuid() != 0 || cf->user == NULL || cf->user[0] == '\0')
        return 0;
    if (priv_lookup(cf->user, &uid, &gid, err, sizeof(err)) < 0) {
        fatal_status(EX_NOPERM,
                     "privileges: %s: started as root, syncd runs as [lookupd] user = %s; create "
                     "that user (useradd --system %s) or set user = to an existing one",
                     err, cf->user, cf->user);
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct stat sb;
        snprintf(path, sizeof(path), "%s%s", cf->store_path, files[i]);
        if (lstat(path, &sb) == 0 && sb.st_uid == 0 && lchown(path, uid, gid) < 0) {
            log_warn("privileges: cannot give %s to %s", path, cf->user);
            return -1;
        }
    }
    if ((rc = priv_drop(cf->user, err, sizeof(err))) < 0) {
        log_warnx("privileges: %s", err);
        return -1;
    }
    log_debug("privileges: running as %s (%u:%u)", cf->user, (unsigned)uid, (unsigned)gid);
    return 0;
}

/* syncd_lock - one sync at a time per store: wait up to lock_timeout, then give up */
static int syncd_lock(const struct conf *cf)
{
    char path[4096], pid[32];
    int fd;

    snprintf(path, sizeof(path), "%s/sync.lock", cf->store_path);
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
        log_warn("sync: cannot open lock %s", path);
        return -1;
    }
    for (long long waited = 0;; waited++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        if (errno != EWOULDBLOCK || waited >= cf->lock_timeout * 10 || syncd_stop) {
            ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\r\n")] = '\0';
            log_errorx("sync: another sync (pid %s) still holds %s after %lld s; giving up",
                       n > 0 ? pid : "?", path, cf->lock_timeout);
            close(fd);
            return -1;
        }
        usleep(100000);
    }
    if (ftruncate(fd, 0) == 0) {
        int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (pwrite(fd, pid, (size_t)n, 0) < 0)
            log_warn("sync: cannot write pid to %s", path);
    }
    return fd; /* held until the process exits */
}

/* usage - on stdout with exit 0 for --help, else on stderr with exit 64 */
static void usage(int help)
{
    fprintf(help ? stdout : stderr,
            "usage: %s -c FILE [-n] [-v] [-d] [--watch] [--dry-run] [--force]\n"
            "  -c FILE    configuration (rcptdir.conf(5))\n"
            "  -n         check the configuration and exit\n"
            "  -d         log to stderr (default when stderr is a terminal), else syslog\n"
            "  -v         verbose\n"
            "  --watch    sync every [sync] interval seconds until SIGTERM\n"
            "  --dry-run  print what would change; write nothing\n"
            "  --force    apply even when a safety rule refuses\n"
            "  --version  print the version\n"
            "  -h, --help this text\n",
            SYNCD_NAME);
    exit(help ? EX_OK : EX_USAGE);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"check", no_argument, NULL, 'n'},
                                             {"verbose", no_argument, NULL, 'v'},
                                             {"watch", no_argument, NULL, 'w'},
                                             {"dry-run", no_argument, NULL, 'D'},
                                             {"force", no_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    const char *config = NULL;
    struct syncd_opts o = {0};
    struct store *st = NULL;
    struct sigaction sa;
    const struct source *src;
    struct conf cf;
    char err[256];
    int check = 0, ch, rc;

    while ((ch = getopt_long(argc, argv, "c:nvdh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 'n':
            check = 1;
            break;
        case 'v':
            o.verbose = 1;
            break;
        case 'd':
            o.foreground = 1;
            break;
        case 'w':
            o.watch = 1;
            break;
        case 'D':
            o.dry_run = 1;
            break;
        case 'f':
            o.force = 1;
            break;
        case 'h':
            usage(1);
            break;
        case 'V':
            printf("%s %s\n", SYNCD_NAME, RCPTDIR_VERSION);
            return EX_OK;
        default:
            usage(0);
        }
    }
    if (config == NULL || optind != argc)
        usage(0);
    log_init(SYNCD_NAME, o.foreground || isatty(STDERR_FILENO) || check,
             o.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
    log_stamp(!check);
    if ((rc = conf_load_main(&cf, SYNCD_NAME, config, 1, 0)) >= 0)
        return rc;
    if (check) /* the user, the secrets and the store, as the sync will see them */
        return confenv_report(&cf, CONFENV_SYNCD, SYNCD_NAME, config);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = syncd_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = syncd_on_sigbus;
    sigaction(SIGBUS, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (mkdir(cf.store_path, 0750) != 0 && errno != EEXIST) {
        log_errorx("store: cannot create %s: %s; create it (install -d -o %s -m 750 %s)",
                   cf.store_path, strerror(errno), cf.user != NULL && *cf.user ? cf.user : "USER",
                   cf.store_path);
        conf_free(&cf);
        return EX_CANTCREAT;
    }
    if (syncd_become_user(&cf) < 0) {
        conf_free(&cf);
        return EX_NOPERM;
    }
    if (priv_dumpable(cf.allow_core_dumps) < 0)
        log_warn("privileges: prctl PR_SET_DUMPABLE");
    if (syncd_lock(&cf) < 0) {
        conf_free(&cf);
        return EX_TEMPFAIL;
    }
    if ((rc = store_open(&st, cf.store_path, 0, 0)) != 0) {
        log_errorx("store: cannot open %s: %s", cf.store_path, store_strerror(rc));
        conf_free(&cf);
        return EX_CANTCREAT;
    }
    if ((src = source_find(&cf)) == NULL) { /* conf_load_main() checked: cannot happen */
        log_warnx("config: no source configured");
        store_close(st);
        conf_free(&cf);
        return EX_CONFIG;
    }
    if (src->global_init != NULL && src->global_init(err, sizeof(err)) != 0) {
        log_warnx("%s", err);
        store_close(st);
        conf_free(&cf);
        return EX_SOFTWARE;
    }
    for (long long backoff = 5;;) {
        long long wait = cf.interval;
        int again = 0;
        rc = syncd_once(&cf, src, st, &o, &again);
        if (!o.watch || syncd_stop)
            break;
        if (again && (rc == EX_OK || rc == EX_DATAERR)) { /* a live stream: its next batch */
            backoff = 5;
            continue;
        }
        if (rc == EX_TEMPFAIL) { /* retry sooner, less often each time */
            wait = backoff < cf.interval ? backoff : cf.interval;
            backoff *= 2;
            log_info("sync: next attempt in %lld s", wait);
        } else {
            backoff = 5;
            if (syncd_waited) /* the source waited for news itself (a long poll): ask again */
                wait = 0;
        }
        for (long long i = 0; i < wait * 10 && !syncd_stop; i++)
            usleep(100000);
        if (syncd_stop)
            break;
    }
    if (src->global_cleanup != NULL)
        src->global_cleanup();
    if (o.watch)
        log_info("sync: stopped");
    store_close(st);
    conf_free(&cf);
    return o.watch && syncd_stop ? EX_OK : rc;
}
