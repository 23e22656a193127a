"""A service's public names at package level, imported on first use (PEP 562 ``__getattr__``).

Why not plain imports in the service's ``__init__``: its public names live in
the durable handler and the observability module, and importing those builds
the Powertools Logger, Tracer and Metrics from the environment and loads the
durable SDK (about a second). Every import of *any* submodule runs the
package's ``__init__`` first, so eager imports there would make the payment and
warehouse functions, the stack's seeding (``order_saga.seed``) and the
labs' checks (``from ingest import idempotency`` at collection, before the
check sets the function's environment) all pay for the handler and freeze the
Powertools objects with whatever environment happened to be set.

So ``import order_saga`` stays cheap, and ``from order_saga import run_saga``
imports ``order_saga.handler`` then, as ``from order_saga.handler import
run_saga`` did. A submodule that is itself public (``ingest.ledger``) needs
no entry: listed in ``__all__``, it is imported like any submodule.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(namespace: dict[str, Any], sources: Mapping[str, Iterable[str]]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package whose ``globals()`` is `namespace`.

    `sources` maps a module to the names taken from it: relative (``".handler"``)
    for the service's own, absolute for a shared module; no names means the
    module itself, under its last name (``"_shared.clients": ()`` gives
    ``clients``). Every name must be in the package's ``__all__``, so the list
    the learner reads is the whole truth.
    """
    package = namespace["__name__"]
    origin: dict[str, tuple[str, str | None]] = {}
    for module, names in sources.items():
        names = list(names)
        if not names:
            origin[module.rsplit(".", 1)[-1]] = (module, None)
        for name in names:
            origin[name] = (module, name)
    unlisted = sorted(set(origin) - set(namespace["__all__"]))
    if unlisted:
        raise ImportError(f"{package}: {unlisted} exported but not in __all__")

    def __getattr__(name: str) -> Any:
        if name not in origin and name not in namespace["__all__"]:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = origin.get(name, (f".{name}", None))  # else a public submodule
        value = importlib.import_module(module, package)
        if attribute is not None:
            value = getattr(value, attribute)
        namespace[name] = value  # the next lookup is a plain global
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace["__all__"]))

    return __getattr__, __dir__
