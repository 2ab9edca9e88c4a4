/*
 * confref - print the configuration reference from conf_keys[] as a man page section
 * (troff), so docs/rcptdir.conf.5 cannot drift from the code: `make docs` regenerates it
 * and scripts/run-tests (integration/docs) fails when the committed page differs.
 * `confref md` prints the markdown table of docs/operations.md's reference section.
 */
#include <stdio.h>
#include <string.h>

#include "schema/conf.h"

/* confref_markdown - the same reference as a markdown table (docs/operations.md) */
static void confref_markdown(void)
{
    printf("| section | key | default | meaning |\n| --- | --- | --- | --- |\n");
    for (size_t i = 0; i < conf_nkeys; i++) {
        const struct cfg_key *k = &conf_keys[i];
        if (k->type == CFG_SECTION)
            continue;
        if (strcmp(k->section, "ldif") == 0 && strcmp(k->name, "path") != 0)
            continue; /* the mapping keys are listed under [ldap] and apply to [ldif] too */
        printf("| [%s] | `%s` | %s%s%s | %s", k->section, k->name,
               k->def != NULL && k->def[0] != '\0' ? "`" : "",
               k->def == NULL      ? "(required)"
               : k->def[0] == '\0' ? "(empty)"
                                   : k->def,
               k->def != NULL && k->def[0] != '\0' ? "`" : "", k->help ? k->help : "");
        if (k->type == CFG_INT)
            printf(" (%lld..%lld)", k->min, k->max);
        if (k->type == CFG_MULTI)
            printf("; may be repeated");
        printf(" |\n");
    }
}

int main(int argc, char **argv)
{
    const char *section = "";

    if (argc > 1 && strcmp(argv[1], "md") == 0) {
        confref_markdown();
        return 0;
    }

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
