"""Versions as the function host reports them: an alias is version 1 (AutoPublishAlias's first publish), as on AWS."""

from __future__ import annotations

import pytest

from workshop.host.errors import AwsError
from workshop.host.names import executed_version, published_versions

WITH_ALIAS = {"aliases": ["live"]}
PLAIN: dict = {"aliases": []}


@pytest.mark.parametrize(
    ("function", "qualifier", "version"),
    [(WITH_ALIAS, "live", "1"), (WITH_ALIAS, "1", "1"), (WITH_ALIAS, "$LATEST", "$LATEST"), (WITH_ALIAS, None, "$LATEST"), (PLAIN, None, "$LATEST"), (PLAIN, "$LATEST", "$LATEST")],
)
def test_executed_version(function: dict, qualifier: str | None, version: str) -> None:
    assert executed_version(function, qualifier) == version


def test_only_a_function_with_an_alias_has_version_1() -> None:
    assert published_versions(WITH_ALIAS) == ("1",) and published_versions(PLAIN) == ()


def test_the_registry_accepts_the_version_and_refuses_others(tmp_path, monkeypatch) -> None:
    from workshop.host.backend import Registry

    registry = Registry.__new__(Registry)
    monkeypatch.setattr(registry, "current", lambda: {"functions": {"saga": WITH_ALIAS, "payment": PLAIN}}, raising=False)
    assert registry.function("saga", "1") is WITH_ALIAS and registry.function("saga", "live") is WITH_ALIAS
    for name, qualifier in (("saga", "2"), ("payment", "1"), ("saga", "prod")):
        with pytest.raises(AwsError) as raised:
            registry.function(name, qualifier)
        assert raised.value.status == 404 and f"function:{name}:{qualifier}" in str(raised.value.body())
