"""The Makefile and the shell scripts a learner runs work with what a Mac ships: GNU make 3.81, bash 3.2, BSD tools.

Apple stopped updating both at their last GPLv2 releases, so `make` on a Mac
is 3.81 (2006) and `/bin/bash` is 3.2 (2007), and `sed`, `readlink`, `date`,
`stat`, `grep` are the BSD ones. Debian has neither old version to run the
scripts with, so this is a static check: each construct newer than those, or
GNU-only, is reported with its file, line and what to write instead.

It reads the Makefile (its directives, and its recipes, which /bin/sh runs:
bash 3.2 on a Mac), and every file under scripts/, .ci/ and docker/ whose
first line names sh or bash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from workshop.config import REPO_ROOT


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    construct: str
    instead: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.construct} ({self.instead})"


# (pattern, construct, what works on a Mac instead); searched in each line with its comment removed
BASH_4: list[tuple[str, str, str]] = [
    (r"\b(mapfile|readarray)\b", "mapfile/readarray (bash 4)", "a while read loop"),
    (r"\b(declare|local|typeset)\s+-[a-zA-Z]*A", "associative array (bash 4)", "two plain arrays, or a case"),
    (r"\b(declare|local|typeset)\s+-[a-zA-Z]*n\b", "nameref (bash 4.3)", "eval, or pass the value"),
    (r"\b(declare|typeset)\s+-[a-zA-Z]*g", "declare -g (bash 4.2)", "assign without declare"),
    (r"\$\{[#!]?\w+(\[[^]]*\])?(,,?|\^\^?)[^}]*\}", "${x,,} / ${x^^} case change (bash 4)", "tr '[:upper:]' '[:lower:]'"),
    (r"\$\{\w+(\[[^]]*\])?@[QEPAaKkUuL]\}", "${x@Q} transformation (bash 4.4)", "printf %q"),
    (r"\$\{\w+\[-\d+\]\}", "negative array index (bash 4.3)", "${a[${#a[@]}-1]}"),
    (r"\$\{\w+:[^}:]*:\s*-\d+\}", "negative substring length (bash 4.2)", "compute the length"),
    (r"\|&", "|& (bash 4)", "2>&1 |"),
    (r"&>>", "&>> (bash 4)", ">>file 2>&1"),
    (r"\bcoproc\b", "coproc (bash 4)", "a named pipe"),
    (r"\bwait\s+-n\b", "wait -n (bash 4.3)", "wait PID"),
    (r"\$\{?(EPOCHSECONDS|EPOCHREALTIME|BASHPID)\b", "$EPOCHSECONDS/$EPOCHREALTIME/$BASHPID (bash 4/5)", "date +%s, $SECONDS"),
    (r";;&|(?<![;&]);&", "case fall-through ;& / ;;& (bash 4)", "repeat the commands"),
    (r"\bshopt\s+-s\b.*\b(globstar|lastpipe)\b", "shopt globstar/lastpipe (bash 4)", "find"),
    (r"\bread\b[^;|&]*\s-[a-zA-Z]*i\b", "read -i (bash 4)", "a default after the read"),
    (r"(\[\[|\btest|\[)\s+-v\s", "-v VAR test (bash 4.2)", '[ -n "${VAR+set}" ]'),
    (r"%\([^)]*\)T", "printf %(...)T (bash 4.2)", "date"),
    (r"\{-?\w+\.\.-?\w+\.\.-?\d+\}", "{a..b..step} (bash 4)", "seq, or a while loop"),
]
NOT_ON_A_MAC: list[tuple[str, str, str]] = [
    (r"\bsed\b[^|;&]*\s-i(\s|$)", "sed -i without a suffix (GNU; BSD sed takes the next word as the suffix)", "sed -i.bak ... && rm FILE.bak, or a temp file"),
    (r"\breadlink\b[^|;&]*\s-[a-zA-Z]*f", "readlink -f (not in macOS before 12.3)", 'cd "$(dirname ...)" && pwd -P'),
    (r"\bgrep\b[^|;&]*\s-[a-zA-Z]*P", "grep -P (GNU)", "grep -E"),
    (r"\bdate\b[^|;&]*\s(-d\b|--date)", "date -d (GNU)", "python3 -c, or date -r on BSD"),
    (r"\bstat\b[^|;&]*\s(-c\b|--format)", "stat -c (GNU; BSD stat -f)", "python3 -c, or wc/ls"),
    (r"(^|[;&|({]\s*|\bthen\s+|\bdo\s+)timeout\s", "timeout (GNU coreutils)", "the tool's own timeout, or python3"),
    (r"\bnproc\b", "nproc (GNU coreutils)", "getconf _NPROCESSORS_ONLN"),
    (r"\bxargs\b[^|;&]*\s-[a-zA-Z]*r\b", "xargs -r (GNU)", "check for input first"),
    (r"\bfind\b.*\s-printf\b", "find -printf (GNU)", "find ... -exec"),
    (r"\bhead\b[^|;&]*\s-n\s*-\d", "head -n -N (GNU)", "sed '$d'"),
    (r"(?<![(\w])realpath\b", "realpath (not in macOS before 13)", 'cd "$(dirname ...)" && pwd -P'),
    (r"\bmktemp\b[^|;&]*\s--", "mktemp long options (GNU)", "mktemp -d"),
]
MAKE_3_82: list[tuple[str, str, str]] = [
    (r"^\s*\.ONESHELL\s*:", ".ONESHELL (make 3.82)", "join the lines with ; \\"),
    (r"^\s*\.RECIPEPREFIX\b", ".RECIPEPREFIX (make 3.82)", "a tab"),
    (r"^\s*\.SHELLFLAGS\b", ".SHELLFLAGS (make 3.82)", "set -e in the recipe"),
    (r"^\s*\.(EXTRA_PREREQS|NOTINTERMEDIATE)\b", ".EXTRA_PREREQS/.NOTINTERMEDIATE (make 4.3)", "plain prerequisites"),
    (r"^\s*undefine\b", "undefine (make 3.82)", "VAR :="),
    (r"^\s*-?load\s", "load (make 4.0)", "a script"),
    (r"^[^\t#]*[^:!?+\s]\s*!=", "!= shell assignment (make 4.0)", "VAR := $(shell ...)"),
    (r":::?=", "::= / :::= assignment (make 4.0 / 4.4)", ":="),
    (r"\$[({](file|guile|let|intcmp)\s", "$(file/guile/let/intcmp ...) (make 4)", "$(shell ...)"),
    (r"^[^\t#=]*&::?(\s|$)", "grouped targets &: (make 4.3)", "one rule per target, or a stamp file"),
    (r"^\s*define\s+\S+\s*(=|:=|::=|\+=|\?=|!=)\s*$", "define NAME = (make 3.82)", "define NAME"),
    (r"(^|\s)private\s+[\w.-]+\s*[:+?!]?=", "private variable (make 3.82)", "a plain target-specific variable"),
]

_SHEBANG = re.compile(r"^#!\s*(/usr/bin/env\s+)?(\S*/)?(ba)?sh\b")
_NOUNSET = re.compile(r"^\s*set\s+(-[a-zA-Z]*u|-o\s+nounset)")


def _code(line: str) -> str:
    """A shell line without its comment: a `#` at the start or after a blank (not `$#`, `${#x}`)."""
    return re.split(r"(?:^|\s)#", line, maxsplit=1)[0]


def _search(path: str, numbered: list[tuple[int, str]], rules: list[tuple[str, str, str]]) -> list[Finding]:
    return [
        Finding(path, number, construct, instead)
        for number, text in numbered
        for pattern, construct, instead in rules
        if re.search(pattern, text)
    ]


def empty_arrays_under_nounset(path: str, lines: list[str]) -> list[Finding]:
    """`"${a[@]}"` of an array that may be empty, under set -u: bash 3.2 stops with "a[@]: unbound variable".

    An array assigned `()` may stay empty. Each of its expansions must be the
    3.2-safe `${a[@]+"${a[@]}"}`, or sit inside a block guarded by `${#a[@]} -gt 0`
    (the guard's line less indented than the use, and every line between more).
    """
    if not any(_NOUNSET.match(line) for line in lines):
        return []
    empty = set(re.findall(r"(?:^|[\s;])(\w+)=\(\s*\)", "\n".join(_code(line) for line in lines)))
    findings = []
    for index, line in enumerate(lines):
        code = _code(line)
        for name in empty:
            uses = re.finditer(r"\$\{" + name + r"\[[@*]\]([^}]?)", code)
            for use in uses:
                if use.group(1) in ("+", "-", ":"):  # ${a[@]+...}, ${a[@]-...}, ${a[@]:-...}
                    continue
                if f"${{{name}[@]+" in code[: use.start()]:
                    continue  # the inner "${a[@]}" of ${a[@]+"${a[@]}"}
                if _guarded(lines, index, name):
                    continue
                findings.append(Finding(path, index + 1, f'"${{{name}[@]}}" of a possibly empty array under set -u (bash 3.2)', f'${{{name}[@]+"${{{name}[@]}}"}}'))
    return findings


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _guarded(lines: list[str], index: int, name: str) -> bool:
    guard = re.compile(r"\$\{#" + name + r"\[[@*]\]\}\s+-(gt|ne)\s+0")
    depth = _indent(lines[index])
    for earlier in range(index - 1, -1, -1):
        line = lines[earlier]
        if not line.strip():
            continue
        if _indent(line) < depth:
            if guard.search(line):
                return True
            depth = _indent(line)
            if depth == 0:
                return False
    return False


def check_shell(path: str, text: str) -> list[Finding]:
    lines = text.splitlines()
    numbered = [(n, _code(line)) for n, line in enumerate(lines, start=1)]
    return _search(path, numbered, BASH_4 + NOT_ON_A_MAC) + empty_arrays_under_nounset(path, lines)


def check_makefile(path: str, text: str) -> list[Finding]:
    numbered = list(enumerate(text.splitlines(), start=1))
    directives = [(n, re.split(r"(?<!\\)#", line, maxsplit=1)[0]) for n, line in numbered if not line.startswith("\t")]
    recipes = [(n, _code(line)) for n, line in numbered if line.startswith("\t")]
    return _search(path, directives, MAKE_3_82) + _search(path, recipes, BASH_4 + NOT_ON_A_MAC) + pattern_rule_order(path, directives)


def pattern_rule_order(path: str, directives: list[tuple[int, str]]) -> list[Finding]:
    """A general pattern rule before a more specific one: make 3.81 takes the first that matches, 3.82+ the shortest stem.

    `lab-%:` above `lab-%-hint:` would run `make lab-1-hint` as lab "1-hint" on a Mac.
    """
    patterns = []
    for number, line in directives:
        rule = re.match(r"^([^\s:=]*%[^\s:=]*)\s*:(?!=)", line)
        if rule:
            patterns.append((number, rule.group(1)))
    findings = []
    for i, (first_line, general) in enumerate(patterns):
        matcher = re.compile("^" + re.escape(general).replace("%", ".+") + "$")
        for later_line, specific in patterns[i + 1 :]:
            if specific != general and matcher.match(specific.replace("%", "X")):
                findings.append(Finding(path, later_line, f"pattern rule {specific} after the more general {general} (line {first_line})", "put the specific rule first: make 3.81 takes the first that matches"))
    return findings


def learner_shell_files() -> list[Path]:
    candidates = [p for folder in ("scripts", ".ci", "docker") for p in sorted((REPO_ROOT / folder).glob("*")) if p.is_file()]
    return [p for p in candidates if _SHEBANG.match(p.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0])]


def test_the_shell_scripts_and_the_makefile_are_found() -> None:
    names = {p.relative_to(REPO_ROOT).as_posix() for p in learner_shell_files()}
    assert {"scripts/make-venv", "scripts/pick-python", ".ci/run", "docker/test-compose.sh"} <= names, names
    assert "scripts/doctor.py" not in names


@pytest.mark.parametrize("path", learner_shell_files(), ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_each_shell_script_runs_on_bash_3_2_and_bsd_tools(path: Path) -> None:
    findings = check_shell(path.relative_to(REPO_ROOT).as_posix(), path.read_text(encoding="utf-8"))
    assert not findings, "\n".join(map(str, findings))


def test_the_makefile_runs_on_make_3_81() -> None:
    findings = check_makefile("Makefile", (REPO_ROOT / "Makefile").read_text(encoding="utf-8"))
    assert not findings, "\n".join(map(str, findings))


BAD_SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
mapfile -t lines < file
declare -A seen
echo "${name,,}" "${name^^}" "${x@Q}" "${a[-1]}"
make 2>&1 |& tee log
echo done &>> log
wait -n
echo $EPOCHSECONDS
sed -i 's/a/b/' file
here=$(readlink -f "$0")
grep -P '\\d+' file
date -d yesterday
stat -c %s file
timeout 5 sleep 1
extra=()
cmd "${extra[@]}"
cmd ${extra[@]+"${extra[@]}"}
if [ ${#extra[@]} -gt 0 ]; then
    cmd "${extra[@]}"
fi
# mapfile in a comment is fine
"""


def test_the_check_finds_each_construct_of_a_bad_script_with_its_line() -> None:
    found = {(f.line, f.construct.split(" (")[0].split(" of ")[0]) for f in check_shell("bad.sh", BAD_SCRIPT)}
    expected = {
        (3, "mapfile/readarray"), (4, "associative array"), (5, "${x,,} / ${x^^} case change"),
        (5, "${x@Q} transformation"), (5, "negative array index"), (6, "|&"), (7, "&>>"), (8, "wait -n"),
        (9, "$EPOCHSECONDS/$EPOCHREALTIME/$BASHPID"), (10, "sed -i without a suffix"), (11, "readlink -f"),
        (12, "grep -P"), (13, "date -d"), (14, "stat -c"), (15, "timeout"), (17, '"${extra[@]}"'),
    }  # fmt: skip
    assert found == expected, sorted(found ^ expected)


BAD_MAKEFILE = """.ONESHELL:
FILES != ls
NOW ::= $(shell date)
$(file > out.txt,hello)
define BODY =
x
endef
undefine NOW
a b &: c
\ttouch a b
lab-%:
\techo $*
lab-%-hint:
\tsed -i 's/x/y/' notes
"""


def test_the_check_finds_each_construct_of_a_bad_makefile_with_its_line() -> None:
    found = {(f.line, f.construct.split(" (")[0]) for f in check_makefile("Makefile", BAD_MAKEFILE)}
    expected = {
        (1, ".ONESHELL"), (2, "!= shell assignment"), (3, "::= / :::= assignment"), (4, "$(file/guile/let/intcmp ...)"),
        (5, "define NAME ="), (8, "undefine"), (9, "grouped targets &:"),
        (13, "pattern rule lab-%-hint after the more general lab-%"), (14, "sed -i without a suffix"),
    }  # fmt: skip
    assert found == expected, sorted(found ^ expected)


def test_a_finding_says_file_line_and_construct() -> None:
    (finding,) = check_shell("scripts/x", "#!/bin/bash\nreadarray -t a < f\n")
    assert str(finding).startswith("scripts/x:2: mapfile/readarray (bash 4)")
