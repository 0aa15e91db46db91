"""The second half of publish, promote, rollback and apply-configuration: a release onto a
stage, by the rollout engine (``oneclick.rollout``). The engine holds the stage's lease,
decides and records; here its steps are Prefect tasks (retries, the plan artifact, each
step visible in the run), and runs the engine found killed are marked Crashed in Prefect.
A flow that rolls out sets ``ROLLOUT_HOOKS``: a crashed or cancelled run's attempts are
marked aborted and its leases given up at once, without waiting for them to expire.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.context import get_run_context
from prefect.futures import PrefectFuture
from prefect.states import Crashed

from flows.workspace import open_home
from oneclick.data import SchemaChange, SchemaPlan, SchemaResult
from oneclick.home import Home
from oneclick.releases import Catalog, DeploymentView, ReleaseView
from oneclick.rollout import Rollout, RolloutResult, abandon_run, this_process
from oneclick.runtimes import DeployResult
from oneclick.runtimes.select import stage_runtime
from oneclick.runtimes.types import AbortCheck, HoldCheck
from oneclick.stages import StageConfig
from tasks.report import report_release
from tasks.stage import apply_stage_schema, deploy_to_stage, plan_stage_schema


class TaskSteps:
    """The engine's steps as Prefect tasks of the running flow."""

    def __init__(
        self,
        release: ReleaseView,
        stage: StageConfig,
        home: Home,
        verb: str,
        check_libraries: bool = False,
    ) -> None:
        self.release, self.stage, self.home, self.verb = release, stage, home, verb
        self.check_libraries = check_libraries

    def plan(self) -> SchemaPlan:
        """With ``check_libraries`` (publish, promote), the library impact check first."""
        return plan_stage_schema(
            self.release, self.stage, self.home if self.check_libraries else None
        )

    def widen(self, plan: SchemaPlan) -> PrefectFuture[SchemaResult]:
        return apply_stage_schema.submit(self.release, self.stage, plan)

    def deploy(self, hold: HoldCheck, abort: AbortCheck) -> PrefectFuture[DeployResult]:
        return deploy_to_stage.submit(self.release, self.stage, self.home, hold=hold, abort=abort)

    def settle(self, aborted: list[DeploymentView]) -> None:
        """Runs killed without a word stay Running in Prefect: say they crashed."""
        runs = {record.flow_run_id for record in aborted if record.flow_run_id}
        with get_client(sync_client=True) as client:
            for run_id in runs:
                state = client.read_flow_run(UUID(run_id)).state
                if state is not None and not state.is_final():
                    client.set_flow_run_state(
                        run_id,
                        Crashed(message="killed during a rollout; found by a later rollout"),
                        force=True,
                    )
                    get_run_logger().warning("marked flow run %s Crashed", run_id)

    def report(
        self, result: RolloutResult, changes: list[SchemaChange], drift: list[SchemaChange]
    ) -> None:
        verb = "unchanged on" if result.unchanged else self.verb
        report_release(
            self.release, self.stage.name, result.url, changes, result.schema_script, verb, drift
        )


def started_by(by: str | None = None) -> str:
    """Who started this run, as the catalog records it: the person the caller names, else
    how the flow run was created (a schedule, an automation, a person in the UI or API)."""
    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    if by:
        return by
    if flow_run is None:
        return "unknown"
    if flow_run.auto_scheduled:
        return "schedule"
    creator = flow_run.created_by
    if creator is not None and creator.type:
        return f"{str(creator.type).lower()} {creator.display_value or ''}".strip()
    return "Prefect UI or API" if flow_run.deployment_id else "in process"


def roll_out(
    release: ReleaseView,
    stage: StageConfig,
    home: Home,
    verb: str,
    *,
    by: str | None = None,
    override: str | None = None,
    check_libraries: bool = False,
) -> RolloutResult:
    """Roll ``release`` onto ``stage``; ``check_libraries``: refuse it when a library version
    it takes removes records the app still uses there (``oneclick.libraries.impact``)."""
    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    holder = this_process(str(flow_run.id), flow_run.name) if flow_run else this_process()
    rollout = Rollout(
        Catalog(home.catalog_url),
        stage_runtime(stage, home),
        release,
        stage,
        TaskSteps(release, stage, home, verb, check_libraries),
        holder,
        verb=verb,
        started_by=started_by(by),
        override=override,
    )
    return rollout.run()


def _abandon(flow: Any, flow_run: Any, state: Any) -> None:
    reason = f"its flow run was {str(state.name).lower()}: {state.message or 'no message'}"
    abandon_run(Catalog(open_home().catalog_url), str(flow_run.id), reason)


ROLLOUT_HOOKS: dict[str, Any] = {"on_crashed": [_abandon], "on_cancellation": [_abandon]}
