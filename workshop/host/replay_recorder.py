"""Loads the replay recorder into a worker, without any change to the user's handler.

Why: what an invocation replayed is the durable SDK's own knowledge. The SDK
3.0.0 loads instrumentation plugins named in DURABLE_EXECUTION_PLUGINS from the
entry-point group `aws_durable_execution.plugins`, when `@durable_execution`
decorates the handler (at import). So the worker names our recorder there
before it imports the handler, and the recorder (workshop.host.replay_plugin)
reports one record per invocation to the host over the worker protocol.

Why a dist-info folder in the repository, and not an entry point in
pyproject.toml: DURABLE_EXECUTION_PLUGINS takes entry-point names only (no
module paths), so the name must be visible to importlib.metadata. The compose
image has no installed distribution of ours (only a .pth to the mounted repo),
the .venv has an editable one; `plugin_dist/` holds a dist-info that declares
the entry point, and the worker puts that folder on its sys.path. That works
the same in both, with nothing to install. Declaring it in pyproject.toml as
well would make two providers of one name, which the SDK rejects.

Why the check before naming it: the SDK raises PluginLoadError from the
decorator when a named plugin is missing or provided twice, and the user's
handler would then fail to import. So the recorder is named only once its entry
point resolves to exactly this module's FACTORY; otherwise a line goes to the
host's log (the original stderr, not the function's logs) and the worker runs
without it.

This module imports nothing of the SDK: a non-durable function's workers load
it too, and the SDK takes half a second to import.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

PLUGIN_NAME = "workshop-replay-recorder"
ENTRY_POINT_GROUP = "aws_durable_execution.plugins"
PLUGINS_VARIABLE = "DURABLE_EXECUTION_PLUGINS"
PLUGIN_DIST = Path(__file__).with_name("plugin_dist")
_TARGET = f"{__name__}:FACTORY"

Sink = Callable[[dict[str, Any]], None]
_sink: Sink | None = None


def _host_log(message: str) -> None:
    """A line for the host's own log: the worker's original stderr, not the function's log stream."""
    stream = sys.__stderr__
    if stream is not None:
        try:
            stream.write(f"replay recorder: {message}\n")
            stream.flush()
        except (OSError, ValueError):
            pass


def report(record: dict[str, Any]) -> None:
    """Hand one invocation's record to the host; a failure is logged, never raised into the SDK."""
    sink = _sink
    if sink is None:
        return
    try:
        sink({"replay": record})
    except Exception as exc:  # noqa: BLE001 - the recorder must never fail an invocation
        _host_log(f"could not report invocation {record.get('request_id')}: {exc!r}")


class RecorderFactory:
    """The object the entry point names: builds one recorder per invocation (the SDK's factory shape)."""

    def create_plugin(self, info: Any, /) -> Any:
        # Imported here: by now the SDK is loaded (it is calling us), so this costs nothing.
        from workshop.host.replay_plugin import ReplayRecorder

        return ReplayRecorder(report)


FACTORY = RecorderFactory()


def _entry_point_problem() -> str | None:
    """Why naming the recorder would break the handler's import, or None when it resolves to FACTORY."""
    try:
        found = list(metadata.entry_points(group=ENTRY_POINT_GROUP, name=PLUGIN_NAME))
    except Exception as exc:  # noqa: BLE001 - a broken distribution elsewhere must not stop the worker
        return f"cannot read the entry points: {exc!r}"
    if len(found) != 1:
        return f"{len(found)} providers of {PLUGIN_NAME!r} in {ENTRY_POINT_GROUP!r}, need exactly 1"
    if found[0].value != _TARGET:
        return f"{PLUGIN_NAME!r} points at {found[0].value!r}, not {_TARGET!r}"
    return None


def install(sink: Sink) -> bool:
    """Make the recorder discoverable and name it for the SDK; False (and a line in the host's log) if it cannot be.

    Call before the handler is imported. A DURABLE_EXECUTION_PLUGINS the function
    sets itself is kept: the recorder is added to it, so its own plugins load as on AWS.
    """
    global _sink
    path = str(PLUGIN_DIST)
    added = path not in sys.path
    if added:
        sys.path.append(path)
    problem = _entry_point_problem()
    if problem is not None:
        if added:
            sys.path.remove(path)
        _host_log(f"not loaded ({problem}); the timeline infers replay from the history")
        return False
    names = [name.strip() for name in os.environ.get(PLUGINS_VARIABLE, "").split(",") if name.strip()]
    if PLUGIN_NAME not in names:
        names.append(PLUGIN_NAME)
    os.environ[PLUGINS_VARIABLE] = ",".join(names)
    _sink = sink
    return True
