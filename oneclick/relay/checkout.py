"""A pushed commit, checked out where a flow can compile it.

``checkout(repository, commit, root)`` clones into ``root/<repository hash>/<commit>`` once
(into a scratch directory first, renamed into place when complete) and reuses that checkout
afterwards, so a retried or repeated run fetches nothing. git never prompts for credentials;
a URL's user information is hidden in every message.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from oneclick.errors import BuildError

COMMIT = re.compile(r"[0-9a-f]{7,64}")


def checkout(repository: str, commit: str, root: Path) -> Path:
    if not COMMIT.fullmatch(commit):
        raise BuildError(f"{commit!r} is not a commit id (hexadecimal, 7 to 64 digits)")
    if repository.startswith("-"):
        raise BuildError(f"{repository!r} is not a repository URL or path")
    target = root / hashlib.sha256(repository.encode()).hexdigest()[:16] / commit
    if (target / ".git").is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{commit[:12]}-", dir=target.parent))
    try:
        run_git(
            "clone", "--quiet", "--no-checkout", "--", repository, str(scratch), about=repository
        )
        run_git("checkout", "--quiet", "--detach", commit, about=repository, cwd=scratch)
        try:
            scratch.rename(target)
        except OSError:
            if not (target / ".git").is_dir():  # not a concurrent run that finished first
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def model_directory(checkout_dir: Path, path: str) -> Path:
    """``path`` inside the checkout; a path leading outside it is refused."""
    resolved = (checkout_dir / path).resolve()
    if not resolved.is_relative_to(checkout_dir.resolve()):
        raise BuildError(f"the model path {path!r} leads outside the repository")
    return resolved


def run_git(*args: str, about: str, cwd: Path | None = None) -> str:
    """git's output; a failure is a ``BuildError`` naming ``about`` without credentials."""
    result = _run(args, cwd)
    if result.returncode != 0:
        said = (result.stderr.strip().splitlines() or ["no message"])[-1]
        where = hide_credentials(about)
        raise BuildError(f"git {args[0]} of {where} failed: {said.replace(about, where)}")
    return result.stdout


def git_succeeds(*args: str, cwd: Path) -> bool:
    """Whether git answers yes (exit 0), for the commands whose exit status is the answer."""
    return _run(args, cwd).returncode == 0


def _run(args: tuple[str, ...], cwd: Path | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600, check=False
    )


def hide_credentials(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password and not parts.username:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))
