"""The local stack: what it runs (services.py), started and stopped by pid (processes.py), its
ports (ports.py), what status and logs show (status.py), the seed data (seed.py), and the
X-Ray sink it runs (xray_sink.py).

`from workshop import stack` gives the lifecycle the tools, labs and tests use;
`python -m workshop.stack up|down|status|logs|run-service|provision` is the command.
"""

from workshop.stack.ports import free_port, port_free, port_owner, private_config
from workshop.stack.processes import StackError, down, provision_stack, run_service, up
from workshop.stack.services import SERVICES, Service, healthy, running_pid, service_url
from workshop.stack.status import logs, ready, status, worker_lines

__all__ = [
    "SERVICES",
    "Service",
    "StackError",
    "down",
    "free_port",
    "healthy",
    "logs",
    "port_free",
    "port_owner",
    "private_config",
    "provision_stack",
    "ready",
    "run_service",
    "running_pid",
    "service_url",
    "status",
    "up",
    "worker_lines",
]
