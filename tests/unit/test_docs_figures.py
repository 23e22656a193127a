"""The docs' measured figures: rendered from docs/benchmarks.json into marked blocks, never typed, never stale."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from workshop.config import REPO_ROOT
from workshop.labs.manifest import LABS
from workshop.tools.bench import docs_figures
from workshop.tools.bench.docs_figures import (
    BENCHMARKS_JSON,
    BLOCKS,
    END,
    NOT_MEASURED,
    START,
    BenchFigures,
    DocsFiguresError,
    block_text,
    load,
    rendered,
    stale_docs,
    write_docs,
)

INSTRUCTOR = "docs/INSTRUCTOR.md"

# Each figure a distinct value, so a rendered number can only have come from one key.
FAKE_JSON = {
    "machine": {"CPU": "fake cpu", "cores": "3"},
    "commit": "abcdef0123456789",
    "figures": {
        "demo_fresh_clone_s": 11.1,
        "stack_start_s": 2.22,
        "lab_run_warm_s": {"1": 1.01, "3": 3.01, "4": None, "5": "fast"},  # 2, 6 missing; 4 null; 5 not a number
        "lab_checks_s": {"1": 1.02, "3": 3.02},
        "a_key_from_a_newer_bench": {"1": 99.9},
    },
}


def fake_repo(tmp_path: Path) -> Path:
    """A repository root whose docs hold every block's markers, empty, in some prose."""
    for doc in {block.doc for block in BLOCKS}:
        markers = "".join(
            f"text before\n{START.format(name=b.name)}\n{END.format(name=b.name)}\ntext after\n" for b in BLOCKS if b.doc == doc
        )
        (tmp_path / doc).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / doc).write_text(f"# a doc\n\n{markers}", encoding="utf-8")
    return tmp_path


def fake_blocks(tmp_path: Path, data: dict) -> dict[str, str]:
    page = rendered(BenchFigures(data), fake_repo(tmp_path))[INSTRUCTOR]
    return {b.name: block_text(page, INSTRUCTOR, b.name) for b in BLOCKS if b.doc == INSTRUCTOR}


def lab_row(table: str, lab: int) -> list[str]:
    """The cells of a lab's row of the tool-times table."""
    title = next(entry.title for entry in LABS if entry.number == lab)
    line = next(line for line in table.splitlines() if line.startswith(f"| {lab} {title} |"))
    return [cell.strip() for cell in line.strip("|").split("|")][1:]


def test_every_doc_block_is_what_the_committed_json_renders() -> None:
    stale = stale_docs(load(REPO_ROOT / BENCHMARKS_JSON))

    assert stale == [], f"{stale}: a figure typed in or left from an older run; `make docs-figures` rewrites it"


def test_a_figure_edited_by_hand_in_a_block_is_stale_and_a_rewrite_restores_it(tmp_path: Path) -> None:
    root, figures = fake_repo(tmp_path), BenchFigures(FAKE_JSON)
    doc = root / INSTRUCTOR
    assert stale_docs(figures, root) == [INSTRUCTOR]  # the markers are still empty
    assert write_docs(figures, root) == [INSTRUCTOR] and stale_docs(figures, root) == []
    page = doc.read_text(encoding="utf-8")
    doc.write_text(page.replace("| 1.01 s |", "| 0.9 s |"), encoding="utf-8")  # lab 1's run, "improved" by hand

    assert stale_docs(figures, root) == [INSTRUCTOR]
    assert write_docs(figures, root) == [INSTRUCTOR] and doc.read_text(encoding="utf-8") == page
    assert page.count("text before") == page.count("text after") == 2  # the prose around the blocks is kept


def test_each_figure_comes_from_its_json_key(tmp_path: Path) -> None:
    blocks = fake_blocks(tmp_path, FAKE_JSON)

    assert "11.1 s (`demo_fresh_clone_s`)" in blocks["day-before"]
    assert "2.22 s (`stack_start_s`)" in blocks["day-before"]
    table = blocks["tool-times"]
    assert '`make lab-N`, warm, solution: `lab_run_warm_s["N"]` | its checks alone: `lab_checks_s["N"]`' in table
    assert lab_row(table, 1) == ["1.01 s", "1.02 s"]
    assert lab_row(table, 3) == ["3.01 s", "3.02 s"]
    assert "99.9" not in table  # a key no block renders is not shown by accident
    for block in blocks.values():
        assert "Measured by `make bench` on CPU: fake cpu, cores: 3; commit abcdef0." in block


def test_a_figure_missing_null_or_not_a_number_is_said_to_be_missing(tmp_path: Path) -> None:
    table = fake_blocks(tmp_path, FAKE_JSON)["tool-times"]

    assert lab_row(table, 2) == [NOT_MEASURED, NOT_MEASURED]  # not in the json
    assert lab_row(table, 4) == [NOT_MEASURED, NOT_MEASURED]  # null, and no checks entry
    assert lab_row(table, 5) == [NOT_MEASURED, NOT_MEASURED]  # "fast"


@pytest.mark.parametrize("data", [{}, {"figures": None}, {"figures": {"lab_run_warm_s": [1.0], "stack_start_s": True}}])
def test_a_json_without_figures_renders_every_figure_as_missing(tmp_path: Path, data: dict) -> None:
    blocks = fake_blocks(tmp_path, data)

    assert not re.search(r"\d s\b", "".join(blocks.values()))
    assert blocks["day-before"].count(NOT_MEASURED) == 2
    assert blocks["tool-times"].count(NOT_MEASURED) == 2 * len(LABS)
    assert "commit not recorded; the machine is not recorded" in blocks["day-before"]


def test_a_missing_json_is_no_figures_and_a_broken_one_is_an_error(tmp_path: Path) -> None:
    assert load(tmp_path / "absent.json") == BenchFigures({})
    (tmp_path / "broken.json").write_text('{"figures": ', encoding="utf-8")
    with pytest.raises(DocsFiguresError, match="run `make bench`"):
        load(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text(json.dumps([1, 2]), encoding="utf-8")
    with pytest.raises(DocsFiguresError, match="not an object"):
        load(tmp_path / "list.json")


def test_a_doc_without_a_blocks_markers_is_named(tmp_path: Path) -> None:
    root = fake_repo(tmp_path)
    doc = root / INSTRUCTOR
    doc.write_text(doc.read_text(encoding="utf-8").replace(END.format(name="tool-times"), ""), encoding="utf-8")

    with pytest.raises(DocsFiguresError, match=r"docs/INSTRUCTOR.md: block 'tool-times' needs exactly one"):
        rendered(BenchFigures({}), root)


def test_a_marked_block_no_renderer_knows_is_refused(tmp_path: Path) -> None:
    root = fake_repo(tmp_path)
    doc = root / INSTRUCTOR
    doc.write_text(doc.read_text(encoding="utf-8") + START.format(name="tool-time") + "\n" + END.format(name="tool-time"), encoding="utf-8")

    with pytest.raises(DocsFiguresError, match="no renderer for block.s. tool-time"):
        rendered(BenchFigures({}), root)


def test_outside_its_blocks_instructor_md_types_no_measured_figure() -> None:
    page = (REPO_ROOT / INSTRUCTOR).read_text(encoding="utf-8")
    for block in BLOCKS:
        if block.doc == INSTRUCTOR:
            page = page.replace(block_text(page, INSTRUCTOR, block.name), "")
    typed = [
        line
        for line in page.splitlines()
        if "measured" in line.lower() and re.search(r"\d\s*(s|ms|MB|GB|min|minutes|seconds)\b", line)
    ]

    assert typed == [], "a measured figure typed outside the blocks: render it from docs/benchmarks.json (docs_figures.BLOCKS)"


def test_make_bench_rewrites_the_docs_after_it_writes_the_json(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from workshop.tools.bench import run

    order: list[str] = []
    monkeypatch.setattr(run, "run_on_private_stack", lambda report, only=None: None)
    monkeypatch.setattr(run, "write_results", lambda text, figures: order.append("json written"))
    monkeypatch.setattr(docs_figures, "load", lambda path: order.append(f"docs read {path.name}") or BenchFigures({}))
    monkeypatch.setattr(docs_figures, "write_docs", lambda figures: order.append("docs rewritten") or [INSTRUCTOR])

    assert run.main(["--no-demo"]) == 0
    assert order == ["json written", "docs read benchmarks.json", "docs rewritten"]
    assert f"their figures rewritten in {INSTRUCTOR}" in capsys.readouterr().out
