/*
 * src_syncrepl - an OpenLDAP provider with the syncprov overlay as a source: RFC 4533
 * Content Synchronization ([ldap] sync = syncrepl, or auto when the root DSE lists the Sync
 * Request control 1.3.6.1.4.1.4203.1.9.1.1; otherwise auto runs src_ldap's paged search).
 *
 * A run (cron) is a refreshOnly with the cookie kept in the store: only what changed since
 * is read and applied through the entry-change driver (apply_change.h); a refresh without a
 * usable cookie is a full one, read into the full-directory driver (apply_full.h) as a paged
 * sync is: a mark and sweep under the same safety rules. --watch keeps a refreshAndPersist search
 * open and commits the changes in short batches as they arrive. Entries are named by entryUUID
 * (id_attrs must start with it), one base. group_filter and disabled_filter stay the directory's
 * decision: one search per 100 changed entries, (&filter group_filter (|(entryUUID=...)...)), on a
 * second connection. Deletes add up over [sync] delete_window against max_delete_ratio; a silent
 * persist connection is probed after [ldap] persist_probe seconds and dropped when the probe goes
 * unanswered for [ldap] timeout seconds.
 * Details and the provider's setup: docs/operations.md "Live sync (syncrepl)".
 */
#ifndef RCPTDIR_SRC_SYNCREPL_H
#define RCPTDIR_SRC_SYNCREPL_H

#include "syncd/source.h"

extern const struct source src_syncrepl;

#endif
