"""The ingest service with a slow ledger write: a batch that outlasts a short visibility timeout.

The reliability test registers this as a function of its own (the ingest
function's tables and settings, ``POST_DELAY_S`` seconds of delay inside
every ``post:<record_id>`` step) behind a queue configured as the template's
ingest queue. The handler is the service's own: only the write it calls is
slowed, so what the test sees is what the service does when a batch is slow
(a cold machine, a throttled table, the posting step backing off).
"""

from __future__ import annotations

import os
import time
from typing import Any

from ingest import handler

_post_entry = handler.post_entry


def slow_post_entry(entry: dict[str, Any]) -> dict[str, Any]:
    time.sleep(float(os.environ["POST_DELAY_S"]))
    return _post_entry(entry=entry)


# ingest() looks post_entry up when it runs: every post step now takes POST_DELAY_S longer.
handler.post_entry = slow_post_entry
lambda_handler = handler.lambda_handler
