"""What the operating system says about processes, sockets and the machine, asked through psutil.

Why one module, and why psutil: macOS has no procfs, and every reader of it
here answered "no process" there, so `make status` called a running stack
stopped and `make down` left it listening. psutil asks each operating system
its own way (procfs on Linux, sysctl and libproc on macOS). Every process and
socket question of the workshop is answered here and nowhere else.

A pid alone does not name a process: the kernel reuses pids. A process is
named by its pid and its create time (`Identity`), recorded when it was
started, so a later process that happens to get the same pid is never taken
for it, nor signalled.

Where psutil sees no process at all (Linux with procfs hidden or not mounted:
a sandbox, a container, the portability test), the answers come from system
calls alone: a pid is alive when signal 0 reaches it, and a service is taken
for ours when it still leads the session it was started in (every service is
started with start_new_session). Memory, children and sockets are then
unknown (None, [], None) and said so, never guessed.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

# Create times are read from the kernel's start tick and boot time; the boot time a
# process reads can move by a clock step, so two readings of one process may differ a
# little. A reused pid would need the pid space to wrap within this window.
_SAME_START_S = 1.0
_POLL_S = 0.05


@functools.cache
def sees_processes() -> bool:
    """Whether psutil can see processes here (it sees none on Linux without procfs)."""
    return psutil.pid_exists(os.getpid())


@dataclass(frozen=True)
class Identity:
    """A process as recorded when it was started: its pid and its create time (seconds since the epoch; None when unknown)."""

    pid: int
    created: float | None


def identity_of(pid: int) -> Identity:
    """The identity of a process just started (its create time None where psutil cannot see it)."""
    try:
        return Identity(pid, psutil.Process(pid).create_time())
    except psutil.Error:
        return Identity(pid, None)


def _signal0(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _reap(pid: int) -> None:
    """Collect the exit of a child of ours, so it does not linger as a zombie that signal 0 still reaches."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: its parent, or init, reaps it
        pass


def _gone(process: psutil.Process) -> bool:
    """Ended, or a zombie: it holds no port, no file and no memory any more."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:  # NoSuchProcess, or ZombieProcess (macOS)
        return True


class Handle:
    """One live process to watch and signal: through psutil (create time checked), or by pid alone where psutil is blind."""

    def __init__(self, pid: int, process: psutil.Process | None) -> None:
        self.pid = pid
        self._process = process

    def gone(self) -> bool:
        if self._process is not None:
            return _gone(self._process)
        _reap(self.pid)
        return not _signal0(self.pid)

    def signal(self, signum: int) -> None:
        if self.gone():
            return
        try:
            if self._process is not None:
                self._process.send_signal(signum)  # checks the create time first: never a reused pid
            else:
                os.kill(self.pid, signum)
        except (psutil.Error, OSError):  # ended meanwhile
            pass


def find(identity: Identity, marker: str) -> Handle | None:
    """The process `identity` names, if it is alive, is the one started then, and its command line holds `marker`."""
    if not sees_processes():
        handle = Handle(identity.pid, None)
        try:
            leads_its_session = not handle.gone() and os.getsid(identity.pid) == identity.pid
        except OSError:
            leads_its_session = False
        return handle if leads_its_session else None
    try:
        process = psutil.Process(identity.pid)
        if identity.created is not None and abs(process.create_time() - identity.created) > _SAME_START_S:
            return None
        if _gone(process) or marker not in " ".join(process.cmdline()):
            return None
        return Handle(identity.pid, process)
    except psutil.Error:
        return None


def alive(pid: int) -> bool:
    """Whether the pid names a live process (a zombie is not)."""
    try:
        return not Handle(pid, psutil.Process(pid) if sees_processes() else None).gone()
    except psutil.Error:
        return False


def descendants(pid: int) -> list[psutil.Process]:
    """The children of a process, theirs, and so on (the function host's workers); [] when it has ended or cannot be seen."""
    if not sees_processes():
        return []
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def rss_bytes(pid: int) -> int | None:
    """Resident memory of one process; None when it has ended or cannot be read."""
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return None


def rss_mb(pid: int) -> int | None:
    rss = rss_bytes(pid)
    return None if rss is None else rss // (1024 * 1024)


def tree_pids(pid: int) -> set[int]:
    """A process and all its descendants, by pid (the function host's workers)."""
    return {pid, *(child.pid for child in descendants(pid))}


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the function host's workers count too)."""
    return sum(rss_bytes(p) or 0 for p in tree_pids(pid)) / (1024 * 1024)


def listening_sockets(port: int, udp: bool = False) -> list[tuple[int, int]] | None:
    """(pid, fd) of every socket listening on TCP `port` (or bound, unconnected, to UDP `port` too).

    None when it cannot be told: psutil sees nothing on Linux without procfs.
    Listing every socket at once needs root on macOS; there the processes this
    user may read are asked one by one (a port held by another user's process
    is then not found).
    """
    if not sees_processes():
        return None
    kinds = ("tcp", "udp") if udp else ("tcp",)
    try:
        sockets = [(s.pid, s) for kind in kinds for s in psutil.net_connections(kind)]
    except (psutil.AccessDenied, OSError):
        sockets = []
        for process in psutil.process_iter():
            try:
                sockets += [(process.pid, s) for kind in kinds for s in process.net_connections(kind)]
            except psutil.Error:  # ended, or another user's
                continue
    found = []
    for pid, sock in sockets:
        listening = sock.status == psutil.CONN_LISTEN or (sock.type == socket.SOCK_DGRAM and not sock.raddr)
        if listening and sock.laddr and sock.laddr.port == port and pid:
            found.append((pid, sock.fd))
    return found


def port_owner(port: int, udp: bool = False) -> str | None:
    """Who listens on a port: "pid N: command"; None when it cannot be told."""
    for pid, _fd in listening_sockets(port, udp) or []:
        try:
            command = " ".join(psutil.Process(pid).cmdline())
        except psutil.Error:
            command = "?"
        return f"pid {pid}: {command[:120]}"
    return None


def open_files_under(folder: Path) -> list[str]:
    """Files under `folder` that any process on this machine holds open, as "pid:relative path"."""
    root, held = str(folder.resolve()), []
    for process in psutil.process_iter():
        try:
            files = process.open_files()
        except psutil.Error:  # ended, or not ours to read
            continue
        for file in files:
            if file.path == root or file.path.startswith(root + os.sep):
                held.append(f"{process.pid}:{file.path[len(root) + 1:] or '.'}")
    return sorted(held)


def memory_total_bytes() -> int | None:
    try:
        return psutil.virtual_memory().total
    except (psutil.Error, OSError):
        return None


def cpu_clock_ghz() -> float | None:
    """The CPU's top clock, where the system tells it."""
    try:
        frequency = psutil.cpu_freq()
    except (psutil.Error, OSError, NotImplementedError):
        return None
    return frequency.max / 1000 if frequency and frequency.max else None


@dataclass(frozen=True)
class Stopped:
    """How a process tree was stopped: the leader's pid, how many descendants it had, what had to be killed."""

    pid: int
    descendants: int
    killed_after_s: float | None  # the leader did not end on SIGTERM within this deadline
    left_killed: int  # descendants still running after the leader had ended, killed

    def describe(self, children: tuple[str, str] = ("child process", "child processes")) -> str:
        """ "stopped (pid 123, 2 workers)", "killed after 15 s (pid 123)", ...; `children` is what to call one, and more."""
        detail = f"pid {self.pid}" + (f", {self.descendants} {children[self.descendants > 1]}" if self.descendants else "")
        if self.left_killed:
            detail += f"; {self.left_killed} left running, killed"
        if self.killed_after_s is not None:
            return f"killed after {self.killed_after_s:.0f} s ({detail})"
        return f"stopped ({detail})"


def _runs_in_group(process: psutil.Process, group: int) -> bool:
    try:
        return os.getpgid(process.pid) == group and not _gone(process)
    except (OSError, psutil.Error):  # ended meanwhile
        return False


class _Group(Handle):
    """A process group, by its id (its leader's pid): the one thing known of a service's workers where psutil is blind."""

    def gone(self) -> bool:
        _reap(self.pid)  # the leader, if it is our child: a zombie leader keeps its group alive
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        # The group answers while its leader is an unreaped zombie (the leader's parent
        # had ended, and a slow init reaps late): only a member that still runs counts.
        return sees_processes() and not any(_runs_in_group(process, self.pid) for process in psutil.process_iter())

    def signal(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except OSError:  # emptied meanwhile
            pass


def _signal(handles: list[Handle], signum: int) -> None:
    for handle in handles:
        if not handle.gone():  # a group is signalled only while a member lives: an emptied group's id may be reused
            handle.signal(signum)


def _wait_gone(handles: list[Handle], deadline: float) -> list[Handle]:
    """Wait until every process has ended or the deadline passes; those still alive."""
    while True:
        living = [h for h in handles if not h.gone()]
        if not living or time.monotonic() >= deadline:
            return living
        time.sleep(_POLL_S)


def stop_tree(leader: Handle, deadline_s: float, stragglers_s: float = 3.0) -> Stopped:
    """Stop a process and everything it started; what had to be killed is in the answer.

    SIGTERM to the leader first, alone: the function host ends its in-flight
    invocations within its grace period and stops its own workers, and the
    emulator saves its state. Then SIGTERM to its process group and to every
    descendant still running, and past the deadline SIGKILL to all of them.
    Why the group: a service started with start_new_session leads a group of its
    own and its workers are in it; a SIGKILL to the leader alone left them
    running (and where psutil is blind the group is all there is to go by).
    Why the descendants as well: a child that started a session of its own is
    not in the group, and one whose parent ended is no longer listed as a
    descendant, so the list is taken before the first signal.
    """
    members: list[Handle] = [Handle(p.pid, p) for p in descendants(leader.pid)]
    try:
        if os.getpgid(leader.pid) == leader.pid:
            members.append(_Group(leader.pid, None))
    except OSError:
        pass
    processes = sum(1 for h in members if not isinstance(h, _Group))
    started = time.monotonic()
    _signal([leader], signal.SIGTERM)
    if _wait_gone([leader], started + deadline_s):
        _signal([leader, *members], signal.SIGKILL)
        _wait_gone([leader, *members], time.monotonic() + stragglers_s)
        return Stopped(leader.pid, processes, deadline_s, 0)
    left = [h for h in members if not h.gone()]
    if left:
        _signal(left, signal.SIGTERM)
        left = _wait_gone(left, max(started + deadline_s, time.monotonic() + stragglers_s))
        _signal(left, signal.SIGKILL)
        _wait_gone(left, time.monotonic() + stragglers_s)
    killed = sum(1 for h in left if not isinstance(h, _Group)) or len(left)  # blind: the group, its members uncounted
    return Stopped(leader.pid, processes, None, killed)
