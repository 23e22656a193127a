"""The workshop's local stack, function host, provisioner and CLI."""

# Every `python -m workshop...` command imports this package first: on a system
# without fcntl (native Windows) it stops here with one message that says where
# the workshop runs, instead of a traceback from the first module that locks a file.
from workshop import platform_support

platform_support.require_posix()
