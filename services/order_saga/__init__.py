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
- ``retries``       retry strategies for steps and invokes
- ``errors``        the exception classes shared by the functions
- ``settings``      environment variables, read when used (never at import)
- ``clients``       the one place boto3 clients are created (tests replace it)
- ``observability`` the shared Powertools Logger, Tracer and Metrics
- ``seed``          sample inventory for a fresh stack
"""
