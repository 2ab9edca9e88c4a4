/*
 * privdrop - become an unprivileged user for good: supplementary groups, gid, uid (all
 * three of each), then check that root cannot be regained. Both daemons use it: lookupd
 * after binding its listeners, syncd after making the store directory its user's.
 */
#ifndef RCPTDIR_PRIVDROP_H
#define RCPTDIR_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/*
 * priv_lookup - the uid and gid of user; 0, or -1 with a message in err
 */
int priv_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);

/*
 * priv_drop - when running as root and user is not empty, become user. Returns 1 dropped,
 * 0 nothing to do (not root, or no user), -1 with a message in err (the caller exits:
 * a process that meant to drop privileges must not go on as root). -2: no such user.
 */
int priv_drop(const char *user, char *err, size_t errlen);

/*
 * priv_dumpable - whether the process may dump core (and be attached to by its own user):
 * 0 unless allow ([lookupd] allow_core_dumps), since a dump holds the bind password and
 * the bearer tokens. Call it after priv_drop(), which may reset it. 0, or -1 (errno).
 */
int priv_dumpable(int allow);

#endif
