"""Detached server processes: start one, tell whether it still runs, stop it.

``start_detached`` starts a command detached with setsid (so it outlives the process that
started it and is not hit by that process's terminal signals), with stdout and stderr
appended to a log file and stdin closed. The ``Popen`` handles of the processes this
interpreter started are kept, so their exit status is collected (no zombies).

``is_running(pid, marker)`` is true only if the pid exists, is not a zombie, and (where
``/proc`` exists) its command line contains ``marker``: a recorded pid that the system has
since given to another program does not count as ours. ``stop_process`` sends SIGTERM to
the process group, waits, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

PROC = Path("/proc")
_children: dict[int, subprocess.Popen[bytes]] = {}
_children_lock = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def start_detached(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    pass_fds: Sequence[int] = (),
) -> int:
    """Start ``command`` detached (setsid), output appended to ``log_path``, keeping open
    only the descriptors ``pass_fds`` names; returns its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as output:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            pass_fds=tuple(pass_fds),
        )
    with _children_lock:
        _children[process.pid] = process
    return process.pid


def exit_code(pid: int) -> int | None:
    """The exit code of a child this interpreter started, once it has exited; else None."""
    _reap(pid)
    with _children_lock:
        process = _children.get(pid)
    return None if process is None else process.returncode


def _reap(pid: int) -> None:
    """Collect the exit status of ``pid`` if it is our child and has exited."""
    with _children_lock:
        process = _children.get(pid)
    if process is not None:
        process.poll()
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def is_running(pid: int, marker: str) -> bool:
    """True if ``pid`` is alive, not a zombie, and (on Linux) runs a command naming ``marker``."""
    if pid <= 0:
        return False
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if not PROC.is_dir():
        return True
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
        cmdline = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return False
    state = stat.rpartition(")")[2].split()[:1]
    if state == ["Z"] or not cmdline:
        return False
    return marker.encode("utf-8", errors="surrogateescape") in cmdline


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes but this one whose command line (its arguments each ended by
    a NUL byte, as ``/proc`` shows it) contains ``text``; none where ``/proc`` is missing.
    How a process recorded before its pid was known is found again."""
    if not PROC.is_dir():
        return []
    wanted = text.encode("utf-8", errors="surrogateescape")
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if wanted in cmdline and is_running(int(entry.name), text):
            found.append(int(entry.name))
    return found


def stop_process(pid: int, marker: str, timeout: float = 10.0) -> bool:
    """Stop ``pid`` and its process group: SIGTERM, wait ``timeout`` s, then SIGKILL.

    Returns True if the process was running (and is now gone), False if it was not running.
    """
    if not is_running(pid, marker):
        _forget(pid)
        return False
    _signal_group(pid, signal.SIGTERM)
    if not _wait_gone(pid, marker, timeout):
        log.warning("process %s did not stop within %.1f s of SIGTERM; killing it", pid, timeout)
        _signal_group(pid, signal.SIGKILL)
        _wait_gone(pid, marker, 5.0)
    _forget(pid)
    return True


def _signal_group(pid: int, signum: signal.Signals) -> None:
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        return


def _wait_gone(pid: int, marker: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_running(pid, marker):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _forget(pid: int) -> None:
    with _children_lock:
        process = _children.get(pid)
        if process is not None and process.poll() is not None:
            del _children[pid]
