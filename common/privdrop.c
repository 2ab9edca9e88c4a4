/*
 * privdrop - drop root for good; see privdrop.h.
 */
#include "common/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int priv_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    struct passwd *pw;

    errno = 0;
    if ((pw = getpwnam(user)) == NULL) {
        snprintf(err, errlen, "no user %s", user);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

int priv_drop(const char *user, char *err, size_t errlen)
{
    uid_t uid, ruid, euid, suid;
    gid_t gid, rgid, egid, sgid;

    if (user == NULL || *user == '\0' || geteuid() != 0)
        return 0;
    if (priv_lookup(user, &uid, &gid, err, errlen) < 0)
        return -2;
    if (initgroups(user, gid) < 0) {
        snprintf(err, errlen, "initgroups %s: %s", user, strerror(errno));
        return -1;
    }
    if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
        snprintf(err, errlen, "becoming %s (%u:%u): %s", user, (unsigned)uid, (unsigned)gid,
                 strerror(errno));
        return -1;
    }
    if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0 || ruid != uid ||
        euid != uid || suid != uid || rgid != gid || egid != gid || sgid != gid) {
        snprintf(err, errlen, "dropping to %s did not take", user);
        return -1;
    }
    if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "could regain root after dropping to %s", user);
        return -1;
    }
    return 1;
}

int priv_dumpable(int allow)
{
    return prctl(PR_SET_DUMPABLE, allow ? 1 : 0, 0, 0, 0);
}
