"""The Durable Explorer: the local stack's durable executions, their replay grid and callbacks, in a browser.

A server of the stack (`make up` starts it on 127.0.0.1:3002,
WORKSHOP_EXPLORER_PORT), laid out like the function host: routes as data
(routes.py, one handler per page or action), the backend injected
(backend.py: everything read and sent through workshop.inspect, as the CLI
does, never through the CLI), the grid computed apart from any HTML (grid.py),
Jinja2 templates with autoescape, one vendored stylesheet and script
(static/), and the token and Origin checks of every POST (security.py).
`python -m workshop.explorer` (`make explorer`) prints its URL and opens a
browser where there is one.
"""

from workshop.config import StackConfig


def browser_url(config: StackConfig) -> str:
    """The explorer's URL for a browser on this machine: the loopback at its (published) port."""
    return f"http://127.0.0.1:{config.explorer_port}/"
