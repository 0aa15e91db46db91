"""Helpers for the library tests: versions of finance-common and apps that use a range."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support import EXAMPLES

TRAINING = "      - {key: Training, label: Training & books}\n"


def library_version(
    root: Path, version: str, *, drop: tuple[str, ...] = (), add: tuple[str, ...] = ()
) -> Path:
    """finance-common at ``version``, without the Category records ``drop``, with ``add``."""
    target = root / f"finance-common-{version}"
    shutil.copytree(EXAMPLES / "finance-common", target)
    model = (target / "library.yaml").read_text()
    model = model.replace("version: 1.2.0", f"version: {version}")
    for key in drop:
        lines = [line for line in model.splitlines(True) if f"{{key: {key}," not in line]
        model = "".join(lines)
    added = "".join(f"      - {{key: {key}, label: {key}}}\n" for key in add)
    model = model.replace(TRAINING, TRAINING + added)
    (target / "library.yaml").write_text(model)
    return target


def ranged_app(root: Path, name: str, requirement: str, *, app: str = "expenses") -> Path:
    """The example app requiring finance-common ``requirement`` (a version or a range)."""
    target = root / name
    shutil.copytree(EXAMPLES / "expenses", target)
    model = (target / "app.yaml").read_text()
    model = model.replace(
        "{name: finance-common, version: 1.2.0}",
        f'{{name: finance-common, version: "{requirement}"}}',
    )
    model = model.replace("app: expenses", f"app: {app}")
    (target / "app.yaml").write_text(model)
    return target
