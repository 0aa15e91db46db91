"""Checking out a pushed commit with the real git: once, exactly that commit, clear errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from oneclick.errors import BuildError
from oneclick.relay.checkout import checkout, hide_credentials, model_directory


def git(*args: str, cwd: Path) -> str:
    identity = ["-c", "user.name=Dev", "-c", "user.email=dev@example.org"]
    return subprocess.run(
        ["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository with two commits; returns it and both commit ids."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "--quiet", cwd=repo)
    (repo / "app.yaml").write_text("first\n")
    git("add", ".", cwd=repo)
    git("commit", "--quiet", "-m", "one", cwd=repo)
    first = git("rev-parse", "HEAD", cwd=repo)
    (repo / "app.yaml").write_text("second\n")
    git("commit", "--quiet", "-am", "two", cwd=repo)
    return repo, first, git("rev-parse", "HEAD", cwd=repo)


def test_the_named_commit_is_checked_out_once(
    repository: tuple[Path, str, str], tmp_path: Path
) -> None:
    repo, first, second = repository
    root = tmp_path / "sources"
    old = checkout(str(repo), first, root)
    assert (old / "app.yaml").read_text() == "first\n"
    new = checkout(str(repo), second, root)
    assert (new / "app.yaml").read_text() == "second\n"
    (old / "marker").write_text("kept")
    assert checkout(str(repo), first, root) == old and (old / "marker").exists()
    assert sorted(p.name for p in old.parent.iterdir()) == sorted([first, second])


def test_an_unknown_commit_or_repository_fails_clearly(
    repository: tuple[Path, str, str], tmp_path: Path
) -> None:
    repo, _, _ = repository
    with pytest.raises(BuildError, match=r"git checkout of .* failed"):
        checkout(str(repo), "0" * 40, tmp_path / "sources")
    with pytest.raises(BuildError, match=r"git clone of .*missing\.git failed"):
        checkout(str(tmp_path / "missing.git"), "a" * 40, tmp_path / "sources")
    with pytest.raises(BuildError, match="is not a commit id"):
        checkout(str(repo), "--upload-pack=touch /tmp/x", tmp_path / "sources")
    assert not any((tmp_path / "sources").rglob("app.yaml"))


def test_a_model_path_may_not_leave_the_checkout(tmp_path: Path) -> None:
    assert model_directory(tmp_path, "apps/x") == (tmp_path / "apps" / "x").resolve()
    with pytest.raises(BuildError, match="leads outside the repository"):
        model_directory(tmp_path, "../elsewhere")


def test_credentials_in_a_clone_url_are_never_shown() -> None:
    shown = hide_credentials("https://bot:t0ken@git.example.org:8443/team/app.git")
    assert shown == "https://***@git.example.org:8443/team/app.git"
    assert hide_credentials("/srv/git/app.git") == "/srv/git/app.git"
