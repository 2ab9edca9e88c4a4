/*
 * policy - the Postfix policy delegation server (check_policy_service) with harvest defence.
 *
 * One thread with its own epoll set, LMDB reader (db.h) and counters serves every policy
 * connection: a Postfix smtpd process keeps one connection and sends one request at a time,
 * and each answer is one lookup. At protocol_state RCPT the recipient is looked up and
 * answered as the socketmap's access map answers it (policy_access_action()); every other
 * request gets DUNNO. Unknown recipients are counted per client (lookupd/harvest.h); a
 * client over its threshold gets "450 4.7.1 ..." (or "421 4.7.1 ...", which also ends the
 * SMTP session, with disconnect set) for every recipient until its penalty ends. Clients in
 * the exempt networks, SASL-authenticated clients and requests without a parseable
 * client_address are never counted nor refused.
 *
 * Connections are bounded like the socketmap's: at most max_connections (more are accepted
 * and closed at once), idle_timeout seconds without traffic, POLICY_PARTIAL_TIMEOUT seconds
 * to finish a request once begun, and the parser's limits (policy_proto.h). A malformed
 * request is answered "action=451 4.3.5 Policy request malformed: <reason>" and the
 * connection is closed (after a half-close and up to POLICY_LINGER seconds of discarding
 * what the client still sends, so that no reset destroys the reply); the reason is logged
 * (rate limited). Only the parser's state and
 * POLICY_INBUF + POLICY_OUTBUF bytes are kept per connection, whatever a client sends.
 *
 * The harvest table is shared with the HTTP thread (policy_harvest_json(), policy_metrics())
 * under a mutex held for one table operation at a time.
 *
 * Ownership: policy_new() takes the listening descriptors (closed by policy_free()) and
 * copies the parameters; it borrows db and opts, which must outlive it. Errors at start-up
 * are fatal (log.h). policy_metrics() and policy_harvest_json() accept NULL (policy off).
 */
#ifndef RCPTDIR_POLICY_H
#define RCPTDIR_POLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "lookupd/db.h"
#include "lookupd/harvest.h"
#include "lookupd/lookup.h"

#define POLICY_INBUF           4096 /* bytes read ahead of the parser (pipelined requests) */
#define POLICY_OUTBUF          1024 /* replies waiting for the client to read them */
#define POLICY_PARTIAL_TIMEOUT 30   /* seconds to finish a request once begun */
#define POLICY_SHOW_MAX        100  /* offenders listed by policy_harvest_json() */
#define POLICY_LINGER          2    /* seconds a closing connection's input is drained */

struct policy;

struct policy_params {
    const int *fds; /* listening sockets (non-blocking), taken over */
    size_t nfds;
    long long max_connections;
    long long idle_timeout;
    struct harvest_params harvest; /* the exempt list is copied */
    int disconnect;                /* refuse with 421 (end the session) instead of 450 */
};

struct policy *policy_new(const struct policy_params *p, struct lk_db *db,
                          const struct lookup_opts *opts);
/* policy_start - start the thread */
void policy_start(struct policy *ps);
/* policy_stop - ask the thread to finish (one write) */
void policy_stop(struct policy *ps);
/* policy_join - wait for it */
void policy_join(struct policy *ps);
void policy_free(struct policy *ps);

/* policy_metrics - the policy and harvest figures in Prometheus text format */
void policy_metrics(struct policy *ps, FILE *fp);

/* policy_harvest_json - GET /v1/harvest: settings, counts and the current offenders (new
 * reference) */
json_t *policy_harvest_json(struct policy *ps);

#endif
