"""Console logging for flows run in process: Prefect's console shows progress lines; the
tracebacks of expected failures are left out unless --debug (the API still gets them), and so
is the events worker's "Still processing items" while it sends the last events at exit (the
command still waits for them; on a busy machine the line followed every command's answer)."""

from __future__ import annotations

import copy
import logging


class _NoTraceback(logging.Formatter):
    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        plain = copy.copy(record)
        plain.exc_info = None
        plain.exc_text = None
        return self.inner.format(plain)


def quiet_tracebacks(debug: bool) -> None:
    if debug:
        return
    from prefect.logging.configuration import setup_logging

    setup_logging()
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)
    for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs"):
        for handler in logging.getLogger(name).handlers:
            if type(handler).__name__ == "PrefectConsoleHandler" and handler.formatter:
                handler.setFormatter(_NoTraceback(handler.formatter))
