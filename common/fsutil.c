/*
 * fsutil - secret files checked on the open descriptor; see fsutil.h.
 */
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fs_user_name - the name of the effective user, for messages (a static buffer) */
static const char *fs_user_name(void)
{
    static char name[64];
    struct passwd *pw = getpwuid(geteuid());

    if (pw != NULL)
        snprintf(name, sizeof(name), "%s", pw->pw_name);
    else
        snprintf(name, sizeof(name), "%u", (unsigned)geteuid());
    return name;
}

long fs_read_secret(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
    char tmp[FS_SECRET_MAX + 1];
    struct stat st;
    ssize_t n;
    size_t len = 0;
    int fd;

    /* O_NONBLOCK: a FIFO must not hang the open; regular files ignore the flag */
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) {
        int e = errno;
        if (e == EACCES)
            snprintf(err, errlen,
                     "cannot open secret file %s as user %s: %s; the file must be that user's "
                     "(chown %s %s; chmod 600 %s)",
                     path, fs_user_name(), strerror(e), fs_user_name(), path, path);
        else
            snprintf(err, errlen, "cannot open secret file %s: %s", path, strerror(e));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "cannot stat secret file %s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "secret file %s is not a regular file", path);
        goto fail;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen,
                 "secret file %s must not be accessible by group or others (chmod 600)", path);
        goto fail;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        snprintf(err, errlen,
                 "secret file %s is owned by uid %u, but this program runs as user %s: "
                 "chown %s %s",
                 path, (unsigned)st.st_uid, fs_user_name(), fs_user_name(), path);
        goto fail;
    }
    while (len < sizeof(tmp) && (n = read(fd, tmp + len, sizeof(tmp) - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "cannot read secret file %s: %s", path, strerror(errno));
            goto fail;
        }
        len += (size_t)n;
    }
    close(fd);
    fd = -1;
    if (len > FS_SECRET_MAX) {
        snprintf(err, errlen, "secret file %s is larger than %d bytes", path, FS_SECRET_MAX);
        goto fail;
    }
    while (len > 0 && (tmp[len - 1] == '\n' || tmp[len - 1] == '\r'))
        len--;
    if (memchr(tmp, '\0', len) != NULL || memchr(tmp, '\n', len) != NULL) {
        snprintf(err, errlen, "secret file %s must hold one line without NUL bytes", path);
        goto fail;
    }
    if (len == 0) {
        snprintf(err, errlen, "secret file %s is empty", path);
        goto fail;
    }
    if (buf != NULL) {
        if (cap <= len) {
            snprintf(err, errlen, "secret in %s is too long", path);
            goto fail;
        }
        memcpy(buf, tmp, len);
        buf[len] = '\0';
    }
    explicit_bzero(tmp, sizeof(tmp));
    return (long)len;
fail:
    if (fd >= 0)
        close(fd);
    explicit_bzero(tmp, sizeof(tmp));
    return -1;
}
