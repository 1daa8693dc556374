#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`executor completion SHELL`: each script is loaded into the real shell and asked for
completions of partial command lines, as a user's Tab would. bash: the completion function is
called with COMP_WORDS/COMP_CWORD set as readline sets them (with '=' a word break, bash's
default, and without). fish: `complete -C`. zsh: an interactive zsh on a pseudo-terminal
(zpty) gets the line and a Tab; compadd is wrapped to record what is offered. PowerShell is
not packaged for Debian, so its script is only checked for the flags and values it carries.
Also: the flags offered are exactly those --help lists outside "Deprecated aliases"; every
offered value is accepted by the executor; usage errors are one exact line."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cache"))
from cachelib import Tap  # noqa: E402

EXE = os.path.abspath(sys.argv[1])
T = Tap()

ZSH_DRIVER = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PROMPT=; RPROMPT=; autoload -Uz compinit; compinit -u -D'
zpty -w z "source ${(q)1}; __capfile=${(q)3}"
zpty -w z 'compadd () {
  if [[ ${@[(I)-[OAD]*]} -gt 0 ]]; then builtin compadd "$@"; return; fi
  local -a __hits
  builtin compadd -A __hits "$@"
  local h; for h in $__hits; do print -r -- "hit $h" >> $__capfile; done
}'
zpty -w z '__mark() { print -r -- end >> $__capfile }; zle -N __mark; bindkey "^X" __mark'
zpty -w z 'bindkey "^I" complete-word; zstyle ":completion:*" menu no'
zpty -n -w z "$2"$'\t\C-x'
for i in {1..150}; do [[ -f $3 ]] && grep -qx end $3 && break; sleep 0.1; done
zpty -d z
"""


def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=30)


def script(shell, *extra):
    p = run("completion", shell, *extra)
    T.eq((p.returncode, p.stderr), (0, ""), f"completion {shell} {' '.join(extra)}: exit 0")
    path = os.path.join(work, f"executor.{shell}{''.join(extra)}")
    with open(path, "w") as f:
        f.write(p.stdout)
    return path, p.stdout


def bash_complete(path, words, wordbreaks=True):
    """COMPREPLY for COMP_WORDS=words (the last one is being completed)."""
    if wordbreaks:
        # readline splits at '=': --flag=va is three words, --flag = va
        split = []
        for w in words:
            if w.startswith("--") and "=" in w:
                flag, value = w.split("=", 1)
                split += [flag, "="] + ([value] if value or w is not words[-1] else [])
            else:
                split.append(w)
        if words[-1].endswith("=") and words[-1].startswith("--"):
            split = split[:-1] + ["="]
        words = split
    code = (f'source {path}; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
            '_lading_executor; printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "--norc", "-c", code, "bash", *words], capture_output=True,
                       text=True, timeout=30, cwd=files)
    return sorted(x for x in p.stdout.splitlines() if x)


def fish_complete(path, line):
    p = subprocess.run(["fish", "--no-config", "-c", f"source {path}; complete -C {quote(line)}"],
                       capture_output=True, text=True, timeout=30, cwd=files)
    # fish marks a directory with a trailing slash
    return sorted({x.split("\t")[0].rstrip("/") for x in p.stdout.splitlines() if x})


def zsh_complete(path, driver, line):
    cap = os.path.join(work, "zsh-capture")
    if os.path.exists(cap):
        os.unlink(cap)
    subprocess.run(["zsh", "-f", driver, path, line, cap], capture_output=True, timeout=60,
                   cwd=files, env=dict(os.environ, HOME=work))
    try:
        with open(cap) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return ["(the zsh driver wrote nothing)"]
    if "end" not in lines:
        return ["(the zsh driver timed out)"] + lines
    return sorted({x[4:] for x in lines if x.startswith("hit ")})


def quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def help_flags():
    """The flags --help lists, outside the deprecated aliases: {long: short or None}."""
    out = run("--help").stdout
    flags, section = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            section = line
            continue
        m = re.match(r"^(?:  -(\w), |      )--([\w-]+)", line)
        if m and section not in ("Deprecated aliases:", "Environment:", "Usage:"):
            flags[m.group(2)] = m.group(1)
    return flags


# The cases every shell answers alike: (line, expected completions).
CASES = [
    ("executor --snap", ["--snapshot-mode"]),
    ("executor --ignore-", ["--ignore-path", "--ignore-var-run"]),
    ("executor --snapshot-mode ", ["full", "redo", "time"]),
    ("executor --verbosity d", ["debug"]),
    ("executor -v ", ["debug", "error", "fatal", "info", "panic", "trace", "warn"]),
    ("executor --compression z", ["zstd"]),
    ("executor -f Dock", ["Dockerfile", "Dockerfile.dev"]),
    ("executor --dockerfile sub/D", ["sub/Dockerfile.in-sub"]),
    ("executor --context c", ["ctx-dir"]),
    ("executor ", ["completion", "help", "version", "warm"]),
    ("executor completion ", ["bash", "fish", "powershell", "zsh"]),
    ("executor --no-push --verbosity debug com", ["completion"]),
    ("executor --whitelist", []),
    ("executor --tarP", []),
]


work = tempfile.mkdtemp(prefix="lading-completion-")
files = os.path.join(work, "files")
try:
    os.makedirs(os.path.join(files, "ctx-dir"))
    os.makedirs(os.path.join(files, "sub"))
    for name in ("Dockerfile", "Dockerfile.dev", "context.tar.gz", "sub/Dockerfile.in-sub"):
        open(os.path.join(files, name), "w").close()

    bash, bash_text = script("bash")
    zsh, zsh_text = script("zsh")
    zsh_bare, zsh_bare_text = script("zsh", "--no-descriptions")
    fish, fish_text = script("fish")
    ps, ps_text = script("powershell")
    ps_bare, ps_bare_text = script("powershell", "--no-descriptions")

    # bash
    for line, want in CASES:
        words = line.split(" ")
        T.eq(bash_complete(bash, words), want, f"bash: {line!r}")
    T.eq(bash_complete(bash, ["executor", "--snapshot-mode="]), ["full", "redo", "time"],
         "bash: '--snapshot-mode=' with '=' a word break")
    T.eq(bash_complete(bash, ["executor", "--log-format=j"]), ["json"],
         "bash: '--log-format=j' with '=' a word break")
    T.eq(bash_complete(bash, ["executor", "--log-format=j"], wordbreaks=False),
         ["--log-format=json"], "bash: '--log-format=j' as one word")
    T.eq(bash_complete(bash, ["executor", "--context=ctx"], wordbreaks=False),
         ["--context=ctx-dir"], "bash: '--context=ctx' as one word: directories only")
    T.eq(bash_complete(bash, ["executor", "--context", "ctx-dir", "--verbosity=info", "comp"]),
         ["completion"], "bash: the command after a flag's value and a split --flag=value")
    T.eq(bash_complete(bash, ["executor", "--destination", ""]), [],
         "bash: nothing to offer for a free-text value")
    T.eq(bash_complete(bash, ["executor", "completion", "bash", ""]), [],
         "bash: one shell only")

    # every flag --help lists, with its short form, and nothing else
    listed = re.search(r"^_lading_executor_flags='([^']*)'", bash_text, re.M).group(1).split()
    want = sorted(["--" + k for k in help_flags()] +
                  ["-" + v for v in help_flags().values() if v])
    T.ok(len(want) > 60, f"--help lists {len(want)} flag names")
    T.eq(sorted(listed), want, "bash offers exactly the flags of --help (no deprecated alias)")

    # fish
    if shutil.which("fish"):
        for line, want in CASES:
            T.eq(fish_complete(fish, line), want, f"fish: {line!r}")
        T.eq(fish_complete(fish, "executor --snapshot-mode=r"), ["--snapshot-mode=redo"],
             "fish: '--snapshot-mode=r'")
        p = subprocess.run(["fish", "--no-config", "-c",
                            f"source {fish}; complete -C {quote('executor --cache-rep')}"],
                           capture_output=True, text=True, timeout=30)
        T.eq(p.stdout, "--cache-repo\tRepository of cached layers\n",
             "fish: the flag comes with the first part of its help")
    else:
        T.ok(False, "fish is installed (scripts/test.sh installs it)")

    # zsh
    if shutil.which("zsh"):
        driver = os.path.join(work, "zsh-driver.zsh")
        with open(driver, "w") as f:
            f.write(ZSH_DRIVER)
        for line, want in CASES:
            # zsh keeps the directory part of a path out of the match (compadd -p)
            want = [w.split("/")[-1] for w in want]
            T.eq(zsh_complete(zsh, driver, line), want, f"zsh: {line!r}")
        T.eq(zsh_complete(zsh, driver, "executor --snapshot-mode="), ["full", "redo", "time"],
             "zsh: '--snapshot-mode='")
        T.eq(zsh_complete(zsh_bare, driver, "executor --cache-"),
             ["--cache-copy-layers", "--cache-dir", "--cache-repo", "--cache-run-layers",
              "--cache-ttl"], "zsh: --no-descriptions script completes flags")
        T.ok("[Repository of cached layers]" in zsh_text and
             "Repository of cached layers" not in zsh_bare_text,
             "zsh: --no-descriptions leaves the descriptions out")
        p = subprocess.run(["zsh", "-n", zsh], capture_output=True, text=True)
        T.eq((p.returncode, p.stderr), (0, ""), "zsh -n: the script parses")
    else:
        T.ok(False, "zsh is installed (scripts/test.sh installs it)")

    # PowerShell: not runnable here; the script carries every flag once, with its values
    for name in help_flags():
        T.ok(ps_text.count(f"@('--{name}', ") == 1, f"powershell: --{name} once")
    T.ok("@('--snapshot-mode', 'What marks a file as changed: full (content and metadata), "
         "redo (metadata and size) or time (modification time only)', 'full redo time')"
         in ps_text, "powershell: --snapshot-mode with its description and values",
         [x for x in ps_text.splitlines() if "snapshot-mode" in x])
    T.ok("@('--log-format', '--log-format', 'text color json')" in ps_bare_text,
         "powershell --no-descriptions: the flag name instead of a description")
    T.ok("Register-ArgumentCompleter -Native -CommandName 'executor', '/kaniko/executor'"
         in ps_text, "powershell: registered for executor and /kaniko/executor")

    # every value a script offers is one the executor accepts
    for flag, values in (("verbosity", "trace debug info warn error fatal panic"),
                         ("log-format", "text color json"), ("snapshot-mode", "full redo time"),
                         ("compression", "gzip zstd")):
        T.ok(f"--{flag}" in bash_text and f"'{values}'" in bash_text,
             f"bash offers {values} for --{flag}")
        for v in values.split():
            p = run(f"--{flag}={v}", "--version")
            T.eq((p.returncode, p.stderr), (0, ""), f"--{flag}={v} is accepted")

    # the command's help and its usage errors
    p = run("completion")
    T.ok(p.returncode == 0 and "executor completion SHELL" in p.stdout,
         "completion without a shell prints its help", p.stdout + p.stderr)
    p = run("completion", "--help")
    T.ok(p.returncode == 0 and "source <(executor completion bash)" in p.stdout,
         "completion --help", p.stdout + p.stderr)
    p = run("help", "completion")
    T.ok(p.returncode == 0 and "executor completion SHELL" in p.stdout,
         "help completion prints the command's help", p.stdout + p.stderr)
    p = run("--verbosity=debug", "completion", "fish")
    T.eq((p.returncode, p.stdout), (0, fish_text), "flags before the command are accepted")
    for args, line in (
            (["completion", "tcsh"], "error: unknown shell 'tcsh' for 'executor completion': "
             "bash, zsh, fish or powershell"),
            (["completion", "bash", "zsh"], "error: unexpected argument 'zsh' for 'executor "
             "completion' (one shell only)"),
            (["completion", "--descriptions", "bash"], "error: unknown flag '--descriptions' "
             "for 'executor completion' (it takes --no-descriptions and --help)")):
        p = run(*args)
        T.eq((p.returncode, p.stdout, p.stderr), (1, "", line + "\n"), " ".join(args))
finally:
    shutil.rmtree(work, ignore_errors=True)
sys.exit(T.done())
