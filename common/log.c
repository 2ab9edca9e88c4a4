/*
 * log - syslog or stderr logging; see log.h.
 */
#include "common/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "rcptdir";
static int log_foreground = 1;
static int log_stamped;
static enum log_level log_level = LOG_LEVEL_INFO;

/* log_syslog_reachable - something listens at syslog's socket (what openlog() would use) */
static int log_syslog_reachable(void)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int ok = 0;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG);
    for (int type = SOCK_DGRAM; !ok && type != 0; type = type == SOCK_DGRAM ? SOCK_STREAM : 0) {
        int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
        if (fd >= 0)
            close(fd);
    }
    return ok;
}

/* log_init - choose destination and level */
void log_init(const char *ident, int foreground, enum log_level level)
{
    log_ident = ident;
    log_foreground = foreground || !log_syslog_reachable();
    if (log_foreground && !foreground)
        log_stamped = 1; /* a daemon's lines on stderr: a log, with times */
    log_level = level;
    if (!log_foreground)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_stamp(int on)
{
    log_stamped = on;
}

int log_to_stderr(void)
{
    return log_foreground;
}

/* log_reopen - reconnect to syslog */
void log_reopen(void)
{
    if (!log_foreground) {
        closelog();
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

/* log_time - the local time, to the millisecond, into buf ("" when it cannot be had) */
static const char *log_time(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    buf[0] = '\0';
    if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || localtime_r(&ts.tv_sec, &tm) == NULL)
        return buf;
    n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n > 0)
        snprintf(buf + n, len - n, ".%03ld ", ts.tv_nsec / 1000000);
    return buf;
}

void log_set_level(enum log_level level)
{
    log_level = level;
}

enum log_level log_get_level(void)
{
    return log_level;
}

/* log_vlog - write one line; with_errno appends strerror of the saved errno */
static void log_vlog(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    static const char *const tag[] = {"error", "warning", "info", "debug"};
    int saved = errno;
    char msg[2048], when[40] = "";

    if (level > log_level) {
        errno = saved;
        return;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (with_errno) {
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
    }
    if (log_foreground) {
        if (log_stamped)
            log_time(when, sizeof(when));
        if (level == LOG_LEVEL_INFO)
            fprintf(stderr, "%s%s: %s\n", when, log_ident, msg);
        else
            fprintf(stderr, "%s%s: %s: %s\n", when, log_ident, tag[level], msg);
    } else {
        syslog(prio[level], "%s", msg);
    }
    errno = saved;
}

#define LOG_BODY(level, with_errno)                                                                \
    do {                                                                                           \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vlog(level, with_errno, fmt, ap);                                                      \
        va_end(ap);                                                                                \
    } while (0)

void log_errorx(const char *fmt, ...)
{
    LOG_BODY(LOG_LEVEL_ERR, 0);
}

void log_warn(const char *fmt, ...)
{
    LOG_BODY(LOG_LEVEL_WARN, 1);
}

void log_warnx(const char *fmt, ...)
{
    LOG_BODY(LOG_LEVEL_WARN, 0);
}

void log_info(const char *fmt, ...)
{
    LOG_BODY(LOG_LEVEL_INFO, 0);
}

void log_debug(const char *fmt, ...)
{
    LOG_BODY(LOG_LEVEL_DEBUG, 0);
}

void fatal(const char *fmt, ...)
{
    LOG_BODY(LOG_LEVEL_ERR, 1);
    exit(1);
}

void fatalx(const char *fmt, ...)
{
    LOG_BODY(LOG_LEVEL_ERR, 0);
    exit(1);
}

void fatal_status(int status, const char *fmt, ...)
{
    LOG_BODY(LOG_LEVEL_ERR, 0);
    exit(status);
}

/* log_limit_pass - one window of `interval` seconds lets `burst` lines through */
int log_limit_pass(struct log_limit *l, long now, unsigned long *suppressed)
{
    long w = atomic_load(&l->window);

    *suppressed = 0;
    if (now - w >= (long)l->interval && atomic_compare_exchange_strong(&l->window, &w, now)) {
        atomic_store(&l->count, 0);
        *suppressed = atomic_exchange(&l->suppressed, 0);
    }
    if (atomic_fetch_add(&l->count, 1) < l->burst)
        return 1;
    atomic_fetch_add(&l->suppressed, 1);
    return 0;
}

/* log_limited - a warning through a rate limit */
void log_limited(struct log_limit *l, const char *fmt, ...)
{
    struct timespec ts;
    unsigned long held;
    int saved = errno;

    if (LOG_LEVEL_WARN > log_level)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (!log_limit_pass(l, (long)ts.tv_sec, &held)) {
        errno = saved;
        return;
    }
    if (held > 0)
        log_warnx("%lu similar messages suppressed in the last %u s or more", held, l->interval);
    LOG_BODY(LOG_LEVEL_WARN, 0);
}

/* log_safe - truncated, printable copy of untrusted bytes */
char *log_safe(char *dst, size_t dstlen, const char *src, size_t len)
{
    size_t i, n = 0, max = len > LOG_SAFE_MAX ? LOG_SAFE_MAX : len;

    if (dstlen == 0)
        return dst;
    for (i = 0; i < max && n + 1 < dstlen; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (i < len) {
        for (int k = 0; k < 3 && n + 1 < dstlen; k++)
            dst[n++] = '.';
    }
    dst[n] = '\0';
    return dst;
}
