"""The measured figures the docs quote, rendered from docs/benchmarks.json into marked blocks.

Why: a figure typed into a doc goes stale the day the code gets faster or
slower, and nobody can tell which run it came from. Here every measured figure
a doc quotes is rendered from the json `make bench` writes, with the json key
it comes from beside it, between two markers:

    <!-- figures from docs/benchmarks.json (NAME): make bench writes this block -->
    ...
    <!-- end of figures (NAME) -->

`make bench` calls write_docs() right after it writes the json; `make
docs-figures` runs it alone (after a merge brought a new json, or after a
block's wording changed here). A unit test renders the committed json and
compares it with the committed docs, so a stale block fails the tests.

The json is read defensively: a key that is missing, null or not a number is
rendered as NOT_MEASURED, never guessed, so a bench that gains or loses a key
never breaks the docs. All the wording lives in this module (BLOCKS), so a
new figure is one entry here (LAB_COLUMNS for a per-lab one).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop.config import REPO_ROOT
from workshop.labs.manifest import LABS

BENCHMARKS_JSON = Path("docs") / "benchmarks.json"
NOT_MEASURED = "not measured yet: run `make bench`"
START = "<!-- figures from docs/benchmarks.json ({name}): make bench writes this block -->"
END = "<!-- end of figures ({name}) -->"


class DocsFiguresError(Exception):
    """The json cannot be read, or a doc lacks (or repeats) a block's markers: said, never skipped."""


@dataclass(frozen=True)
class BenchFigures:
    """docs/benchmarks.json as it was read, and its figures looked up by key path, defensively."""

    data: Mapping[str, Any]

    def number(self, *path: str) -> float | None:
        """The figure at figures[path[0]][path[1]]...; None when any part is missing or not a finite number."""
        value: Any = self.data.get("figures")
        for part in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        return float(value)

    def shown(self, unit: str, *path: str) -> str:
        """The figure with its unit, as the json holds it (already rounded by the bench), or NOT_MEASURED."""
        value = self.number(*path)
        return NOT_MEASURED if value is None else f"{value} {unit}"

    def run_line(self) -> str:
        """Which run the figures come from: the machine's facts and the commit the bench measured."""
        machine = self.data.get("machine")
        facts = ", ".join(f"{k}: {v}" for k, v in machine.items()) if isinstance(machine, Mapping) and machine else ""
        commit = self.data.get("commit")
        commit_text = f"commit {commit[:7]}" if isinstance(commit, str) and commit else "commit not recorded"
        if not facts:
            return f"Measured by `make bench` ({commit_text}; the machine is not recorded)."
        return f"Measured by `make bench` on {facts}; {commit_text}."


def key_text(*path: str) -> str:
    """How a doc names a figure's json key, e.g. `lab_run_warm_s["1"]`: the reader can find it in the json."""
    return "`" + path[0] + "".join(f'["{part}"]' for part in path[1:]) + "`"


def load(path: Path) -> BenchFigures:
    """The json at path; a missing file reads as no figures at all (each then NOT_MEASURED)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return BenchFigures({})
    except (OSError, ValueError) as exc:
        raise DocsFiguresError(f"{path} cannot be read as JSON ({exc}): run `make bench` to write it again") from exc
    if not isinstance(data, Mapping):
        raise DocsFiguresError(f"{path} holds {type(data).__name__}, not an object: run `make bench` to write it again")
    return BenchFigures(data)


# --- what each block says: the one place a doc's measured figures are worded -------------------


@dataclass(frozen=True)
class LabColumn:
    """One per-lab figure of the tool-times table: figures[key]["<lab>"], or figures[key]["<lab>"][part]."""

    title: str
    key: str
    part: str | None = None
    unit: str = "s"

    def path(self, lab: int | str) -> tuple[str, ...]:
        """The key path of one lab's figure ("N" for the header, which names the key for every lab)."""
        return (self.key, str(lab)) + ((self.part,) if self.part else ())


# The per-lab figures, in the table's order. A phase breakdown the bench adds per lab is one
# entry each, e.g. LabColumn("its live run", "lab_phases_s", "live") for {"1": {"live": 1.2}}.
LAB_COLUMNS: tuple[LabColumn, ...] = (
    LabColumn("`make lab-N`, warm, solution", "lab_run_warm_s"),
    LabColumn("its checks alone", "lab_checks_s"),
)


def day_before(figures: BenchFigures) -> str:
    """INSTRUCTOR.md, "The day before": what the room's first commands cost once the packages are cached."""
    return (
        "*Measured*, once the packages are in the cache:\n\n"
        "- `make demo` from a fresh clone, package cache warm (environments created, stack\n"
        f"  started, two orders): {figures.shown('s', 'demo_fresh_clone_s')} ({key_text('demo_fresh_clone_s')});\n"
        f"- the stack, from start to healthy: {figures.shown('s', 'stack_start_s')} ({key_text('stack_start_s')}).\n\n"
        f"{figures.run_line()}\n"
    )


def tool_times(figures: BenchFigures) -> str:
    """INSTRUCTOR.md, the agendas' tool times: each lab's `make lab-N` and its checks, per the manifest's labs."""
    header = "| lab | " + " | ".join(f"{c.title}: {key_text(*c.path('N'))}" for c in LAB_COLUMNS) + " |"
    rule = "| --- |" + " ---: |" * len(LAB_COLUMNS)
    rows = [
        f"| {lab.number} {lab.title} | " + " | ".join(figures.shown(c.unit, *c.path(lab.number)) for c in LAB_COLUMNS) + " |"
        for lab in LABS
    ]
    return "\n".join([figures.run_line(), "", header, rule, *rows]) + "\n"


@dataclass(frozen=True)
class Block:
    """A marked block of a doc (path relative to the repository) and what renders it."""

    doc: str
    name: str
    render: Callable[[BenchFigures], str]


BLOCKS: tuple[Block, ...] = (
    Block("docs/INSTRUCTOR.md", "day-before", day_before),
    Block("docs/INSTRUCTOR.md", "tool-times", tool_times),
)


# --- the markers, read and rewritten ------------------------------------------------------------


def _block_span(page: str, doc: str, name: str) -> tuple[int, int]:
    """Where the block's text sits in page: after its start marker's line, up to its end marker."""
    start, end = START.format(name=name), END.format(name=name)
    if page.count(start) != 1 or page.count(end) != 1:
        raise DocsFiguresError(
            f"{doc}: block {name!r} needs exactly one {start} and one {end} "
            f"(found {page.count(start)} and {page.count(end)})"
        )
    body_from = page.index(start) + len(start)
    body_to = page.index(end)
    if body_to < body_from or not page.startswith("\n", body_from):
        raise DocsFiguresError(f"{doc}: block {name!r}: the start marker must end its line and come before {end}")
    return body_from + 1, body_to


def block_text(page: str, doc: str, name: str) -> str:
    """The text a doc holds now between a block's markers."""
    body_from, body_to = _block_span(page, doc, name)
    return page[body_from:body_to]


def with_block(page: str, doc: str, name: str, text: str) -> str:
    """page with the block's text replaced (everything outside the markers untouched)."""
    body_from, body_to = _block_span(page, doc, name)
    return page[:body_from] + text + page[body_to:]


def unknown_blocks(page: str, doc: str) -> list[str]:
    """Block names marked in a doc that BLOCKS does not render: a typo would otherwise never be refreshed."""
    known = {block.name for block in BLOCKS if block.doc == doc}
    pattern = re.escape(START).replace(re.escape("{name}"), "(.*?)")
    return [name for name in re.findall(pattern, page) if name not in known]


def rendered(figures: BenchFigures, root: Path = REPO_ROOT) -> dict[str, str]:
    """Each doc's whole text with every block rendered from figures (docs in BLOCKS order)."""
    pages: dict[str, str] = {}
    for block in BLOCKS:
        if block.doc not in pages:
            pages[block.doc] = (root / block.doc).read_text(encoding="utf-8")
            if unknown := unknown_blocks(pages[block.doc], block.doc):
                raise DocsFiguresError(f"{block.doc}: no renderer for block(s) {', '.join(unknown)} (see BLOCKS)")
        # a blank line on each side: Markdown then never runs the block into the text around it
        text = "\n" + block.render(figures).strip("\n") + "\n\n"
        pages[block.doc] = with_block(pages[block.doc], block.doc, block.name, text)
    return pages


def stale_docs(figures: BenchFigures, root: Path = REPO_ROOT) -> list[str]:
    """The docs whose blocks differ from what figures render: their figures are typed or stale."""
    return [doc for doc, text in rendered(figures, root).items() if (root / doc).read_text(encoding="utf-8") != text]


def write_docs(figures: BenchFigures, root: Path = REPO_ROOT) -> list[str]:
    """Rewrite every doc whose blocks are not what figures render; the docs rewritten."""
    changed = []
    for doc, text in rendered(figures, root).items():
        path = root / doc
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(doc)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.tools.bench.docs_figures", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if a doc's figures differ from the json")
    args = parser.parse_args(argv)
    try:
        figures = load(REPO_ROOT / BENCHMARKS_JSON)
        if args.check:
            stale = stale_docs(figures)
            for doc in stale:
                print(f"{doc}: stale figures; `make docs-figures` rewrites them")
            return 1 if stale else 0
        changed = write_docs(figures)
    except DocsFiguresError as exc:
        print(f"docs figures: {exc}", file=sys.stderr)
        return 1
    docs = sorted({block.doc for block in BLOCKS})
    print(f"figures from {BENCHMARKS_JSON}: " + (f"rewrote {', '.join(changed)}" if changed else f"{', '.join(docs)} up to date"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
