"""One Lambda execution environment: a process that imports a handler and runs it.

The host talks to it over stdin/stdout, one JSON object per line:
  host → worker  {"event": ..., "context": {...}, "env": {...}}
  worker → host  {"log": "a line the handler printed"}  (any number, streamed)
  worker → host  {"replay": {...}}  (durable handlers: what the SDK replayed and ran, workshop.host.replay_plugin)
  worker → host  {"result": ...} or {"error": {...}}   (one, ends the invocation)
Log lines are streamed rather than returned at the end so that the lines a
handler printed before it timed out or crashed are still kept.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
from typing import Any, TextIO

from workshop.host import prompt_stop, replay_recorder

_PROTOCOL_LOCK = threading.Lock()


class _ProtocolWriter:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def send(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, default=str)
        with _PROTOCOL_LOCK:
            self._stream.write(line + "\n")
            self._stream.flush()


class _CapturedOutput(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: every complete line goes to the host.

    Handlers run their durable code in threads, and loggers keep a reference
    to the stream they were created with, so this object is installed once,
    before the handler module is imported, and never swapped.
    """

    def __init__(self, writer: _ProtocolWriter) -> None:
        self._writer = writer
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._partial += text
            *lines, self._partial = self._partial.split("\n")
        for line in lines:
            self._writer.send({"log": line})
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            self._writer.send({"log": rest})


class LambdaContext:
    """The attributes and method of the Lambda context object handlers use."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.aws_request_id: str = data["aws_request_id"]
        self.invoked_function_arn: str = data["invoked_function_arn"]
        self.function_name: str = data["function_name"]
        self.function_version: str = data["function_version"]
        self.memory_limit_in_mb: int = int(data["memory_limit_in_mb"])
        self.log_group_name: str = data["log_group_name"]
        self.log_stream_name: str = data["log_stream_name"]
        self.identity = None
        self.client_context = None
        self.tenant_id = data.get("tenant_id")
        self._deadline_ms: int = int(data["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def _error_payload(exc: BaseException) -> dict[str, Any]:
    """Lambda's shape for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        # skip this runtime's own frame: the trace starts in the handler, as on Lambda
        "stackTrace": traceback.format_tb(exc.__traceback__.tb_next if exc.__traceback__ else None),
    }


class _SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Compiles the function's own modules from source, never from __pycache__.

    A .pyc is trusted when the source's size and mtime (in whole seconds)
    match; a learner's edit saved within the same second at the same size
    would otherwise run the old code. The function's code is small: compiling
    it costs milliseconds. Installed packages keep their bytecode.
    """

    def get_code(self, fullname: str):  # type: ignore[override]
        return compile(self.get_data(self.path), self.path, "exec", dont_inherit=True)


def _compile_from_source_under(root: str) -> None:
    hook = importlib.machinery.FileFinder.path_hook((_SourceOnlyLoader, importlib.machinery.SOURCE_SUFFIXES))

    def code_dir_hook(path: str):
        if not os.path.abspath(path or ".").startswith(root):
            raise ImportError("not the function's code")  # let the default finders handle it
        return hook(path)

    sys.path_hooks.insert(0, code_dir_hook)
    sys.path_importer_cache.clear()


def _connect_xray_emitter() -> None:
    """Keep the X-Ray SDK's UDP socket off the learner's network interfaces.

    The SDK (used by Powertools Tracer) sends segments with sendto() on an
    unbound socket, so on the first segment the kernel binds it to 0.0.0.0 on
    a random port, open on every interface for the worker's life. Connected to
    the sink's address, the socket is bound to the route's local address
    (127.0.0.1 here) and only takes datagrams from the sink. Sending is
    unchanged. Does nothing when the handler did not import the SDK.
    """
    recorder = getattr(sys.modules.get("aws_xray_sdk.core"), "xray_recorder", None)
    emitter = getattr(recorder, "emitter", None)
    sock = getattr(emitter, "_socket", None)
    if sock is None:
        return
    try:
        sock.connect((emitter.ip, emitter.port))
    except (OSError, AttributeError, TypeError, ValueError):
        pass  # the sink's name does not resolve yet (containers): the SDK works as before


# A record's own attributes; any other is an extra= key, written as a key of the JSON line.
_STANDARD_RECORD_KEYS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class _RequestId:
    """The id of the invocation under way, for the log lines the root logger writes."""

    current = ""


class _LambdaJsonFormatter(logging.Formatter):
    """A root-logger record as one JSON line, with the keys Lambda's JSON log format gives it.

    timestamp, level, message, logger and requestId, then the record's extra keys
    (``extra=``; the durable SDK's executionArn and operation names among them).
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": _RequestId.current,
        }
        line.update({key: value for key, value in vars(record).items() if key not in _STANDARD_RECORD_KEYS})
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line.update(errorType=type(error).__name__, errorMessage=str(error), stackTrace=traceback.format_tb(error.__traceback__))
        return json.dumps(line, default=str)


def _apply_log_level(stream: TextIO) -> None:
    """Lambda's application log level: the root logger at AWS_LAMBDA_LOG_LEVEL, writing JSON lines.

    Lambda sets AWS_LAMBDA_LOG_LEVEL from a LoggingConfig with LogFormat JSON
    and an ApplicationLogLevel, and its Python runtime sets the root logger's
    level from it; without it the root logger stays at WARNING and a
    ``logging.info`` (a durable function's default ``context.logger.info``
    among them) is dropped, on AWS as here. Nothing is changed when it is
    unset: the runtime's handler for the other cases (text lines of every
    level the code lets through) is not imitated here.
    """
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper().replace("TRACE", "DEBUG")  # Python has no TRACE
    if level not in logging.getLevelNamesMapping():
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_LambdaJsonFormatter())
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)


def main() -> None:
    # Keep the real stdout for the protocol, and send anything written to fd 1
    # by C code to stderr so it cannot corrupt the protocol stream.
    protocol = _ProtocolWriter(os.fdopen(os.dup(1), "w", encoding="utf-8"))
    os.dup2(2, 1)
    captured = _CapturedOutput(protocol)
    sys.stdout = captured
    sys.stderr = captured

    _apply_log_level(captured)
    _compile_from_source_under(os.path.abspath(os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())))
    replay_recorder.install(protocol.send)  # before the import: the SDK's decorator loads its plugins then
    handler_path = os.environ["_HANDLER"]
    module_name, _, function_name = handler_path.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        init_error = None
        if "aws_durable_execution_sdk_python" in sys.modules:  # a durable handler: its invocations end without the SDK's idle poll
            prompt_stop.install()
    except BaseException as exc:  # an import error is reported on every invoke, as Lambda does
        handler = None
        init_error = {
            "errorMessage": f"Unable to import module '{module_name}': {exc}",
            "errorType": "Runtime.ImportModuleError",
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
        traceback.print_exc()
        captured.flush()
    _connect_xray_emitter()
    # Tell the host the init phase is over: as on Lambda, init has its own
    # limit and does not eat into the first invocation's timeout.
    protocol.send({"ready": True})

    for raw in sys.stdin:
        request = json.loads(raw)
        os.environ.update(request.get("env", {}))
        _RequestId.current = str(request["context"].get("aws_request_id", ""))
        if handler is None:
            protocol.send({"error": init_error})
            continue
        try:
            result = handler(request["event"], LambdaContext(request["context"]))
            captured.flush()
            json.dumps(result)  # a result Lambda could not serialise is an error, as on AWS
            protocol.send({"result": result})
        except BaseException as exc:  # noqa: BLE001 - every failure goes back as Lambda's error shape
            traceback.print_exc()
            captured.flush()
            protocol.send({"error": _error_payload(exc)})
            if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                raise


if __name__ == "__main__":
    main()
