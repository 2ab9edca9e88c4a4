/*
 * confenv - what `-n` checks beyond the file itself: the user, the secret files and the store
 * directory one program uses, seen as that program will see them.
 *
 * The privilege model (docs/operations.md "Users, secrets and the store"): started as root with
 * [lookupd] user set, both daemons become that user before they read a secret or open the
 * store (lookupd after binding its listeners, syncd after creating the store directory and
 * giving a root-owned one to the user); started as anyone else they stay who they are. So a
 * secret file is read by the service user: it is that user's, mode 600. confenv_check() runs
 * its checks in a child process that has dropped to that user (fork, priv_drop()) when called
 * as root, else in the caller. Each program checks only what it uses:
 *   syncd    the source's secret ([ldap] bind_pw_file or [upstream] token_file), [ldif] path,
 *            and the store directory: writable by the user, or creatable / repairable as root
 *   lookupd  [lookupd] http_token_file and feed_token_file; the store when it exists (LMDB
 *            readers write its lock file)
 * and both that [lookupd] user exists when it is set.
 *
 * Errors are added to errs as "FILE: [section] key: message, and what to do"; nothing here
 * logs or exits.
 */
#ifndef RCPTDIR_CONFENV_H
#define RCPTDIR_CONFENV_H

#include "common/cfg.h"
#include "schema/conf.h"

enum confenv_prog { CONFENV_SYNCD, CONFENV_LOOKUPD };

/*
 * confenv_check - the checks above for prog (progname and path in messages). 0, or -1 with
 * the problems in errs.
 */
int confenv_check(const struct conf *cf, enum confenv_prog prog, const char *progname,
                  const char *path, struct cfg_errors *errs);

/*
 * confenv_report - -n after conf_load_main(): run confenv_check(), print each error on stderr
 * or "configuration OK" on stdout; frees cf. Returns 0 or EX_CONFIG (78).
 */
int confenv_report(struct conf *cf, enum confenv_prog prog, const char *progname, const char *path);

#endif
