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
 * made, 73/74 the pid file cannot be created/written, 74 also when data.mdb shrank under a
 * running lookupd (SIGBUS), 1 any other fatal error (fatal()); with -q as above.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/cidr.h"
#include "common/fsutil.h"
#include "common/listen.h"
#include "common/log.h"
#include "common/privdrop.h"
#include "common/xmalloc.h"
#include "lookupd/ctl.h"
#include "lookupd/db.h"
#include "lookupd/http.h"
#include "lookupd/lookup.h"
#include "lookupd/policy.h"
#include "lookupd/sockmap.h"
#include "lookupd/stats.h"
#include "schema/conf.h"
#include "schema/confenv.h"
#include "schema/version.h"

#define LOOKUPD_NAME    "rcptdir-lookupd"
#define LOOKUPD_VERSION RCPTDIR_VERSION
#define LOOKUPD_BACKLOG 1024
/* descriptors besides connections: listeners, the store, epoll sets, logging */
#define LOOKUPD_FD_RESERVE 64

/* usage - the synopsis: on stdout with exit 0 for --help, else on stderr with exit 64 */
static void usage(int help)
{
    fprintf(help ? stdout : stderr,
            "usage: %s -c FILE [-d] [-v] [-n] [-q ADDRESS [--explain]]\n"
            "       %s -c FILE --list|--domains|--entries|--count [--domain D] [--json]\n"
            "  -c FILE     configuration (rcptdir.conf(5))\n"
            "  -d          log to stderr instead of syslog\n"
            "  -v          verbose\n"
            "  -n          check the configuration and exit\n"
            "  -q ADDRESS  one lookup, printed as JSON; exit 0 valid, 1 not, 75 temporary\n"
            "  --explain   with -q: the rule that matched, the entry, the store's age\n"
            "  --list      the stored addresses: address, kind, state, primary\n"
            "  --domains   the managed domains\n"
            "  --entries   the entries: id, state, kind, addresses\n"
            "  --count     how many addresses, domains, entries (by kind and state)\n"
            "  --domain D  only those of domain D\n"
            "  --json      one JSON object a line\n"
            "  --version   print the version\n"
            "  -h, --help  this text\n",
            LOOKUPD_NAME, LOOKUPD_NAME);
    exit(help ? EX_OK : EX_USAGE);
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

/* lookupd_no_user - started as root, but user does not exist: an error that says what to do */
static void lookupd_no_user(const char *user, const char *err)
{
    fatal_status(EX_NOUSER,
                 "privileges: %s: started as root, lookupd runs as [lookupd] user = %s; create "
                 "that user (useradd --system %s) or set user = to an existing one",
                 err, user, user);
}

/* lookupd_socket_owner - who a unix socket belongs to: user (as root), socket_group */
static void lookupd_socket_owner(const struct conf *cf, struct listen_spec *ls)
{
    char err[256];
    uid_t uid;
    gid_t gid;

    ls->mode = (unsigned)strtoul(cf->socket_mode, NULL, 8);
    ls->uid = ls->gid = -1;
    if (geteuid() == 0 && cf->user != NULL && *cf->user != '\0') {
        if (priv_lookup(cf->user, &uid, &gid, err, sizeof(err)) < 0)
            lookupd_no_user(cf->user, err);
        ls->uid = (long)uid;
        ls->gid = (long)gid;
        ls->owner_set = 1;
    }
    if (cf->socket_group != NULL && *cf->socket_group != '\0') {
        struct group *gr = getgrnam(cf->socket_group);
        if (gr == NULL)
            fatal_status(EX_CONFIG, "socket_group: no group %s", cf->socket_group);
        ls->gid = (long)gr->gr_gid;
        ls->owner_set = 1;
    }
}

/*
 * lookupd_rundir - a unix: socket's directory (/run/rcptdir) is created when missing, as
 * systemd's RuntimeDirectory= would: mode 0755, the user's when started as root. Its parent
 * must exist; a failure says what to create. Exits 71 (EX_OSERR) on failure.
 */
static void lookupd_rundir(const struct listen_spec *ls)
{
    char dir[LISTEN_PATH_MAX], *slash;
    struct stat sb;

    snprintf(dir, sizeof(dir), "%s", ls->path);
    if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
        return;
    *slash = '\0';
    if (stat(dir, &sb) == 0 || errno != ENOENT)
        return;
    if (mkdir(dir, 0755) < 0)
        fatal_status(EX_OSERR,
                     "listen: unix:%s: cannot create its directory %s: %s; create it (install -d "
                     "-m 755 %s) or let systemd do it (RuntimeDirectory=rcptdir)",
                     ls->path, dir, strerror(errno), dir);
    if (ls->owner_set && ls->uid >= 0 && chown(dir, (uid_t)ls->uid, (gid_t)-1) < 0)
        log_warn("listen: cannot give %s to uid %ld", dir, ls->uid);
    log_info("listen: created %s for unix:%s", dir, ls->path);
}

/* lookupd_listen - open one listener or die */
static int lookupd_listen(const struct conf *cf, const char *spec, int *is_unix)
{
    struct listen_spec ls;
    char err[256], name[LISTEN_HOST_MAX + LISTEN_PATH_MAX + 16];
    int fd;

    if (listen_parse(spec, &ls, err, sizeof(err)) < 0)
        fatal_status(EX_CONFIG, "listen: %s: %s", spec, err);
    if (ls.is_unix) {
        lookupd_socket_owner(cf, &ls);
        lookupd_rundir(&ls);
    }
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
        lookupd_no_user(user, err);
    if (rc < 0)
        fatalx("privileges: %s", err);
    if (rc > 0)
        log_info("privileges: running as %s (%u:%u)", user, (unsigned)getuid(), (unsigned)getgid());
}

/*
 * lookupd_nofile - raise the soft descriptor limit for max_connections (twice when the
 * policy service runs: it has a cap of its own) and the HTTP connections, then fit them into
 * what is allowed: a server that runs out of descriptors cannot accept, and libmicrohttpd
 * then retries the accept in a loop. Each HTTP connection takes two descriptors (http.c
 * keeps a duplicate for its request deadline).
 */
static void lookupd_nofile(long long max_conns, int policy, int http, long long *conns,
                           unsigned *http_conns, unsigned *waiters)
{
    long long users = policy ? 2 : 1;
    long long want =
        users * max_conns + (http ? 2LL * (HTTP_CONN_LIMIT + *waiters) : 0) + LOOKUPD_FD_RESERVE;
    long long avail;
    struct rlimit rl;

    *conns = max_conns;
    *http_conns = HTTP_CONN_LIMIT;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < (rlim_t)want) {
        rl.rlim_cur =
            rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)want ? (rlim_t)want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
            return;
    }
    if (rl.rlim_cur >= (rlim_t)want)
        return;
    avail = (long long)rl.rlim_cur - LOOKUPD_FD_RESERVE;
    if (avail < 64)
        fatal_status(EX_OSERR,
                     "lookupd: only %llu descriptors allowed (ulimit -n); at least %d needed",
                     (unsigned long long)rl.rlim_cur, LOOKUPD_FD_RESERVE + 64);
    if (http && 2LL * (HTTP_CONN_LIMIT + *waiters) > avail / 2) {
        *http_conns = (unsigned)(avail / 8);
        *waiters = *waiters < *http_conns ? *waiters : *http_conns; /* long polls: a share */
    }
    if (users * max_conns > avail - (http ? 2LL * (*http_conns + *waiters) : 0))
        *conns = (avail - (http ? 2LL * (*http_conns + *waiters) : 0)) / users;
    log_warnx("lookupd: only %llu descriptors allowed (ulimit -n): max_connections %lld, HTTP "
              "connections %u",
              (unsigned long long)rl.rlim_cur, *conns, http ? *http_conns : 0);
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

/* lookupd_policy - the policy server on the listeners fds (policy_listen), or NULL */
static struct policy *lookupd_policy(const struct conf *cf, int *fds, long long max_conns,
                                     struct lk_db *db, const struct lookup_opts *opts)
{
    struct policy_params pp = {0};
    struct cidr_net *exempt;
    struct policy *pol;

    if (cf->policy_listen.n == 0)
        return NULL;
    exempt = xcalloc(cf->harvest_exempt.n + 1, sizeof(*exempt));
    for (size_t i = 0; i < cf->harvest_exempt.n; i++)
        if (cidr_net_parse(cf->harvest_exempt.v[i], &exempt[i]) < 0) /* checked by conf */
            fatal_status(EX_CONFIG, "harvest_exempt: %s", cf->harvest_exempt.v[i]);
    pp.fds = fds;
    pp.nfds = cf->policy_listen.n;
    pp.max_connections = max_conns;
    pp.idle_timeout = cf->policy_idle_timeout;
    pp.disconnect = cf->harvest_disconnect;
    pp.harvest.threshold = cf->harvest_threshold;
    pp.harvest.prefix_threshold = cf->harvest_prefix_threshold;
    pp.harvest.window = cf->harvest_window;
    pp.harvest.penalty = cf->harvest_penalty;
    pp.harvest.max_entries = cf->harvest_max_clients;
    pp.harvest.prefix4 = (int)cf->harvest_prefix_v4;
    pp.harvest.prefix6 = (int)cf->harvest_prefix_v6;
    pp.harvest.exempt = exempt;
    pp.harvest.nexempt = cf->harvest_exempt.n;
    pol = policy_new(&pp, db, opts);
    free(exempt);
    policy_start(pol);
    log_info("policy: harvest defence: %lld unknown recipients per client, %lld per prefix "
             "(/%lld, /%lld) within %lld s, penalty %lld s, %lld clients tracked at most",
             cf->harvest_threshold, cf->harvest_prefix_threshold, cf->harvest_prefix_v4,
             cf->harvest_prefix_v6, cf->harvest_window, cf->harvest_penalty,
             cf->harvest_max_clients);
    return pol;
}

/*
 * lookupd_on_sigbus - the store is read through its memory map: when data.mdb is cut shorter
 * than its pages while lookupd has it open (a careless copy or truncate), the first read past
 * the new end raises SIGBUS. No lookup can go on safely: say why and exit, so that the service
 * manager's restart finds the file truncated on open (lk_db_check_size) and answers TEMP with
 * the reason, instead of dying unexplained. Only async-signal-safe calls.
 */
static void lookupd_on_sigbus(int sig)
{
    static const char msg[] =
        LOOKUPD_NAME ": store: read past the end of data.mdb (SIGBUS): the file was truncated "
                     "while open; exiting (a restart answers TEMP until it is restored)\n";
    ssize_t n;

    (void)sig;
    n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)n;
    _exit(EX_IOERR);
}

/* lookupd_serve - run the servers until SIGTERM or SIGINT */
static int lookupd_serve(const struct conf *cf, const struct lookup_opts *opts)
{
    struct sockmap_params sp = {0};
    struct http_params hp = {0};
    struct sockmap *sm;
    struct policy *pol;
    struct lk_http *http = NULL;
    struct lk_db *db;
    sigset_t set;
    int *fds, *is_unix, *pfds, httpfd = -1, sig;
    char *token, *feed_token;
    long long sockmap_conns;
    unsigned http_conns, waiters = (unsigned)cf->feed_waiters;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGBUS, lookupd_on_sigbus);
    priv_dumpable(cf->allow_core_dumps); /* again after the drop, which may reset it */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* every thread started from here on inherits the mask; this thread waits for them */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    lookupd_nofile(cf->max_connections, cf->policy_listen.n > 0,
                   cf->http_listen != NULL && *cf->http_listen != '\0', &sockmap_conns, &http_conns,
                   &waiters);

    /* as root: bind, write the pid file; then drop */
    fds = xcalloc(cf->socketmap_listen.n + 1, sizeof(*fds));
    is_unix = xcalloc(cf->socketmap_listen.n + 1, sizeof(*is_unix));
    for (size_t i = 0; i < cf->socketmap_listen.n; i++)
        fds[i] = lookupd_listen(cf, cf->socketmap_listen.v[i], &is_unix[i]);
    pfds = xcalloc(cf->policy_listen.n + 1, sizeof(*pfds));
    for (size_t i = 0; i < cf->policy_listen.n; i++)
        pfds[i] = lookupd_listen(cf, cf->policy_listen.v[i], NULL);
    if (cf->http_listen != NULL && *cf->http_listen != '\0')
        httpfd = lookupd_listen(cf, cf->http_listen, NULL);
    lookupd_pidfile(cf->pid_file);
    lookupd_drop(cf->user);
    /* secrets are read as the user the server runs as, like syncd's (schema/confenv.h) */
    token = lookupd_token(cf->http_token_file);
    feed_token = lookupd_token(cf->feed_token_file);
    if (priv_dumpable(cf->allow_core_dumps) < 0)
        log_warn("privileges: prctl PR_SET_DUMPABLE");

    db = lk_db_new(cf->store_path);
    sp.fds = fds;
    sp.is_unix = is_unix;
    sp.nfds = cf->socketmap_listen.n;
    sp.threads = (int)cf->threads;
    sp.max_connections = sockmap_conns;
    sp.max_per_peer = cf->max_per_peer;
    sp.idle_timeout = cf->idle_timeout;
    sm = sockmap_new(&sp, db, opts);
    sockmap_start(sm);
    pol = lookupd_policy(cf, pfds, sockmap_conns, db, opts);
    if (httpfd >= 0) {
        hp.fd = httpfd;
        hp.token = token;
        hp.feed_token = feed_token;
        hp.version = LOOKUPD_VERSION;
        hp.max_age = cf->max_age;
        hp.conn_limit = http_conns;
        hp.timeout = (unsigned)cf->http_timeout;
        hp.request_timeout = (unsigned)cf->http_request_timeout;
        hp.feed_streams = (unsigned)cf->feed_streams;
        hp.feed_waiters = waiters;
        hp.edges_max = (unsigned)cf->edges_max;
        hp.edge_stale_after = cf->edge_stale_after;
        hp.edge_forget_after = cf->edge_forget_after;
        hp.unknown_rate = (unsigned)cf->http_unknown_rate;
        hp.policy = pol;
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
    policy_stop(pol);
    policy_join(pol);
    http_stop(http);
    sockmap_free(sm);
    policy_free(pol);
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
    free(pfds);
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
                                             /* the operator's tools (ctl.h) */
                                             {"version", no_argument, NULL, 'V'},
                                             {"explain", no_argument, NULL, 'E'},
                                             {"list", no_argument, NULL, 'L' + 256},
                                             {"domains", no_argument, NULL, 'D' + 256},
                                             {"entries", no_argument, NULL, 'N' + 256},
                                             {"count", no_argument, NULL, 'C' + 256},
                                             {"domain", required_argument, NULL, 'O' + 256},
                                             {"json", no_argument, NULL, 'J' + 256},
                                             {NULL, 0, NULL, 0}};
    const char *config = NULL, *query = NULL;
    struct ctl_opts co = {0};
    int explain = 0, list = -1;
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
        case 'h':
            usage(1);
            break;
        case 'V':
            printf("%s %s\n", LOOKUPD_NAME, RCPTDIR_VERSION);
            return EX_OK;
        case 'E':
            explain = 1;
            break;
        case 'L' + 256:
            list = CTL_LIST;
            break;
        case 'D' + 256:
            list = CTL_DOMAINS;
            break;
        case 'N' + 256:
            list = CTL_ENTRIES;
            break;
        case 'C' + 256:
            list = CTL_COUNT;
            break;
        case 'O' + 256:
            co.domain = optarg;
            break;
        case 'J' + 256:
            co.json = 1;
            break;
        default:
            usage(0);
        }
    }
    if (config == NULL || optind != argc || (explain && query == NULL))
        usage(0);
    log_init(LOOKUPD_NAME, foreground || check || query != NULL || list >= 0,
             verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
    log_stamp(!check && query == NULL && list < 0);
    if ((rc = conf_load_main(&cf, LOOKUPD_NAME, config, 0, 0)) >= 0)
        return rc;
    if (check) /* the user, the tokens and the store, as the server will see them */
        return confenv_report(&cf, CONFENV_LOOKUPD, LOOKUPD_NAME, config);
    opts.addr_flags = conf_addr_flags(&cf);
    opts.delims = cf.recipient_delimiter;
    opts.max_age = cf.max_age;
    if (query != NULL || list >= 0) {
        if (!verbose)
            log_set_level(LOG_LEVEL_ERR);
        rc = list >= 0 ? ctl_list(&cf, (enum ctl_what)list, &co)
             : explain ? ctl_explain(&cf, &opts, query)
                       : lookupd_query(&cf, &opts, query);
    } else {
        rc = lookupd_serve(&cf, &opts);
    }
    conf_free(&cf);
    return rc;
}
