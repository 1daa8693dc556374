/* SPDX-License-Identifier: Apache-2.0 */
/* --help and --version. The help is generated from the flag table, so a flag cannot be missing
 * from it, and each flag not built yet says so. */
#include "executor/cli.h"

#include <stdbool.h>
#include <string.h>

#include "version.h"
#include "executor/cli-internal.h"

#define HELP_WIDTH  100
#define HELP_COLUMN 36

/* Joins the words of a note so that it is never split across lines; printed as a space. */
#define NBSP "\x1f"

/* Prints text from HELP_COLUMN, wrapped at HELP_WIDTH. */
static void wrap(FILE *out, const char *text)
{
        size_t col = HELP_COLUMN;
        bool first = true;

        for (const char *p = text; *p;) {
                size_t word = strcspn(p, " ");
                if (!first && col + 1 + word > HELP_WIDTH) {
                        fprintf(out, "\n%*s", HELP_COLUMN, "");
                        col = HELP_COLUMN;
                } else if (!first) {
                        fputc(' ', out);
                        col++;
                }
                for (size_t i = 0; i < word; i++)
                        fputc(p[i] == NBSP[0] ? ' ' : p[i], out);
                col += word;
                first = false;
                p += word;
                while (*p == ' ')
                        p++;
        }
        fputc('\n', out);
}

static void print_flag(FILE *out, const struct cli_flag *f)
{
        char left[128], text[512];
        size_t col;
        int n;

        if (f->short_name)
                n = snprintf(left, sizeof(left), "  -%c, --%s", f->short_name, f->name);
        else
                n = snprintf(left, sizeof(left), "      --%s", f->name);
        if (f->metavar && n > 0 && (size_t) n < sizeof(left))
                (void) snprintf(left + n, sizeof(left) - (size_t) n, " %s", f->metavar);
        fputs(left, out);
        col = strlen(left);
        if (col + 2 > HELP_COLUMN) {
                fputc('\n', out);
                col = 0;
        }
        fprintf(out, "%*s", (int) (HELP_COLUMN - col), "");

        if (f->alias_of)
                n = snprintf(text, sizeof(text), "Same as --%s", f->alias_of);
        else
                n = snprintf(text, sizeof(text), "%s", f->help);
        if (f->def && n > 0 && (size_t) n < sizeof(text))
                n += snprintf(text + n, sizeof(text) - (size_t) n, " (default:" NBSP "%s)", f->def);
        if (!f->alias_of && !(f->attrs & CLI_BUILT) && n > 0 && (size_t) n < sizeof(text))
                (void) snprintf(text + n, sizeof(text) - (size_t) n,
                                " [not" NBSP "implemented" NBSP "yet]");
        wrap(out, text);
}

void cli_print_help(FILE *out)
{
        fputs("Usage:\n"
              "  executor [flags]\n"
              "  executor version\n"
              "  executor completion bash|zsh|fish|powershell   (see completion --help)\n"
              "  executor warm --image IMAGE... [--cache-dir DIR]   (the warmer: see warm --help)\n"
              "\n"
              "Builds a container image from a Dockerfile, without a daemon, and pushes it to a\n"
              "registry. Takes the flags of Kaniko's executor.\n",
              out);
        for (size_t i = 0; i < cli_flags_count; i++)
                if (!(cli_flags[i].attrs & CLI_BUILT) && !cli_flags[i].alias_of &&
                    cli_flags[i].group != CLI_GROUP_HIDDEN) {
                        fputs("Those marked [not implemented yet] fail when given a value other "
                              "than their default.\n",
                              out);
                        break;
                }
        for (int g = 0; g < CLI_GROUP_COUNT; g++) {
                if (!cli_group_titles[g])
                        continue;
                fprintf(out, "\n%s:\n", cli_group_titles[g]);
                for (size_t i = 0; i < cli_flags_count; i++)
                        if ((int) cli_flags[i].group == g)
                                print_flag(out, &cli_flags[i]);
        }
        fputs("\n"
              "Environment:\n"
              "  KANIKO_DIR                        Default of --kaniko-dir\n"
              "  KANIKO_NO_PUSH                    true or false: overrides --no-push\n"
              "  KANIKO_REGISTRY_MIRROR            Added to the --registry-mirror list\n"
              "  KANIKO_REGISTRY_MAP               Added to the --registry-map list\n"
              "  GIT_USERNAME, GIT_PASSWORD        Basic auth of a git:// context (or GIT_TOKEN)\n"
              "  GIT_PULL_METHOD                   https (default) or http: how a git:// context "
              "is fetched\n",
              out);
}

void cli_print_version(FILE *out)
{
        fprintf(out, "lading executor %s (%s)\n", LADING_VERSION, LADING_COMMIT);
}
