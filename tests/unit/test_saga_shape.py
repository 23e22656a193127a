"""The README's story of the saga's invocations, compared with what a grid showed, and the demo's note."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from workshop.inspect import Services
from workshop.tools import demo, saga_shape
from workshop.tools.saga_shape import Seen

README_STORY = [
    Seen(1, "the first start", ("charge-payment-attempt-1",)),
    Seen(2, "the chained invoke (charge-payment-attempt-1), finished while invocation 1 ran", ("warehouse-confirmation",)),
    Seen(3, "the callback (warehouse-confirmation)", ("refund-payment-attempt-1",)),
    Seen(4, "the chained invoke (refund-payment-attempt-1), finished while invocation 3 ran", ()),
]
# What a loaded machine used to give: the rejection recorded while invocation 2 ran.
RACED = [
    Seen(1, "the first start", ("charge-payment-attempt-1",)),
    Seen(2, "the chained invoke (charge-payment-attempt-1)", ("refund-payment-attempt-1",)),
    Seen(3, "the callback (warehouse-confirmation), the chained invoke (refund-payment-attempt-1), "
            "finished while invocation 2 ran", ()),
]


def test_the_readme_story_matches_however_quick_the_results_came() -> None:
    assert saga_shape.differences(README_STORY, saga_shape.COMPENSATING) == []


def test_a_run_that_never_suspended_on_the_callback_is_named_invocation_by_invocation() -> None:
    lines = saga_shape.differences(RACED, saga_shape.COMPENSATING)
    assert lines[0] == "3 invocations, the story has 4"
    assert lines[1].startswith("invocation 2: expected woken by the chained invoke (charge-payment-attempt-1), "
                               "suspended on warehouse-confirmation; saw")
    assert lines[-1] == ("invocation 4: expected woken by the chained invoke (refund-payment-attempt-1), "
                         "ended the execution; saw missing")


def test_the_demo_says_when_an_execution_is_not_the_story(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(saga_shape, "read_shape", lambda services, arn: RACED)
    console = Console(width=80, record=True, color_system=None)
    demo.say_if_not_the_story(console, Services(), "arn:x", saga_shape.COMPENSATING)
    text = console.export_text()
    assert text.startswith("note: not the invocations the README explains:")
    assert "3 invocations, the story has 4" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_the_demo_is_quiet_when_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(saga_shape, "read_shape", lambda services, arn: README_STORY)
    console = Console(width=80, record=True)
    demo.say_if_not_the_story(console, Services(), "arn:x", saga_shape.COMPENSATING)
    assert console.export_text() == ""


def test_an_index_that_never_caught_up_is_said_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(services: Any, arn: str) -> list[Seen]:
        raise saga_shape.ShapeUnreadable("the function host's invocation index listed fewer [sic]")

    monkeypatch.setattr(saga_shape, "read_shape", unreadable)
    console = Console(width=80, record=True)
    demo.say_if_not_the_story(console, Services(), "arn:x", saga_shape.COMPENSATING)
    assert "listed fewer [sic]" in console.export_text()  # escaped: Rich would eat the [sic]
