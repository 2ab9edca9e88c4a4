/*
 * log - one line per event, to syslog (LOG_MAIL) or to stderr in the foreground.
 *
 * Modelled on OpenSMTPD's log.h: log_warn() and fatal() append strerror(errno),
 * log_warnx() and fatalx() do not. Every function preserves errno. Messages carry a
 * subsystem prefix chosen by the caller ("sockmap: ...", "ldap: ...").
 *
 * Untrusted text (keys, LDAP values, peer data) must pass through log_safe() first:
 * it truncates and masks unprintable bytes, like Postfix's printable().
 *
 * Ownership: log_init() keeps a pointer to ident; it must stay valid.
 */
#ifndef RCPTDIR_LOG_H
#define RCPTDIR_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_ERR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/*
 * log_init - choose the destination (stderr when foreground) and the lowest level shown. Not
 * in the foreground, when syslog cannot be reached (no /dev/log: a container, a chroot, a
 * machine without a syslog daemon) lines go to stderr instead of nowhere.
 */
void log_init(const char *ident, int foreground, enum log_level level);
/* log_stamp - lines on stderr begin with the local time, to the millisecond (-d; not -n, -q) */
void log_stamp(int on);
/* log_to_stderr - whether lines go to stderr (foreground, or syslog unreachable) */
int log_to_stderr(void);
/* log_reopen - reopen syslog (SIGHUP); harmless in the foreground */
void log_reopen(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* log_errorx - an error that does not end the program ("error: ...", syslog LOG_ERR) */
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* fatal_status - like fatalx, but exits with the given (sysexits) status */
void fatal_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/*
 * A rate limit for one kind of message that a client can provoke at will (a bad key, a
 * refused connection): at most `burst` lines per `interval` seconds; the first line after a
 * quiet spell says how many were suppressed. One static struct log_limit per call site,
 * shared by every thread (the counters are atomic; a race may let a line more through).
 */
struct log_limit {
    _Atomic long window;              /* monotonic second the current window began */
    _Atomic unsigned count;           /* lines let through in this window */
    _Atomic unsigned long suppressed; /* lines held back since the last one shown */
    unsigned interval, burst;
};
#define LOG_LIMIT_INIT(interval_s, burst_n)                                                        \
    {                                                                                              \
        .window = -1000000, .interval = (interval_s), .burst = (burst_n)                           \
    }
/* The usual limit: 10 lines a minute per call site. */
#define LOG_LIMIT_DEFAULT LOG_LIMIT_INIT(60, 10)

/*
 * log_limit_pass - whether a line may be shown at monotonic second now; when it may, and
 * lines were held back before it, *suppressed says how many (else 0). For log_limited()
 * and tests.
 */
int log_limit_pass(struct log_limit *l, long now, unsigned long *suppressed);
/* log_limited - log_warnx() through a rate limit (see struct log_limit) */
void log_limited(struct log_limit *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Longest untrusted text that log_safe() copies before it appends "...". */
#define LOG_SAFE_MAX 200

/*
 * log_safe - copy at most LOG_SAFE_MAX bytes of src[0..len) into dst (of dstlen bytes),
 * replacing each byte outside printable ASCII with '?', appending "..." when cut.
 * dst is always NUL-terminated (dstlen > 0). Returns dst, for use in a log call.
 */
char *log_safe(char *dst, size_t dstlen, const char *src, size_t len);

#endif
