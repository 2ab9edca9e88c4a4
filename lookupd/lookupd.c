/*
 * rcptdir-lookupd - answer recipient lookups from the store over socketmap and HTTP.
 * the LMDB store: one all-or-nothing sync per run, or repeatedly with --watch.
 *
 * Exit codes (sysexits): 0 done, 65 refused by a safety rule, 75 temporary source failure,
 * 78 configuration error, 73/74 store errors, 64 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common/log.h"
#include "schema/conf.h"

#define LOOKUPD_NAME "rcptdir-lookupd"

static void usage(void)
{
    fprintf(stderr, "usage: %s -c FILE [-n] [-v] [--watch] [--dry-run] [--force]\n", LOOKUPD_NAME);
    exit(EX_USAGE);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"check", no_argument, NULL, 'n'},
                                             {"verbose", no_argument, NULL, 'v'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *config = NULL;
    struct cfg_errors errs = {0};
    struct conf cf;
    int check = 0, verbose = 0, ch;

    while ((ch = getopt_long(argc, argv, "c:nvh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 'n':
            check = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        default:
            usage();
        }
    }
    if (config == NULL || optind != argc)
        usage();
    log_init(LOOKUPD_NAME, 1, verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
    if (conf_load(&cf, config, 0, &errs) < 0) {
        conf_print_errors(LOOKUPD_NAME, &errs);
        cfg_errors_free(&errs);
        conf_free(&cf);
        return EX_CONFIG;
    }
    if (check) {
        printf("configuration OK\n");
        conf_free(&cf);
        return 0;
    }
    log_warnx("lookupd: not implemented yet");
    conf_free(&cf);
    return EX_SOFTWARE;
}
