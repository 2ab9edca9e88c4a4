/*
 * confenv - -n's checks of the user, the secrets and the store, as the service user; see
 * confenv.h.
 */
#include "schema/confenv.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/privdrop.h"

#define CONFENV_OUT 8192 /* the messages of one check, newline-separated */

/* what the checks need to know besides cf */
struct confenv_ctx {
    const struct conf *cf;
    enum confenv_prog prog;
    const char *progname;
    const char *user; /* the user the program runs as, for messages */
    int as_root;      /* started as root: syncd creates the store and repairs root-owned files */
    char *out;
    size_t len;
};

/* confenv_add - one message line into ctx->out */
static void confenv_add(struct confenv_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void confenv_add(struct confenv_ctx *c, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (c->len + 2 >= CONFENV_OUT)
        return;
    va_start(ap, fmt);
    n = vsnprintf(c->out + c->len, CONFENV_OUT - c->len - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    c->len += (size_t)n < CONFENV_OUT - c->len - 1 ? (size_t)n : CONFENV_OUT - c->len - 2;
    c->out[c->len++] = '\n';
    c->out[c->len] = '\0';
}

/* confenv_secret - a secret file the program reads, as it will read it */
static void confenv_secret(struct confenv_ctx *c, const char *key, const char *path)
{
    char msg[1024];

    if (path == NULL || *path == '\0')
        return;
    if (fs_read_secret(path, NULL, 0, msg, sizeof(msg)) < 0)
        confenv_add(c, "%s: %s", key, msg);
}

/* confenv_writable - path (a directory or a store file) can be written by the user */
static void confenv_writable(struct confenv_ctx *c, const char *path, int dir)
{
    if (access(path, dir ? (W_OK | X_OK) : (R_OK | W_OK)) == 0)
        return;
    confenv_add(c,
                "[store] path: %s is not writable by user %s (%s): %s runs as that user; "
                "chown -R %s %s",
                path, c->user, strerror(errno), c->progname, c->user, c->cf->store_path);
}

/* confenv_store - the store directory as the program will use it */
static void confenv_store(struct confenv_ctx *c)
{
    static const char *files[] = {"/data.mdb", "/lock.mdb", "/sync.lock"};
    const char *store = c->cf->store_path;
    char path[4096];
    struct stat sb;

    if (stat(store, &sb) < 0) {
        if (errno != ENOENT) {
            confenv_add(c, "[store] path: %s: %s", store, strerror(errno));
            return;
        }
        if (c->prog == CONFENV_LOOKUPD) /* answers "try again later" until the first sync */
            return;
        snprintf(path, sizeof(path), "%s", store);
        if (c->as_root) { /* syncd creates it as root, then gives it to the user */
            if (stat(dirname(path), &sb) < 0 || !S_ISDIR(sb.st_mode))
                confenv_add(c,
                            "[store] path: %s does not exist, nor does its parent %s: create "
                            "it (install -d -o %s -m 750 %s)",
                            store, path, c->user, store);
        } else if (access(dirname(path), W_OK | X_OK) < 0) {
            confenv_add(c,
                        "[store] path: %s does not exist and user %s cannot create it: "
                        "create it (install -d -o %s -m 750 %s)",
                        store, c->user, c->user, store);
        }
        return;
    }
    if (!S_ISDIR(sb.st_mode)) {
        confenv_add(c, "[store] path: %s is not a directory", store);
        return;
    }
    /* started as root, syncd gives a root-owned store directory and files to the user */
    if (!(c->prog == CONFENV_SYNCD && c->as_root && sb.st_uid == 0))
        confenv_writable(c, store, 1);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", store, files[i]);
        if (stat(path, &sb) < 0 || (c->prog == CONFENV_SYNCD && c->as_root && sb.st_uid == 0))
            continue;
        if (c->prog == CONFENV_LOOKUPD && i == 2) /* the sync lock is syncd's */
            continue;
        confenv_writable(c, path, 0);
    }
}

/* confenv_run - every check of prog, as the current user */
static void confenv_run(struct confenv_ctx *c)
{
    const struct conf *cf = c->cf;

    if (c->prog == CONFENV_SYNCD) {
        if (cf->sec_ldap)
            confenv_secret(c, "[ldap] bind_pw_file", cf->ldap_bind_pw_file);
        if (cf->sec_upstream)
            confenv_secret(c, "[upstream] token_file", cf->up_token_file);
        if (cf->sec_ldif && cf->ldif_path != NULL && access(cf->ldif_path, R_OK) < 0)
            confenv_add(c, "[ldif] path: user %s cannot read %s: %s", c->user, cf->ldif_path,
                        strerror(errno));
    } else {
        confenv_secret(c, "[lookupd] http_token_file", cf->http_token_file);
        confenv_secret(c, "[lookupd] feed_token_file", cf->feed_token_file);
    }
    confenv_store(c);
}

/* confenv_as_user - confenv_run() in a child that has become user; its lines into c->out */
static void confenv_as_user(struct confenv_ctx *c)
{
    char err[256];
    ssize_t n;
    pid_t pid;
    int p[2], status;

    if (pipe(p) < 0) {
        confenv_add(c, "cannot check as user %s: pipe: %s", c->user, strerror(errno));
        return;
    }
    fflush(NULL);
    if ((pid = fork()) < 0) {
        confenv_add(c, "cannot check as user %s: fork: %s", c->user, strerror(errno));
        close(p[0]);
        close(p[1]);
        return;
    }
    if (pid == 0) {
        close(p[0]);
        if (priv_drop(c->user, err, sizeof(err)) < 0)
            confenv_add(c, "[lookupd] user: %s", err);
        else
            confenv_run(c);
        for (size_t off = 0; off < c->len; off += (size_t)n)
            if ((n = write(p[1], c->out + off, c->len - off)) <= 0)
                break;
        _exit(0);
    }
    close(p[1]);
    while (c->len + 1 < CONFENV_OUT &&
           ((n = read(p[0], c->out + c->len, CONFENV_OUT - 1 - c->len)) > 0 ||
            (n < 0 && errno == EINTR)))
        if (n > 0)
            c->len += (size_t)n;
    c->out[c->len] = '\0';
    close(p[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
}

int confenv_check(const struct conf *cf, enum confenv_prog prog, const char *progname,
                  const char *path, struct cfg_errors *errs)
{
    char out[CONFENV_OUT] = "", err[256], self[64];
    struct confenv_ctx c = {cf, prog, progname, NULL, geteuid() == 0, out, 0};
    struct passwd *pw;
    uid_t uid;
    gid_t gid;
    size_t before = errs->n;
    int drop = c.as_root && cf->user != NULL && cf->user[0] != '\0';

    if (cf->user != NULL && cf->user[0] != '\0' &&
        priv_lookup(cf->user, &uid, &gid, err, sizeof(err)) < 0) {
        cfg_error(errs,
                  "%s: [lookupd] user = %s: no such user; started as root, %s runs as that user: "
                  "create it (useradd --system --home-dir /var/lib/rcptdir --shell "
                  "/usr/sbin/nologin %s) or set user = (empty) to run as the user that starts it",
                  path, cf->user, progname, cf->user);
        if (drop)
            return -1; /* nothing else can be checked as that user */
    }
    if (drop) {
        c.user = cf->user;
        confenv_as_user(&c);
    } else {
        pw = getpwuid(geteuid());
        snprintf(self, sizeof(self), "%s", pw != NULL ? pw->pw_name : "(this user)");
        c.user = self;
        confenv_run(&c);
    }
    for (char *line = out, *nl; *line != '\0'; line = nl + 1) {
        if ((nl = strchr(line, '\n')) == NULL)
            break;
        *nl = '\0';
        cfg_error(errs, "%s: %s", path, line);
    }
    return errs->n > before ? -1 : 0;
}

int confenv_report(struct conf *cf, enum confenv_prog prog, const char *progname, const char *path)
{
    struct cfg_errors errs = {0};
    int rc = confenv_check(cf, prog, progname, path, &errs);

    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s: error: %s\n", progname, errs.v[i]);
    if (rc == 0) {
        conf_preset_print(cf, stdout); /* the values a preset gave (ad) */
        printf("configuration OK\n");
    }
    cfg_errors_free(&errs);
    conf_free(cf);
    return rc == 0 ? EX_OK : EX_CONFIG;
}
