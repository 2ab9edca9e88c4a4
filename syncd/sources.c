/*
 * sources - the registry of sources (source.h): one X() line per source. Adding a source is
 * its own file and one line here.
 */
#include "syncd/source.h"

#include <stddef.h>

#define SOURCES(X) X(src_ldap) X(src_ldif) X(src_upstream) X(src_ad) X(src_syncrepl)

#define SOURCE_DECLARE(s) extern const struct source s;
#define SOURCE_ENTRY(s)   &s,

SOURCES(SOURCE_DECLARE)

static const struct source *const sources[] = {SOURCES(SOURCE_ENTRY)};

const struct source *source_find(const struct conf *cf)
{
    enum conf_source want = conf_source(cf);

    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
        if (sources[i]->conf == want)
            return sources[i];
    return NULL;
}
