/*
 * rcptdir-lookupd - answer recipient lookups from the store over socketmap and HTTP.
 *
 * Runs in the foreground (systemd style): binds its sockets, drops to the configured user,
 * then serves until SIGTERM or SIGINT, after answering the requests already read. SIGHUP
 * reopens the log. Logs go to syslog (LOG_MAIL), or to stderr with -d.
 *
 *   rcptdir-lookupd -c FILE [-d] [-v]   serve
 *   rcptdir-lookupd -c FILE -n          check the configuration
 *   rcptdir-lookupd -c FILE -q ADDRESS  one lookup, printed as the HTTP route's JSON;
 *                                       exit 0 valid, 1 not valid, 75 temporary failure
 *
 * Exit codes (sysexits): 0 done, 64 usage, 78 configuration error (also a bad listen
 * address or token file), 67 the configured user does not exist, 71 a listener cannot be
 * made, 73/74 the pid file cannot be created/written, 1 any other fatal error (fatal());
 * with -q as above.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/listen.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/xmalloc.h"
#include "lookupd/db.h"
#include "lookupd/http.h"
#include "lookupd/lookup.h"
#include "lookupd/sockmap.h"
#include "lookupd/stats.h"
#include "schema/conf.h"

#define LOOKUPD_NAME    "rcptdir-lookupd"
#define LOOKUPD_VERSION "0.1.0"
#define LOOKUPD_BACKLOG 1024

/* usage - the synopsis, then exit 64 */
static void usage(void)
{
    fprintf(stderr, "usage: %s -c FILE [-d] [-v] [-n] [-q ADDRESS]\n", LOOKUPD_NAME);
    exit(EX_USAGE);
}

/* lookupd_query - -q ADDRESS: print the JSON of /v1/recipients; exit 0, 1 or 75 */
static int lookupd_query(const struct conf *cf, const struct lookup_opts *opts, const char *addr)
{
    struct lk_reader rd = {0};
    struct lookup_answer ans;
    struct lk_db *db = lk_db_new(cf->store_path);
    json_t *v;
    char *text;
    int rc;

    rc = lk_db_lookup(db, &rd, opts, 0, addr, strlen(addr), &ans);
    lk_db_reader_close(db, &rd);
    lk_db_free(db);
    v = http_answer_json(addr, strlen(addr), &ans);
    text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(v);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    if (rc < 0)
        return EX_TEMPFAIL;
    return ans.result == LOOKUP_VALID ? 0 : 1;
}

/* lookupd_listen - open one listener or die */
static int lookupd_listen(const char *spec, int *is_unix)
{
    struct listen_spec ls;
    char err[256], name[LISTEN_HOST_MAX + LISTEN_PATH_MAX + 16];
    int fd;

    if (listen_parse(spec, &ls, err, sizeof(err)) < 0)
        fatal_status(EX_CONFIG, "listen: %s: %s", spec, err);
    if ((fd = listen_open(&ls, LOOKUPD_BACKLOG, err, sizeof(err))) < 0)
        fatal_status(EX_OSERR, "listen: %s: %s", spec, err);
    listen_format(&ls, name, sizeof(name));
    log_info("listen: %s", name);
    if (is_unix != NULL)
        *is_unix = ls.is_unix;
    return fd;
}

/* lookupd_token - read a bearer token file, or NULL when none is configured */
static char *lookupd_token(const char *path)
{
    char buf[HTTP_TOKEN_MAX + 1], err[256];
    long n;

    if (path == NULL || *path == '\0')
        return NULL;
    if ((n = fs_read_secret(path, buf, sizeof(buf), err, sizeof(err))) < 0)
        fatal_status(EX_CONFIG, "token: %s", err);
    if (n == 0)
        fatal_status(EX_CONFIG, "token: %s: empty", path);
    return xstrdup(buf);
}

/* lookupd_drop - become user for good, or exit */
static void lookupd_drop(const char *user)
{
    char err[256];
    int rc = priv_drop(user, err, sizeof(err));

    if (rc == -2)
        fatal_status(EX_NOUSER, "privileges: %s", err);
    if (rc < 0)
        fatalx("privileges: %s", err);
    if (rc > 0)
        log_info("privileges: running as %s (%u:%u)", user, (unsigned)getuid(), (unsigned)getgid());
}

/* lookupd_nofile - raise the soft descriptor limit for max_connections */
static void lookupd_nofile(long long want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= (rlim_t)want)
        return;
    rl.rlim_cur =
        rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)want ? (rlim_t)want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        log_warn("lookupd: setrlimit NOFILE");
    if (rl.rlim_cur < (rlim_t)want)
        log_warnx("lookupd: only %llu descriptors allowed; max_connections may not be reached",
                  (unsigned long long)rl.rlim_cur);
}

/* lookupd_pidfile - write the process id */
static void lookupd_pidfile(const char *path)
{
    FILE *fp;
    int fd;

    if (path == NULL || *path == '\0')
        return;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0 ||
        (fp = fdopen(fd, "w")) == NULL)
        fatal_status(EX_CANTCREAT, "pid_file: %s", path);
    fprintf(fp, "%ld\n", (long)getpid());
    if (fclose(fp) != 0)
        fatal_status(EX_IOERR, "pid_file: %s", path);
}

/* lookupd_serve - run the servers until SIGTERM or SIGINT */
static int lookupd_serve(const struct conf *cf, const struct lookup_opts *opts)
{
    struct sockmap_params sp = {0};
    struct http_params hp = {0};
    struct sockmap *sm;
    struct lk_http *http = NULL;
    struct lk_db *db;
    sigset_t set;
    int *fds, *is_unix, httpfd = -1, sig;
    char *token, *feed_token;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* every thread started from here on inherits the mask; this thread waits for them */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    lookupd_nofile(cf->max_connections + 64);

    /* as root: bind, read secrets, write the pid file; then drop */
    fds = xcalloc(cf->socketmap_listen.n + 1, sizeof(*fds));
    is_unix = xcalloc(cf->socketmap_listen.n + 1, sizeof(*is_unix));
    for (size_t i = 0; i < cf->socketmap_listen.n; i++)
        fds[i] = lookupd_listen(cf->socketmap_listen.v[i], &is_unix[i]);
    if (cf->http_listen != NULL && *cf->http_listen != '\0')
        httpfd = lookupd_listen(cf->http_listen, NULL);
    token = lookupd_token(cf->http_token_file);
    feed_token = lookupd_token(cf->feed_token_file);
    lookupd_pidfile(cf->pid_file);
    lookupd_drop(cf->user);

    db = lk_db_new(cf->store_path);
    sp.fds = fds;
    sp.is_unix = is_unix;
    sp.nfds = cf->socketmap_listen.n;
    sp.threads = (int)cf->threads;
    sp.max_connections = cf->max_connections;
    sp.idle_timeout = cf->idle_timeout;
    sm = sockmap_new(&sp, db, opts);
    sockmap_start(sm);
    if (httpfd >= 0) {
        hp.fd = httpfd;
        hp.token = token;
        hp.feed_token = feed_token;
        hp.version = LOOKUPD_VERSION;
        hp.max_age = cf->max_age;
        http = http_start(&hp, db, opts);
    }
    log_info("lookupd: ready, version %s, %lld socketmap threads, store %s", LOOKUPD_VERSION,
             cf->threads, cf->store_path);

    for (;;) {
        if ((sig = sigwaitinfo(&set, NULL)) < 0) {
            if (errno == EINTR)
                continue;
            fatal("lookupd: sigwaitinfo");
        }
        if (sig == SIGHUP) {
            log_reopen();
            log_info("lookupd: SIGHUP, log reopened");
            continue;
        }
        log_info("lookupd: %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    sockmap_stop(sm);
    sockmap_join(sm);
    http_stop(http);
    sockmap_free(sm);
    lk_db_free(db);
    if (cf->pid_file != NULL && *cf->pid_file != '\0' && unlink(cf->pid_file) < 0 &&
        errno != ENOENT)
        log_warn("pid_file: cannot remove %s", cf->pid_file);
    for (char **t = (char *[]){token, feed_token}, **e = t + 2; t < e; t++)
        if (*t != NULL) {
            explicit_bzero(*t, strlen(*t));
            free(*t);
        }
    free(fds);
    free(is_unix);
    stats_free_all();
    log_info("lookupd: stopped");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"check", no_argument, NULL, 'n'},
                                             {"debug", no_argument, NULL, 'd'},
                                             {"verbose", no_argument, NULL, 'v'},
                                             {"query", required_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *config = NULL, *query = NULL;
    struct lookup_opts opts;
    struct conf cf;
    int check = 0, verbose = 0, foreground = 0, ch, rc;

    while ((ch = getopt_long(argc, argv, "c:ndvq:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 'n':
            check = 1;
            break;
        case 'd':
            foreground = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'q':
            query = optarg;
            break;
        default:
            usage();
        }
    }
    if (config == NULL || optind != argc)
        usage();
    log_init(LOOKUPD_NAME, foreground || check || query != NULL,
             verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
    if ((rc = conf_load_main(&cf, LOOKUPD_NAME, config, 0, check)) >= 0)
        return rc;
    opts.addr_flags = conf_addr_flags(&cf);
    opts.delims = cf.recipient_delimiter;
    opts.max_age = cf.max_age;
    if (query != NULL) {
        if (!verbose)
            log_set_level(LOG_LEVEL_ERR);
        rc = lookupd_query(&cf, &opts, query);
    } else {
        rc = lookupd_serve(&cf, &opts);
    }
    conf_free(&cf);
    return rc;
}
