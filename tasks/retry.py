"""Retry only what may pass: ``TransientError``. Every other failure ends the task at once."""

from __future__ import annotations

from typing import Any

from oneclick.errors import TransientError

RETRIES = 3
RETRY_DELAYS = [1, 3, 9]


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """A ``retry_condition_fn``: retry when the task raised a TransientError."""
    try:
        state.result()
    except TransientError:
        return True
    except Exception:
        return False
    return False


RETRY: dict[str, Any] = {
    "retries": RETRIES,
    "retry_delay_seconds": RETRY_DELAYS,
    "retry_condition_fn": only_transient,
}
