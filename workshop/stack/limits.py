"""The open-file limit the stack starts with: macOS gives a shell 256, Linux 1024.

Why raise it: every warm worker costs the function host two pipes, every
connection a socket, and a burst (eight workers for each of several
functions, the runner's and the pollers' connections) can pass 256 where a
laptop's shell left the default. The services inherit the limit of the
process that starts them, so `up` raises its own soft limit before it
starts any, and says so in one line.

Why 1024 and not the hard limit: the function host reads its workers' pipes
with select(), which cannot watch a descriptor numbered 1024 or more
(FD_SETSIZE); below a soft limit of 1024 no descriptor ever is.
"""

from __future__ import annotations

import resource

WANTED_OPEN_FILES = 1024


def raise_open_files(wanted: int = WANTED_OPEN_FILES) -> str | None:
    """Raise this process's soft open-file limit towards `wanted` (never past the hard limit); a line to say, or None if it was enough."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return None
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return f"open files: raised the limit from {soft} (`ulimit -n`) to {target} for the stack and its services"
        except (ValueError, OSError):
            pass
    return f"open files: the limit is {soft} and could not be raised (hard limit {hard}); if a service runs out of files, run `ulimit -n {wanted}` before `make up`"
