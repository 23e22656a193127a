"""Each service names its public API (``__all__``); the labs import only those names, and importing a service is cheap."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

from workshop.config import REPO_ROOT

SERVICES = ("order_saga", "ingest", "approval_wait")
LAB_HANDLERS = sorted(
    path for pattern in ("lab-*/handler.py", "lab-*/starter/handler.py", "lab-*/solution/handler.py")
    for path in (REPO_ROOT / "workshop").glob(pattern)
)  # fmt: skip


def imports_from_services(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in (*SERVICES, "_shared"):
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in (*SERVICES, "_shared"):
                    yield alias.name, []


@pytest.mark.parametrize("path", LAB_HANDLERS, ids=lambda path: str(path.relative_to(REPO_ROOT / "workshop")))
def test_a_lab_imports_only_the_public_names_of_a_service(path):
    for module, names in imports_from_services(path):
        assert module in SERVICES, f"{module}: import from the service package itself (its __all__)"
        public = importlib.import_module(module).__all__
        assert [name for name in names if name not in public] == []


@pytest.mark.parametrize("service", SERVICES)
def test_every_public_name_resolves(service):
    package = importlib.import_module(service)
    assert all(getattr(package, name) is not None for name in package.__all__)
    assert sorted(package.__all__) == sorted(set(package.__all__))


@pytest.mark.parametrize("service", SERVICES)
def test_importing_a_service_loads_neither_its_handler_nor_powertools(service):
    """The package __init__ is run by every submodule import (the payment function, `stack seed`, the checks)."""
    probe = f"import sys, {service}; print(sorted(m for m in sys.modules if m == '{service}.handler' or m.startswith('aws_lambda_powertools')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
