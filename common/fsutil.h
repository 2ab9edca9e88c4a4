/*
 * fsutil - files that hold secrets.
 *
 * A secret (LDAP bind password, bearer token) lives in a file named by the config, never
 * on the command line. The file is checked on the open descriptor (fstat, not stat, so it
 * cannot be swapped between check and read): it must be a regular file with no group or
 * world permission bits, owned by root or by the current user (OpenSMTPD
 * check_file_secrecy()). The daemons read their secrets as the user they run as (started as
 * root, after dropping to [lookupd] user), so in practice a secret is that user's, mode 600;
 * a message names the user and the command that fixes the file.
 *
 * Errors are returned as text in the caller's buffer; nothing here logs or exits.
 */
#ifndef RCPTDIR_FSUTIL_H
#define RCPTDIR_FSUTIL_H

#include <stddef.h>

/* Largest secret accepted, in bytes. */
#define FS_SECRET_MAX 4096

/*
 * fs_read_secret - read the secret in path into buf (cap bytes, NUL-terminated), without
 * its trailing newline. Returns its length, or -1 with a message in err.
 * buf may be NULL to check the file only.
 */
long fs_read_secret(const char *path, char *buf, size_t cap, char *err, size_t errlen);

#endif
