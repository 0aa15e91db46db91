"""A person's approval before a release enters a protected stage.

The flow run pauses; a reviewer resumes it from the Prefect UI (or ``prefect flow-run
resume``) and answers the ``Approval`` form. A rejection or no answer in time stops the
promotion before anything on the stage is touched.
"""

from __future__ import annotations

from prefect import get_run_logger
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from oneclick.errors import StageError
from oneclick.releases import ReleaseView


class Approval(RunInput):
    approve: bool = Field(description="Let this release into the stage?")
    reason: str = Field(default="", description="Why; kept in the run's logs.")


def wait_for_approval(release: ReleaseView, stage: str, timeout: int) -> None:
    what = f"{release.app} {release.version} to {stage}"
    get_run_logger().info(
        "the promotion of %s waits for approval: resume this flow run in the Prefect UI", what
    )
    try:
        answer = pause_flow_run(
            wait_for_input=Approval, timeout=timeout, poll_interval=2, key=f"approve-{stage}"
        )
    except FlowPauseTimeout as exc:
        raise StageError(
            f"nobody approved the promotion of {what} within {timeout} s; promote again"
        ) from exc
    if answer is None or not answer.approve:
        reason = f": {answer.reason}" if answer and answer.reason else ""
        raise StageError(f"the promotion of {what} was rejected{reason}")
    get_run_logger().info("approved%s", f": {answer.reason}" if answer.reason else "")
