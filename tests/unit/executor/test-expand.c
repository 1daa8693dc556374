/* SPDX-License-Identifier: Apache-2.0 */
/* Variable expansion: every form, quoting, escapes, the escape directive, unset handling,
 * patterns and word splitting, with the results Docker documents (and BuildKit implements). */
#include "executor/expand.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strv.h"
#include "tap.h"

static char *env_kv[] = {
        "HOME=/home",
        "SHELL=bash",
        "EMPTY=",
        "KOREAN=한국어",
        "SPACE=abc  def",
        "LEAD=  ab c",
        "FOO=xxyy",
        "PATHS=/tmp/tmp/bar.txt",
        "STARS=a***yy*",
        "URL=http://google.de",
        "GLOB=/foo*/*/*.txt",
        "NEEDLE=\\*/",
        "NL=a\nb",
        "Q=it's",
        NULL,
};

struct expand_case {
        const char *word;
        const char *want; /* NULL: an error */
        unsigned flags;
        char escape;
};

static const struct expand_case cases[] = {
        /* plain text, quotes and escapes */
        {"hello", "hello"},
        {"he'll'o", "hello"},
        {"he'llo", NULL},
        {"he\\'llo", "he'llo"},
        {"abc\\tdef", "abctdef"},
        {"\"abc\\tdef\"", "abc\\tdef"},
        {"\"abc\\\\tdef\"", "abc\\tdef"},
        {"'abc\\tdef'", "abc\\tdef"},
        {"hello\\", "hello"},
        {"hello\\\\", "hello\\"},
        {"\"hello", NULL},
        {"\"hello\\\"", NULL},
        {"\"hel'lo\"", "hel'lo"},
        {"'hello\\'", "hello\\"},
        {"\"''\"", "''"},
        {"'\"hello\"'", "\"hello\""},
        /* $name */
        {"$HOME", "/home"},
        {"he$HOME", "he/home"},
        {"he\\$HOME", "he$HOME"},
        {"he\\\\$HOME", "he\\/home"},
        {"\"he\\$HOME\"", "he$HOME"},
        {"'he\\$HOME'", "he\\$HOME"},
        {"'$HOME'", "$HOME"},
        {"\"$HOME\"", "/home"},
        {"\"he'$HOME'\"", "he'/home'"},
        {"he$home.", "he."},
        {"$.", "$."},
        {"he$.x", "he$.x"},
        {"$", "$"},
        {"a$", "a$"},
        {"he$1x", "hex"},
        {"$999aaa", "aaa"},
        {"$@@@", "@@"},
        {"$$", ""},
        {"$KOREAN", "한국어"},
        {"안녕$KOREAN", "안녕한국어"},
        {"$HOME_DIR", ""},
        {"${HOME}_DIR", "/home_DIR"},
        /* ${name} and its errors */
        {"he${HOME}", "he/home"},
        {"he${hi}xx", "hexx"},
        {"${}", NULL},
        {"he${}xx", NULL},
        {"\\${}", "${}"},
        {"he${.}", NULL},
        {"he${HOME", NULL},
        {"${", NULL},
        {"${{aaa}", NULL},
        {"${aaa}}", "}"},
        {"${:}", NULL},
        {"${:-bbb}", NULL},
        /* :- - :+ + */
        {"he${XXX:-000}xx", "he000xx"},
        {"he${HOME:-000}xx", "he/homexx"},
        {"he${XXX:-$HOME}xx", "he/homexx"},
        {"he${XXX:-${HOME:-yyy}}xx", "he/homexx"},
        {"he${XXX:-${YYY:-yyy}}xx", "heyyyxx"},
        {"${EMPTY:-dflt}", "dflt"},
        {"${EMPTY-dflt}", ""},
        {"${XXX-dflt}", "dflt"},
        {"he${XXX:+${HOME}}xx", "hexx"},
        {"he${HOME:+${XXX}}xx", "hexx"},
        {"he${HOME:+${SHELL}}xx", "hebashxx"},
        {"he${HOME:+000}xx", "he000xx"},
        {"${EMPTY:+set}", ""},
        {"${EMPTY+set}", "set"},
        {"he${HOME:+${HOME}:}xx", "he/home:xx"},
        {"he${XXX:-\\$HOME:}xx", "he$HOME:xx"},
        {"he${XXX:-\\${HOME}z}xx", "he${HOMEz}xx"},
        {"${aaa:-bbb}}", "bbb}"},
        {"${aaa:-bbb", NULL},
        {"${aaa:-bbb {foo}", "bbb {foo"},
        {"${aaa:-bbb ${foo}", NULL},
        {"${aaa:-'x y'}", "x y"},
        {"${1:-bbb}", "bbb"},
        {"${@:-bbb}aaa", "bbbaaa"},
        /* :? ? */
        {"he${XXX?}", NULL},
        {"he${XXX:?}", NULL},
        {"he${HOME?}", "he/home"},
        {"he${EMPTY?}", "he"},
        {"he${EMPTY:?}", NULL},
        {"${HOME:?must be set}", "/home"},
        /* unsupported forms */
        {"he${XXX:YYY}", NULL},
        {"he${HOME:=000}xx", NULL},
        {"${FOO=:aaa}", NULL},
        {"${FOO:#x}", NULL},
        {"${FOO:%%x}", NULL},
        /* # ## % %% */
        {"${FOO#*x*y}", "y"},
        {"${FOO#*}", "xxyy"},
        {"${FOO##*}", ""},
        {"${FOO#x}", "xyy"},
        {"${FOO##*x}", "yy"},
        {"${FOO#}", "xxyy"},
        {"${FOO#?\\?}", "xxyy"},
        {"${FOO%y}", "xxy"},
        {"${FOO%%y*}", "xx"},
        {"${FOO%y*}", "xxy"},
        {"${FOO%%x*}", ""},
        {"${FOO%}", "xxyy"},
        {"${STARS%%\\**\\*}", "a"},
        {"${FOO#$SHELL}", "xxyy"},
        {"${PATHS##*/}", "bar.txt"},
        {"${PATHS%/*}", "/tmp/tmp"},
        {"${PATHS%%.*}", "/tmp/tmp/bar"},
        {"${FOO#\\x}", NULL},
        {"${NL#*}", "a\nb"},
        {"${NL##*}", "\nb"},
        {"${UNSET#x}", ""},
        /* / // */
        {"${URL/http:/https:}", "https://google.de"},
        {"${PATHS/\\/tmp/}", "/tmp/bar.txt"},
        {"${PATHS//\\/tmp/}", "/bar.txt"},
        {"${GLOB/$NEEDLE/.}", "/foo.*/*.txt"},
        {"${GLOB//$NEEDLE/.}", "/foo..*.txt"},
        {"${PATHS//\\//\\/}", "\\/tmp\\/tmp\\/bar.txt"},
        {"${FOO/$EMPTY/ww}", "wwxxyy"},
        {"${FOO///}", "xxyy"},
        {"${FOO//y/Y}", "xxYY"},
        {"${FOO/?/_}", "_xyy"},
        {"${FOO//*/_}", "_"},
        {"${FOO//ww}", NULL},
        {"${FOO//}", NULL},
        {"${UNSET///}", ""},
        /* the backtick escape directive */
        {"a`$HOME", "a$HOME", 0, '`'},
        {"a\\$HOME", "a\\/home", 0, '`'},
        {"\"a`\"b\"", "a\"b", 0, '`'},
        {"C:\\dir\\x", "C:\\dir\\x", 0, '`'},
        /* keep unset (plan time) */
        {"$UNSET/x", "$UNSET/x", EXPAND_KEEP_UNSET},
        {"${UNSET}/x", "${UNSET}/x", EXPAND_KEEP_UNSET},
        {"${UNSET:-def}", "${UNSET:-def}", EXPAND_KEEP_UNSET},
        {"${UNSET:?msg}", "${UNSET:?msg}", EXPAND_KEEP_UNSET},
        {"${UNSET//a/b}", "${UNSET//a/b}", EXPAND_KEEP_UNSET},
        {"$HOME/$UNSET", "/home/$UNSET", EXPAND_KEEP_UNSET},
        {"${EMPTY:-x}", "x", EXPAND_KEEP_UNSET},
        /* raw quotes and escapes (heredoc word detection) */
        {"'a b'\\c", "'a b'\\c", EXPAND_RAW_QUOTES | EXPAND_RAW_ESCAPES},
        {"\"$HOME\"", "\"/home\"", EXPAND_RAW_QUOTES},
        /* heredoc bodies: quotes are text */
        {"it's \"$HOME\"", "it's \"/home\"", EXPAND_NO_QUOTES},
        {"cost: \\$5", "cost: $5", EXPAND_NO_QUOTES},
        {"<< EOF", "<< EOF"},
};

static const char *table_lookup(void *userdata, const char *name)
{
        (void) userdata;
        size_t n = strlen(name);
        for (char **kv = env_kv; *kv; kv++)
                if (strncmp(*kv, name, n) == 0 && (*kv)[n] == '=')
                        return *kv + n + 1;
        return NULL;
}

static const struct expand_env env = {.lookup = table_lookup};

static void test_words(void)
{
        static const struct {
                const char *word;
                const char *want; /* words joined with '|' */
        } w[] = {
                {"hello", "hello"},
                {"hello there     ", "hello|there"},
                {"hello${SPACE}bye", "helloabc|defbye"},
                {"hello\"${SPACE}\"bye", "helloabc  defbye"},
                {"hello \"${SPACE}\"bye", "hello|abc  defbye"},
                {"hello${LEAD}def", "hello|ab|cdef"},
                {"hello\"${LEAD}\" def", "hello  ab c|def"},
                {"hello\\ there", "hello there"},
                {"hello\\\" there", "hello\"|there"},
                {"a \"\" b", "a|b"},
                {"80 $UNSET 443/udp", "80|443/udp"},
                {"<< EOF x", "<< EOF|x"},
                {"a\xc2\xa0"
                 "b",
                 "a|b"},
                {"", ""},
        };
        for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
                char **v = NULL;
                struct lerr *err = NULL;
                int r = expand_words(w[i].word, '\\', 0, &env, &v, &err);
                if (!is_int(r, 0, "words '%s' succeeds", w[i].word)) {
                        diag("%s", lerr_message(err));
                        lerr_free(err);
                        continue;
                }
                char *j = strv_join(v, "|");
                is_str(j, w[i].want, "words '%s'", w[i].word);
                free(j);
                strv_free(v);
        }
        char **v = NULL;
        struct lerr *err = NULL;
        is_int(expand_words("a \"b", '\\', 0, &env, &v, &err), -EINVAL, "words: open quote");
        is_str(lerr_message(err),
               "expand 'a \"b': unexpected end of statement while looking for matching "
               "double-quote",
               "words: open quote message");
        lerr_free(err);
}

static void test_messages(void)
{
        static const struct {
                const char *word, *msg;
        } m[] = {
                {"${X:?}", "expand '${X:?}': X: is not allowed to be unset"},
                {"${EMPTY:?}", "expand '${EMPTY:?}': EMPTY: is not allowed to be empty"},
                {"${X?set X first}", "expand '${X?set X first}': X: set X first"},
                {"${}", "expand '${}': syntax error: bad substitution"},
                {"${X", "expand '${X': syntax error: missing '}'"},
                {"${X:-a", "expand '${X:-a': syntax error: missing '}'"},
                {"${X/a", "expand '${X/a': syntax error: missing '/' in ${}"},
                {"${X:=a}", "expand '${X:=a}': unsupported modifier (:=) in substitution"},
                {"${X:#a}", "expand '${X:#a}': unsupported modifier (:#) in substitution"},
                {"'abc", "expand ''abc': unexpected end of statement while looking for "
                         "matching single-quote"},
                {"${FOO#a\\b}", "expand '${FOO#a\\b}': invalid pattern 'a\\b' in substitution: "
                                "invalid escape '\\b'"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
                char *out = NULL;
                struct lerr *err = NULL;
                int r = expand_word(m[i].word, '\\', 0, &env, &out, &err);
                is_int(r, -EINVAL, "'%s' fails with EINVAL", m[i].word);
                is_str(lerr_message(err), m[i].msg, "'%s' message", m[i].word);
                lerr_free(err);
                free(out);
        }
}

static void test_limits(void)
{
        /* 65 nested levels */
        char deep[65 * 8 + 8] = "";
        for (int i = 0; i < 65; i++)
                strcat(deep, "${A:-");
        strcat(deep, "x");
        for (int i = 0; i < 65; i++)
                strcat(deep, "}");
        char *out = NULL;
        struct lerr *err = NULL;
        is_int(expand_word(deep, '\\', 0, &env, &out, &err), -EINVAL, "nesting over the limit");
        lerr_free(err);
        err = NULL;

        /* 64 levels are fine */
        char ok64[64 * 8 + 8] = "";
        for (int i = 0; i < 64; i++)
                strcat(ok64, "${A:-");
        strcat(ok64, "x");
        for (int i = 0; i < 64; i++)
                strcat(ok64, "}");
        is_int(expand_word(ok64, '\\', 0, &env, &out, &err), 0, "nesting at the limit");
        is_str(out, "x", "nested default");
        free(out);

        /* a result over the size cap */
        size_t big = 1u << 20;
        char *val = malloc(big + 3);
        memcpy(val, "V=", 2);
        memset(val + 2, 'a', big);
        val[big + 2] = '\0';
        char *kv[] = {val, NULL};
        struct expand_strv_env se;
        expand_strv_env_init(&se, kv);
        char word[17 * 3 + 1] = "";
        for (int i = 0; i < 17; i++)
                strcat(word, "$V");
        out = NULL;
        err = NULL;
        is_int(expand_word(word, '\\', 0, &se.env, &out, &err), -E2BIG, "result over the cap");
        lerr_free(err);
        err = NULL;
        is_int(expand_word("$V$V", '\\', 0, &se.env, &out, &err), 0, "result under the cap");
        is_int(strlen(out), 2 * big, "two copies");
        free(out);
        free(val);
}

static void test_strv_env(void)
{
        char *kv[] = {"A=1", "B=2", "A=3", "AB=4", NULL};
        struct expand_strv_env se;
        expand_strv_env_init(&se, kv);
        char *out = NULL;
        is_int(expand_word("$A-$B-$AB-${ABC:-none}", '\\', 0, &se.env, &out, NULL), 0,
               "strv env expands");
        is_str(out, "3-2-4-none", "later entries win, names are exact");
        free(out);
        is_int(expand_word("[$A]", '\\', 0, NULL, &out, NULL), 0, "NULL env");
        is_str(out, "[]", "NULL env: all unset");
        free(out);
}

int main(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                const struct expand_case *c = &cases[i];
                char *out = NULL;
                struct lerr *err = NULL;
                int r = expand_word(c->word, c->escape ? c->escape : '\\', c->flags, &env, &out,
                                    &err);
                if (!c->want) {
                        if (!ok(r < 0 && err, "'%s' is an error", c->word))
                                diag("got '%s'", out);
                } else if (is_int(r, 0, "'%s' expands", c->word))
                        is_str(out, c->want, "'%s'", c->word);
                else
                        diag("%s", lerr_message(err));
                free(out);
                lerr_free(err);
        }
        test_words();
        test_messages();
        test_limits();
        test_strv_env();
        return tap_done();
}
