/*
 * fuzz_conf - conf_load_string() on arbitrary bytes (the last byte's low bit is need_source);
 * everything it allocates is freed, so LeakSanitizer checks conf_free() and
 * cfg_errors_free() as well.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg_errors errs;
    struct conf cf;
    int rc;

    memset(&errs, 0, sizeof(errs));
    rc = conf_load_string(&cf, (const char *)data, size, size > 0 && (data[size - 1] & 1), &errs);
    if (rc == 0 && errs.n != 0)
        abort(); /* success with errors */
    if (rc != 0 && errs.n == 0 && errs.dropped == 0)
        abort(); /* failure without a reason */
    for (size_t i = 0; i < errs.n; i++)
        if (errs.v[i] == NULL || strlen(errs.v[i]) == 0)
            abort();
    if (cf.store_path == NULL)
        abort(); /* defaults always apply */
    conf_free(&cf);
    cfg_errors_free(&errs);
    return 0;
}
