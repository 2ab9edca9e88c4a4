/*
 * confref - print the configuration reference from conf_keys[] as a man page section
 * (troff), so docs/rcptdir.conf.5 cannot drift from the code: `make docs` regenerates it
 * and scripts/run-tests (integration/docs) fails when the committed page differs.
 */
#include <stdio.h>
#include <string.h>

#include "schema/conf.h"

int main(void)
{
    const char *section = "";

    for (size_t i = 0; i < conf_nkeys; i++) {
        const struct cfg_key *k = &conf_keys[i];
        if (k->type == CFG_SECTION) {
            printf(".SS [%s]\n", k->section);
            section = k->section;
            continue;
        }
        if (strcmp(section, k->section) != 0)
            continue;
        if (strcmp(k->section, "ldif") == 0 && strcmp(k->name, "path") != 0)
            continue; /* the mapping keys are listed under [ldap] */
        printf(".TP\n.B %s\n", k->name);
        printf("%s.", k->help ? k->help : "");
        if (k->type == CFG_INT)
            printf(" Range %lld..%lld.", k->min, k->max);
        if (k->def != NULL && k->def[0] != '\0')
            printf(" Default: \\fB%s\\fR.", k->def);
        else if (k->def != NULL)
            printf(" Default: empty.");
        else
            printf(" No default.");
        if (k->type == CFG_MULTI)
            printf(" May be given more than once.");
        printf("\n");
    }
    return 0;
}
