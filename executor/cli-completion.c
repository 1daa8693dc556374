/* SPDX-License-Identifier: Apache-2.0 */
/* The 'completion' command: a completion script for bash, zsh, fish or PowerShell, generated
 * from the flag table like --help, as cobra's completion command gives Kaniko's executor. The
 * scripts are static (they carry the flags and their values and never call the executor back),
 * so completing costs no process start and works the same with any executor on PATH. */
#include "executor/cli.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/err.h"
#include "common/macros.h"
#include "executor/cli-internal.h"

#define PROG "executor"

/* The first word that is not a flag: the commands, and the shells of 'completion'. */
static const char *const commands[] = {"completion", "help", "version", "warm", NULL};
static const char *const shells[] = {"bash", "fish", "powershell", "zsh", NULL};

enum value_kind {
        VALUE_NONE,  /* a boolean or an action: no value */
        VALUE_WORDS, /* one of cli_flag.choices or cli_flag.suggest */
        VALUE_FILE,
        VALUE_DIR,
        VALUE_OTHER, /* free text: nothing to offer */
};

/* Deprecated names and hidden flags still parse, but are not offered, as with cobra. */
static bool offered(const struct cli_flag *f)
{
        return !f->alias_of && f->group != CLI_GROUP_DEPRECATED && f->group != CLI_GROUP_HIDDEN;
}

static const char *const *words_of(const struct cli_flag *f)
{
        return f->type == CLI_ENUM ? f->choices : f->suggest;
}

static enum value_kind value_kind(const struct cli_flag *f)
{
        if (f->type == CLI_BOOL || f->type == CLI_ACTION)
                return VALUE_NONE;
        if (words_of(f))
                return VALUE_WORDS;
        if (f->metavar && streq(f->metavar, "PATH"))
                return VALUE_FILE;
        if (f->metavar && streq(f->metavar, "DIR"))
                return VALUE_DIR;
        return VALUE_OTHER;
}

/* The flag's help as a one-line description: stops at the first sentence break so that menus
 * stay readable. quote: the characters to escape with a backslash, or NULL; twice: the
 * character to double instead (PowerShell's quote). */
static void put_description(FILE *out, const struct cli_flag *f, const char *quote, char twice)
{
        for (const char *p = f->help; *p; p++) {
                if ((*p == ';' || *p == '.') && (p[1] == ' ' || !p[1]))
                        break;
                if (quote && strchr(quote, *p))
                        fputc('\\', out);
                else if (twice && *p == twice)
                        fputc(twice, out);
                fputc(*p, out);
        }
}

static void put_words(FILE *out, const char *const *words)
{
        for (size_t i = 0; words[i]; i++)
                fprintf(out, "%s%s", i ? " " : "", words[i]);
}

/* "--name" or "--name | -n", as bash's case patterns and flag lists want them. */
static void put_names(FILE *out, const struct cli_flag *f, const char *sep)
{
        fprintf(out, "--%s", f->name);
        if (f->short_name)
                fprintf(out, "%s-%c", sep, f->short_name);
}

static void bash_value_case(FILE *out, enum value_kind kind, const char *action)
{
        bool any = false;

        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *f = &cli_flags[i];
                if (!offered(f) || value_kind(f) != kind)
                        continue;
                fputs(any ? " | " : "\t", out);
                put_names(out, f, " | ");
                any = true;
        }
        if (any)
                fprintf(out, ")\n\t\t%s\n\t\t;;\n", action);
}

static void print_bash(FILE *out)
{
        fputs("# bash completion for " PROG " (lading). Load it with\n"
              "#   source <(" PROG " completion bash)\n"
              "_lading_executor_flags='",
              out);
        for (size_t i = 0, n = 0; i < cli_flags_count; i++)
                if (offered(&cli_flags[i])) {
                        fputs(n++ ? " " : "", out);
                        put_names(out, &cli_flags[i], " ");
                }
        fputs("'\n# the flags whose value may be the next word\n"
              "_lading_executor_takes_value=' ",
              out);
        for (size_t i = 0; i < cli_flags_count; i++)
                if (offered(&cli_flags[i]) && value_kind(&cli_flags[i]) != VALUE_NONE) {
                        put_names(out, &cli_flags[i], " ");
                        fputc(' ', out);
                }
        fputs("'\n\n# $1: a flag, $2: its value so far. Fills COMPREPLY.\n"
              "_lading_executor_values() {\n"
              "\tCOMPREPLY=()\n"
              "\tcase $1 in\n",
              out);
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *f = &cli_flags[i];
                if (!offered(f) || value_kind(f) != VALUE_WORDS)
                        continue;
                fputc('\t', out);
                put_names(out, f, " | ");
                fputs(")\n\t\tmapfile -t COMPREPLY < <(compgen -W '", out);
                put_words(out, words_of(f));
                fputs("' -- \"$2\")\n\t\t;;\n", out);
        }
        bash_value_case(out, VALUE_FILE,
                        "compopt -o filenames 2>/dev/null\n"
                        "\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$2\")");
        bash_value_case(out, VALUE_DIR,
                        "compopt -o filenames 2>/dev/null\n"
                        "\t\tmapfile -t COMPREPLY < <(compgen -d -- \"$2\")");
        fputs("\tesac\n"
              "}\n\n"
              "_lading_executor() {\n"
              "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
              "\tlocal i word command=\n"
              "\tCOMPREPLY=()\n"
              "\t# with '=' a word break (bash's default) --flag=value is three words\n"
              "\tif [[ $cur == = ]]; then\n"
              "\t\t_lading_executor_values \"$prev\" \"\"\n"
              "\t\treturn\n"
              "\tfi\n"
              "\tif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then\n"
              "\t\t_lading_executor_values \"${COMP_WORDS[COMP_CWORD - 2]}\" \"$cur\"\n"
              "\t\treturn\n"
              "\tfi\n"
              "\t# without, it is one\n"
              "\tif [[ $cur == --*=* ]]; then\n"
              "\t\t_lading_executor_values \"${cur%%=*}\" \"${cur#*=}\"\n"
              "\t\tCOMPREPLY=(\"${COMPREPLY[@]/#/${cur%%=*}=}\")\n"
              "\t\treturn\n"
              "\tfi\n"
              "\tif [[ $_lading_executor_takes_value == *\" $prev \"* ]]; then\n"
              "\t\t_lading_executor_values \"$prev\" \"$cur\"\n"
              "\t\treturn\n"
              "\tfi\n"
              "\tif [[ $cur == -* ]]; then\n"
              "\t\tmapfile -t COMPREPLY < <(compgen -W \"$_lading_executor_flags\" -- \"$cur\")\n"
              "\t\treturn\n"
              "\tfi\n"
              "\t# the command: the first word that is neither a flag nor a flag's value\n"
              "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
              "\t\tword=${COMP_WORDS[i]}\n"
              "\t\tif [[ $word == = || ${COMP_WORDS[i - 1]} == = ]]; then\n"
              "\t\t\tcontinue\n"
              "\t\telif [[ $word == -* ]]; then\n"
              "\t\t\t[[ $word != *=* && $_lading_executor_takes_value == *\" $word \"* ]] &&\n"
              "\t\t\t\t[[ ${COMP_WORDS[i + 1]} != = ]] && ((i++))\n"
              "\t\telse\n"
              "\t\t\tcommand=$word\n"
              "\t\t\tbreak\n"
              "\t\tfi\n"
              "\tdone\n"
              "\tcase $command in\n"
              "\t'')\n"
              "\t\tmapfile -t COMPREPLY < <(compgen -W '",
              out);
        put_words(out, commands);
        fputs("' -- \"$cur\")\n"
              "\t\t;;\n"
              "\tcompletion)\n"
              "\t\t[[ $i -eq $((COMP_CWORD - 1)) ]] &&\n"
              "\t\t\tmapfile -t COMPREPLY < <(compgen -W '",
              out);
        put_words(out, shells);
        fputs("' -- \"$cur\")\n"
              "\t\t;;\n"
              "\tesac\n"
              "}\n\n"
              "complete -o default -F _lading_executor " PROG " /kaniko/" PROG "\n",
              out);
}

static void zsh_action(FILE *out, const struct cli_flag *f)
{
        switch (value_kind(f)) {
        case VALUE_WORDS:
                fputs(":(", out);
                put_words(out, words_of(f));
                fputs(")", out);
                break;
        case VALUE_FILE:
                fputs(":_files", out);
                break;
        case VALUE_DIR:
                fputs(":_path_files -/", out);
                break;
        case VALUE_OTHER:
        case VALUE_NONE:
                fputs(": ", out);
                break;
        }
}

/* One _arguments spec: '(-f --dockerfile)'{-f+,--dockerfile=}'[Dockerfile to build]:PATH:_files' */
static void zsh_spec(FILE *out, const struct cli_flag *f, bool descriptions)
{
        bool value = value_kind(f) != VALUE_NONE, many = f->type == CLI_LIST;

        fputs("\t", out);
        if (f->short_name) {
                if (!many)
                        fprintf(out, "'(-%c --%s)'", f->short_name, f->name);
                fprintf(out, "%s{-%c%s,--%s%s}'", many ? "'*'" : "", f->short_name,
                        value ? "+" : "", f->name, value ? "=" : "");
        } else {
                fprintf(out, "'%s--%s%s", many ? "*" : "", f->name, value ? "=" : "");
        }
        if (descriptions) {
                fputc('[', out);
                /* a quote ends the '...' word: close it, add an escaped one, reopen */
                for (const char *p = f->help; *p; p++) {
                        if ((*p == ';' || *p == '.') && (p[1] == ' ' || !p[1]))
                                break;
                        if (*p == '\'')
                                fputs("'\\''", out);
                        else {
                                if (strchr("[]:\\", *p))
                                        fputc('\\', out);
                                fputc(*p, out);
                        }
                }
                fputc(']', out);
        }
        if (value) {
                fprintf(out, ":%s", f->metavar ? f->metavar : "value");
                zsh_action(out, f);
        }
        fputs("' \\\n", out);
}

static void print_zsh(FILE *out, bool descriptions)
{
        fputs("#compdef " PROG " /kaniko/" PROG "\n"
              "# zsh completion for " PROG " (lading). Load it with\n"
              "#   source <(" PROG " completion zsh)\n"
              "# or save it as _" PROG " in a directory of $fpath.\n\n"
              "_lading_executor() {\n"
              "\tlocal curcontext=$curcontext state line ret=1\n"
              "\t_arguments -s -C \\\n",
              out);
        for (size_t i = 0; i < cli_flags_count; i++)
                if (offered(&cli_flags[i]))
                        zsh_spec(out, &cli_flags[i], descriptions);
        fputs("\t\t'1:command:(", out);
        put_words(out, commands);
        fputs(")' \\\n"
              "\t\t'*:: :->args' && ret=0\n"
              "\tif [[ $state == args && $line[1] == completion ]]; then\n"
              "\t\t_values shell ",
              out);
        put_words(out, shells);
        fputs(" && ret=0\n"
              "\tfi\n"
              "\treturn ret\n"
              "}\n\n"
              "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
              "\t_lading_executor \"$@\"\n"
              "else\n"
              "\tcompdef _lading_executor " PROG " /kaniko/" PROG "\n"
              "fi\n",
              out);
}

static void print_fish(FILE *out, bool descriptions)
{
        fputs("# fish completion for " PROG " (lading). Load it with\n"
              "#   " PROG " completion fish | source\n"
              "complete -c " PROG " -e\n"
              "set -g __lading_executor_takes_value",
              out);
        for (size_t i = 0; i < cli_flags_count; i++)
                if (offered(&cli_flags[i]) && value_kind(&cli_flags[i]) != VALUE_NONE) {
                        fputc(' ', out);
                        put_names(out, &cli_flags[i], " ");
                }
        fputs("\n"
              "# the words before the cursor that are neither flags nor flags' values\n"
              "function __lading_executor_args\n"
              "    set -l words (commandline -opc)\n"
              "    set -e words[1]\n"
              "    set -l skip 0\n"
              "    for w in $words\n"
              "        if test $skip = 1\n"
              "            set skip 0\n"
              "        else if contains -- $w $__lading_executor_takes_value\n"
              "            set skip 1\n"
              "        else if not string match -q -- '-*' $w\n"
              "            echo $w\n"
              "        end\n"
              "    end\n"
              "end\n"
              "function __lading_executor_args_are\n"
              "    set -l args (__lading_executor_args)\n"
              "    test \"$args\" = \"$argv\"\n"
              "end\n"
              "complete -c " PROG " -n __lading_executor_args_are -f -a '",
              out);
        put_words(out, commands);
        fputs("'\n"
              "complete -c " PROG " -n '__lading_executor_args_are completion' -f -a '",
              out);
        put_words(out, shells);
        fputs("'\n", out);
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *f = &cli_flags[i];
                if (!offered(f))
                        continue;
                fprintf(out, "complete -c " PROG " -l %s", f->name);
                if (f->short_name)
                        fprintf(out, " -s %c", f->short_name);
                switch (value_kind(f)) {
                case VALUE_NONE:
                        break;
                case VALUE_WORDS:
                        fputs(" -x -a '", out);
                        put_words(out, words_of(f));
                        fputs("'", out);
                        break;
                case VALUE_FILE:
                        fputs(" -r -F", out);
                        break;
                case VALUE_DIR:
                        fputs(" -x -a '(__fish_complete_directories)'", out);
                        break;
                case VALUE_OTHER:
                        fputs(" -x", out);
                        break;
                }
                if (descriptions) {
                        fputs(" -d '", out);
                        put_description(out, f, "'\\", 0);
                        fputs("'", out);
                }
                fputc('\n', out);
        }
}

static void print_powershell(FILE *out, bool descriptions)
{
        fputs("# PowerShell completion for " PROG " (lading). Load it with\n"
              "#   " PROG " completion powershell | Out-String | Invoke-Expression\n"
              "Register-ArgumentCompleter -Native -CommandName '" PROG "', '/kaniko/" PROG
              "' -ScriptBlock {\n"
              "    param($wordToComplete, $commandAst, $cursorPosition)\n"
              "    $flags = @(\n",
              out);
        for (size_t i = 0; i < cli_flags_count; i++) {
                const struct cli_flag *f = &cli_flags[i];
                if (!offered(f))
                        continue;
                fprintf(out, "        @('--%s', '", f->name);
                if (descriptions)
                        put_description(out, f, NULL, '\'');
                else
                        fprintf(out, "--%s", f->name);
                fputs("', '", out);
                if (value_kind(f) == VALUE_WORDS)
                        put_words(out, words_of(f));
                fputs("')\n", out);
        }
        fputs("    )\n"
              "    $words = $commandAst.CommandElements | ForEach-Object { $_.ToString() }\n"
              "    if ($wordToComplete -match '^(--[^=]+)=(.*)$') {\n"
              "        $flag, $value = $Matches[1], $Matches[2]\n"
              "        foreach ($f in $flags) {\n"
              "            if ($f[0] -eq $flag -and $f[2]) {\n"
              "                $f[2] -split ' ' | Where-Object { $_ -like \"$value*\" } |\n"
              "                    ForEach-Object { "
              "[System.Management.Automation.CompletionResult]::new(\"$flag=$_\", $_, "
              "'ParameterValue', $_) }\n"
              "            }\n"
              "        }\n"
              "        return\n"
              "    }\n"
              "    if ($wordToComplete -like '-*') {\n"
              "        foreach ($f in $flags) {\n"
              "            if ($f[0] -like \"$wordToComplete*\") {\n"
              "                [System.Management.Automation.CompletionResult]::new($f[0], $f[0], "
              "'ParameterName', $f[1])\n"
              "            }\n"
              "        }\n"
              "        return\n"
              "    }\n"
              "    if ($words.Count -le 2 -and $words[1] -ne 'completion') {\n"
              "        '",
              out);
        put_words(out, commands);
        fputs("' -split ' ' | Where-Object { $_ -like \"$wordToComplete*\" } |\n"
              "            ForEach-Object { "
              "[System.Management.Automation.CompletionResult]::new($_, $_, 'Command', $_) }\n"
              "    } elseif ($words[1] -eq 'completion') {\n"
              "        '",
              out);
        put_words(out, shells);
        fputs("' -split ' ' | Where-Object { $_ -like \"$wordToComplete*\" } |\n"
              "            ForEach-Object { "
              "[System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) "
              "}\n"
              "    }\n"
              "}\n",
              out);
}

static void print_completion_help(FILE *out)
{
        fputs("Usage:\n"
              "  " PROG " completion SHELL [--no-descriptions]\n"
              "\n"
              "Prints a completion script for the executor's flags and commands, for one of the\n"
              "shells bash, zsh, fish or powershell. To use it in the current shell:\n"
              "\n"
              "  bash:        source <(" PROG " completion bash)\n"
              "  zsh:         source <(" PROG " completion zsh)\n"
              "  fish:        " PROG " completion fish | source\n"
              "  powershell:  " PROG " completion powershell | Out-String | Invoke-Expression\n"
              "\n"
              "For every new shell, save the script where the shell looks for completions (for\n"
              "bash, /etc/bash_completion.d/" PROG "; for zsh, a directory of $fpath as _" PROG
              ";\n"
              "for fish, ~/.config/fish/completions/" PROG ".fish).\n"
              "\n"
              "Flags:\n"
              "  -h, --help           This help\n"
              "  --no-descriptions    Leave the flags' descriptions out of the script\n",
              out);
}

int cli_completion(int argc, char *const *argv, FILE *out, struct lerr **err)
{
        const char *shell = NULL;
        bool descriptions = true;

        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                if (streq(a, "-h") || streq(a, "--help") || streq(a, "--help=true")) {
                        print_completion_help(out);
                        return 0;
                }
                if (streq(a, "--no-descriptions") || streq(a, "--no-descriptions=true"))
                        descriptions = false;
                else if (streq(a, "--no-descriptions=false"))
                        descriptions = true;
                else if (a[0] == '-')
                        return lerr_set(err, EINVAL,
                                        "unknown flag '%s' for '" PROG " completion' (it takes "
                                        "--no-descriptions and --help)",
                                        a);
                else if (shell)
                        return lerr_set(err, EINVAL,
                                        "unexpected argument '%s' for '" PROG
                                        " completion' (one shell only)",
                                        a);
                else
                        shell = a;
        }
        if (!shell) {
                print_completion_help(out);
                return 0;
        }
        if (streq(shell, "bash"))
                print_bash(out);
        else if (streq(shell, "zsh"))
                print_zsh(out, descriptions);
        else if (streq(shell, "fish"))
                print_fish(out, descriptions);
        else if (streq(shell, "powershell"))
                print_powershell(out, descriptions);
        else
                return lerr_set(err, EINVAL,
                                "unknown shell '%s' for '" PROG
                                " completion': bash, zsh, fish or powershell",
                                shell);
        return 0;
}
