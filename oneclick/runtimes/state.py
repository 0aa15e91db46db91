"""What the local runtime remembers about each (stage, app): one small JSON file each.

``root/state/<stage>/<app>.json`` holds an ``InstanceRecord``: the running release, its
image digest, pid, port, URL, when it started, its app directory (to recognise the process)
and its log file. Two more kinds of record cover a deploy in flight, so that a deploy
killed at any point leaves nothing untracked: ``state/<stage>/.starting/<app>.json`` is a
new process not yet ready (written before the process is started, its pid 0 until it is
known), ``state/<stage>/.retiring/<app>.json`` the replaced one being stopped. An
``AddressRecord``, ``state/<stage>/.address/<app>.json``, holds the stage address of
(stage, app): the port of its proxy, chosen once and kept for good, and the proxy's
process. Records are written atomically (temp file + rename) and hold no environment
values, so no setting or secret ever reaches them. ``root/locks/<stage>/<app>.lock``
serialises every change to one (stage, app) across threads and processes (``fcntl.flock``).
A record that cannot be read is logged and treated as absent, never raised.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

log = logging.getLogger(__name__)

CURRENT = "current"
STARTING = "starting"
RETIRING = "retiring"
IN_FLIGHT = (STARTING, RETIRING)
ADDRESS = "address"


class InstanceRecord(BaseModel):
    """The process serving one app on one stage, as recorded when it became ready."""

    model_config = ConfigDict(frozen=True)

    stage: str
    app: str
    release: str
    digest: str
    pid: int
    port: int
    url: str
    started_at: str
    app_dir: str
    log: str


class AddressRecord(BaseModel):
    """The stable address of one app on one stage: the port its proxy serves, for good."""

    model_config = ConfigDict(frozen=True)

    stage: str
    app: str
    port: int
    url: str
    pid: int = 0
    log: str


Record = TypeVar("Record", InstanceRecord, AddressRecord)


class StateStore:
    """The records and locks of a local runtime under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def record_path(self, stage: str, app: str, kind: str = CURRENT) -> Path:
        folder = self.root / "state" / stage
        return (folder if kind == CURRENT else folder / f".{kind}") / f"{app}.json"

    def read(self, stage: str, app: str, kind: str = CURRENT) -> InstanceRecord | None:
        return self._load(self.record_path(stage, app, kind), InstanceRecord)

    def read_address(self, stage: str, app: str) -> AddressRecord | None:
        return self._load(self.record_path(stage, app, ADDRESS), AddressRecord)

    def records(self, kind: str = CURRENT) -> list[InstanceRecord]:
        """Every readable record of ``kind``, by stage then app."""
        pattern = "state/*/*.json" if kind == CURRENT else f"state/*/.{kind}/*.json"
        found = (self._load(path, InstanceRecord) for path in sorted(self.root.glob(pattern)))
        return [record for record in found if record is not None]

    def addresses(self) -> list[AddressRecord]:
        """Every readable address record, by stage then app."""
        paths = sorted(self.root.glob(f"state/*/.{ADDRESS}/*.json"))
        found = (self._load(path, AddressRecord) for path in paths)
        return [record for record in found if record is not None]

    def write(self, record: InstanceRecord, kind: str = CURRENT) -> None:
        self._dump(self.record_path(record.stage, record.app, kind), record)

    def write_address(self, record: AddressRecord) -> None:
        self._dump(self.record_path(record.stage, record.app, ADDRESS), record)

    @staticmethod
    def _dump(path: Path, record: BaseModel) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as output:
                output.write(record.model_dump_json(indent=2) + "\n")
                output.flush()
                os.fsync(output.fileno())
            os.replace(name, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)

    def delete(self, stage: str, app: str, kind: str = CURRENT) -> bool:
        path = self.record_path(stage, app, kind)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    @contextlib.contextmanager
    def locked(self, stage: str, app: str) -> Iterator[None]:
        """Hold the (stage, app) lock for the ``with`` block (blocks until it is free)."""
        path = self.root / "locks" / stage / f"{app}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @staticmethod
    def _load(path: Path, model: type[Record]) -> Record | None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read runtime state %s: %s; ignoring it", path, exc)
            return None
        try:
            return model.model_validate_json(text)
        except ValidationError as exc:
            log.warning(
                "runtime state %s is not a valid record (%d problems); ignoring it",
                path,
                exc.error_count(),
            )
            return None
