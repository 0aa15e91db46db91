"""A bare, partial mirror of a pushed repository, for the relay's questions about history.

``Mirror(repository, root)`` keeps ``root/<repository hash>.git``: a ``--mirror`` clone with
``--filter=blob:none`` (commits and trees; a file's content is fetched when it is read), made
on the first question and fetched again only when a commit asked about is missing. git never
prompts for credentials; a URL's user information is hidden in every message. One process
asks one question of a mirror at a time.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from pathlib import Path

from oneclick.relay.checkout import git_succeeds, run_git

MAX_FILE = 256 * 1024
_locks: dict[Path, threading.Lock] = {}
_locks_lock = threading.Lock()


class Mirror:
    def __init__(self, repository: str, root: Path) -> None:
        self.repository = repository
        self.path = root / (hashlib.sha256(repository.encode()).hexdigest()[:16] + ".git")
        with _locks_lock:
            self.lock = _locks.setdefault(self.path, threading.Lock())

    def ensure(self, *commits: str) -> None:
        """Clone or fetch so that ``commits`` are here, if the repository has them."""
        with self.lock:
            if not (self.path / "HEAD").is_file():
                self._clone()
            elif not all(self._has(c) for c in commits):
                self._git("fetch", "--quiet", "--prune", "origin")

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether ``ancestor`` is in the history of ``descendant`` (False if either is unknown)."""
        with self.lock:
            return git_succeeds("merge-base", "--is-ancestor", ancestor, descendant, cwd=self.path)

    def read(self, commit: str, path: str) -> str | None:
        """The text of ``path`` at ``commit``; None if there is none (or it is too large)."""
        with self.lock:
            if not git_succeeds("cat-file", "-e", f"{commit}:{path}", cwd=self.path):
                return None
            size = self._git("cat-file", "-s", f"{commit}:{path}")
            return None if int(size) > MAX_FILE else self._git("show", f"{commit}:{path}")

    def _has(self, commit: str) -> bool:
        return git_succeeds("cat-file", "-e", f"{commit}^{{commit}}", cwd=self.path)

    def _git(self, *args: str) -> str:
        return run_git(*args, about=self.repository, cwd=self.path)

    def _clone(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".mirror-", dir=self.path.parent))
        try:
            clone = ["clone", "--quiet", "--mirror", "--filter=blob:none", "--"]
            run_git(*clone, self.repository, str(scratch), about=self.repository)
            try:
                scratch.rename(self.path)
            except OSError:
                if not (self.path / "HEAD").is_file():  # not another relay that finished first
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
