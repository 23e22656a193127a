"""Does the learner's handler.py import? Compiled before the live run, imported in a subprocess beside it.

A file that does not import fails every invocation on the stack, and the
durable execution retries them with back-offs: 45 s of waiting for a
`SyntaxError` the learner could have read at once. So `make lab-N` first
compiles the file (a syntax error is found without starting anything), then
imports it in a subprocess with the lab's function environment (a missing
import, an error at import time), and stops with the error, its line, and
what to do. The import takes about a second (the handler's own imports):
`make lab-N` starts the live run beside it rather than after it, and stops
that execution when the import fails. A subprocess, not this process: the handler's module-level code
must not run inside the lab runner, and an import that never ends (a loop at
module level) is stopped at a deadline, by the pid started here.

`python -m workshop.labs.preflight FILE` is that subprocess: it prints one
JSON object (`{"ok": true}` or the error) and nothing else on stdout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

IMPORT_DEADLINE_S = 30.0  # Lambda's own init limit is 10 s; this machine may be busy


@dataclass(frozen=True)
class ImportProblem:
    kind: str  # SyntaxError, ModuleNotFoundError, ...
    message: str
    line: int | None
    code: str  # the offending line's text

    def text(self, path: Path) -> str:
        where = f" at line {self.line}" if self.line else ""
        code = f"\n    {self.code}" if self.code else ""
        return f"{path.name} does not import: {self.kind}{where}: {self.message}{code}"


def describe(exc: BaseException, path: Path) -> ImportProblem:
    """The error as the learner needs it: its type, message, and the line of *their* file."""
    import linecache

    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    if line is None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == path.resolve()]
        line = frames[-1].lineno if frames else None
    code = linecache.getline(str(path), line).strip() if line else ""
    return ImportProblem(kind=type(exc).__name__, message=message, line=line, code=code)


def _import(path: Path) -> ImportProblem | None:
    """Compile, then import `path` as a module (here: in the subprocess)."""
    try:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
        spec = importlib.util.spec_from_file_location("lab_preflight_handler", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not callable(getattr(module, "lambda_handler", None)):
            return ImportProblem("AttributeError", "it defines no lambda_handler (the function the stack invokes)", None, "")
    except Exception as exc:  # noqa: BLE001 - every import error is the learner's to read
        return describe(exc, path)
    return None


def check(path: Path, env: dict[str, str | None]) -> ImportProblem | None:
    """None when `path` imports with `env` (None: unset); else the problem, its line and its code."""
    return syntax_problem(path) or import_problem(path, env)


def syntax_problem(path: Path) -> ImportProblem | None:
    """A missing file or a syntax error: found here in milliseconds, before anything is started."""
    if not path.is_file():
        return ImportProblem("FileNotFoundError", "the file is missing", None, "")
    try:  # a syntax error needs no subprocess
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    except SyntaxError as exc:
        return describe(exc, path)
    return None


def import_problem(path: Path, env: dict[str, str | None]) -> ImportProblem | None:
    """The import itself, in the subprocess (about a second: the handler's own imports); `path` compiles."""
    child_env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    for key, value in env.items():
        if value is None:
            child_env.pop(key, None)
        else:
            child_env[key] = value
    process = subprocess.Popen(
        [sys.executable, "-m", "workshop.labs.preflight", str(path)],
        cwd=path.parent, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        out, _ = process.communicate(timeout=IMPORT_DEADLINE_S)
    except subprocess.TimeoutExpired:
        process.kill()  # the pid started above
        process.communicate()
        return ImportProblem("TimeoutError", f"importing it did not end within {IMPORT_DEADLINE_S:.0f} s (code at module level that never returns?)", None, "")
    finally:
        if process.poll() is None:  # interrupted (Ctrl-C): the subprocess does not outlive us
            process.kill()
            process.wait()
    try:
        answer = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return ImportProblem("ImportError", f"the import check ended with exit status {process.returncode} and no answer", None, "")
    return None if answer.get("ok") else ImportProblem(answer["kind"], answer["message"], answer.get("line"), answer.get("code", ""))


def main(argv: list[str]) -> int:
    path = Path(argv[0]).resolve()
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # what the module prints at import is not the answer
    problem = _import(path)
    answer = {"ok": True} if problem is None else {"ok": False, **problem.__dict__}
    real_stdout.write(json.dumps(answer) + "\n")
    real_stdout.flush()
    os._exit(0)  # threads the module started at import must not hold the answer back


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
