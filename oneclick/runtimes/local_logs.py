"""The local runtime's instance logs: where a new process's output starts, and the message
a process that did not become ready fails its deploy with (the end of its log, every value
of the request's environment scrubbed out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from oneclick.runtimes.redact import redact
from oneclick.runtimes.types import DeployRequest

LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class Failure:
    """Why a new process did not become ready (``reason`` may hold the app's own words)."""

    reason: str
    port_taken: bool = False


def append_header(log_path: Path, request: DeployRequest, port: int) -> int:
    """Mark where the new process's output starts in its log; returns that offset."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with log_path.open("ab") as output:
        output.write(
            f"=== {now} oneclick: starting {request.app} {request.release} "
            f"({request.image_digest}) on stage {request.stage}, port {port} ===\n".encode()
        )
        return output.tell()


def read_log(log_path: Path, offset: int) -> str:
    try:
        with log_path.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def failure_message(request: DeployRequest, failure: Failure, log_path: Path, offset: int) -> str:
    lines = read_log(log_path, offset).splitlines()[-LOG_TAIL_LINES:]
    tail = "\n".join(f"  | {line}" for line in lines) or "  | (nothing)"
    message = (
        f"{request.app} {request.release} did not become ready on stage {request.stage}: "
        f"{failure.reason}. It was stopped; the previous release, if any, keeps running. "
        f"Last lines of {log_path}:\n{tail}"
    )
    return redact(message, request.env)
