"""The function host: the project's Lambda endpoint, without containers.

It plays the part SAM CLI's `start-lambda` plays for `dex-local-runner`:
runs handlers in worker processes, starts durable executions in the runner,
proxies the durable management APIs, and polls SQS for event source mappings.
"""
