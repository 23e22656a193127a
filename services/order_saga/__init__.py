"""Order saga: a durable workflow that reserves stock, charges a card and waits for a warehouse.

Modules, one idea each:

- ``handler``       the durable saga (``order_saga.handler.lambda_handler``)
- ``models``        the validated order payload (Powertools Parser / pydantic)
- ``outcome``       the result the saga returns
- ``inventory``     reserve/release stock with DynamoDB conditional updates
- ``payments``      the saga's side of the payment function: charge and refund via ``context.invoke``
- ``payment``       the payment Lambda function (``order_saga.payment.lambda_handler``)
- ``fulfilment``    the saga's side of the warehouse: timeout from SSM, hand-off, callback
- ``warehouse``     the simulated warehouse Lambda function (``order_saga.warehouse.lambda_handler``)
- ``suspension``    whether the saga is suspended on a callback, from its history (the warehouse waits for it)
- ``retries``       retry strategies for steps and invokes
- ``errors``        the exception classes shared by the functions
- ``settings``      environment variables, read when used (never at import)
- ``clients``       the one place boto3 clients are created (tests replace it)
- ``observability`` the shared Powertools Logger, Tracer and Metrics
- ``seed``          sample inventory for a fresh stack

The labs import only the names in ``__all__`` (``from order_saga import run_saga``).
They come from the handler and the observability module, which build Powertools
objects and load the durable SDK, so they are imported on first use, not here:
``import order_saga`` (and with it ``order_saga.payment``, ``order_saga.seed``)
stays cheap. Why, at length: ``_shared/exports.py``.
"""

from _shared.exports import lazy_exports

__all__ = ["Order", "annotate_execution", "metrics", "parse_order", "run_saga"]

__getattr__, __dir__ = lazy_exports(globals(), {
    ".handler": ["run_saga"],
    ".models": ["Order", "parse_order"],
    ".observability": ["annotate_execution", "metrics"],
})  # fmt: skip
