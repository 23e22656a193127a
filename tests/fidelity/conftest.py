"""Fidelity tests: every operation kind, in-process and on a live stack, histories compared.

The handlers are the package `fidelity_handlers` (this folder is put on
sys.path): the live functions import it under the same name from the copy
the template writer makes, so error types, which carry the module, agree.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
