/*
 * version - the version of rcptdir both programs print (--version), lookupd reports in
 * /v1/status and /metrics, and debian/changelog carries.
 */
#ifndef RCPTDIR_VERSION_H
#define RCPTDIR_VERSION_H

#define RCPTDIR_VERSION "0.1.0"

#endif
