"""The one place the approval service creates AWS clients.

All of them go through the services' shared factory (services/aws_clients.py):
tests and lab checks swap in fakes with ``use_factory(...)``.
"""

from aws_clients import ClientFactory, client, use_factory

__all__ = ["ClientFactory", "client", "use_factory"]
