"""Constants the tests share."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SECRET = "s3cr3t-payments-key-do-not-leak"
