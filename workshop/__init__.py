"""The workshop's local stack, function host, provisioner and CLI."""
