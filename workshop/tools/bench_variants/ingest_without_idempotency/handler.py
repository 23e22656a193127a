"""Benchmark only (`make bench`): the ingest service's handler with Powertools Idempotency taken out.

Everything else is the service's own code: the same parsing, steps, enrichment
and ledger write. Only ``post_entry``, the idempotent wrapper around
``ledger.post``, is swapped for the plain write, in this worker process only
(each function runs in its own worker processes). A duplicate record would be
written twice here; the benchmark sends none. Not for the workshop: it exists
so that the cost of idempotency is measured against the same handler.
"""

from __future__ import annotations

from typing import Any

import ingest.handler as service
from ingest import ledger


def _post_without_idempotency(entry: dict[str, Any]) -> dict[str, Any]:
    return ledger.post(entry)


service.post_entry = _post_without_idempotency
lambda_handler = service.lambda_handler
