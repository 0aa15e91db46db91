"""A person's approval before a release enters a protected stage.

The flow run waits; a reviewer resumes it from the Prefect UI (or ``prefect flow-run
resume``) and answers the ``Approval`` form. A rejection or no answer in time stops the
promotion before anything on the stage is touched.

A run of a work pool (a worker's container or pod) *suspends*: its process exits, giving the
container back while a person decides, and the worker starts it again once resumed. The flow
then runs from the top: what it did before waiting only reads (the release, the stage's
configuration and freezes), so it is done again, and the answer is found by its key. A run
without a work pool (in process, or served by ``oneclick up``), and a subflow (promote-stage's
promotions), pauses, holding its process.
"""

from __future__ import annotations

from prefect import get_run_logger
from prefect.context import get_run_context
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run, suspend_flow_run
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
    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    key = f"approve-{stage}"
    try:
        if flow_run is not None and flow_run.work_pool_name and not flow_run.parent_task_run_id:
            answer = suspend_flow_run(wait_for_input=Approval, timeout=timeout, key=key)
        else:
            answer = pause_flow_run(
                wait_for_input=Approval, timeout=timeout, poll_interval=2, key=key
            )
    except FlowPauseTimeout as exc:
        raise StageError(
            f"nobody approved the promotion of {what} within {timeout} s; promote again"
        ) from exc
    if answer is None or not answer.approve:
        reason = f": {answer.reason}" if answer and answer.reason else ""
        raise StageError(f"the promotion of {what} was rejected{reason}")
    get_run_logger().info("approved%s", f": {answer.reason}" if answer.reason else "")
