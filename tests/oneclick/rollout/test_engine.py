"""The rollout engine without Prefect: ``DirectSteps``, a real compiled app in an OCI layout,
real processes of the local runtime, a real SQLite stage database and catalog."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from oneclick.compiler import compile_app
from oneclick.errors import DeployError, SchemaError
from oneclick.images import ImageSpec, LayoutImageBuilder
from oneclick.images.reading import parse_reference
from oneclick.model.types import AppModel
from oneclick.releases import Catalog, Leases, Phase, ReleaseView
from oneclick.rollout import DirectSteps, Rollout, RolloutResult, this_process
from oneclick.runtimes import LocalRuntime
from oneclick.stages import StageConfig
from tests.oneclick.compiler.compiler_support import compile_example_libraries, example_app

SETTINGS = {"expenses": {"ApprovalLimit": "100"}}
SECRETS = {"expenses": {"PaymentsApiKey": SecretStr("k3y")}}


class Stage:
    """Everything one test's stage needs, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.catalog = Catalog(f"sqlite:///{root / 'catalog.db'}")
        self.runtime = LocalRuntime(root / "runtime", poll_interval=0.1, drain=0.0)
        self.libraries = compile_example_libraries(root / "libs")
        self.layout = root / "layout"
        (root / "stage").mkdir(exist_ok=True)

    def config(self, settings: dict[str, dict[str, str]] = SETTINGS) -> StageConfig:
        url = SecretStr(f"sqlite:///{self.root / 'stage' / '{app}.db'}")
        return StageConfig(name="dev", database_url=url, settings=settings, secrets=SECRETS)

    def release(self, model: AppModel) -> ReleaseView:
        out = Path(tempfile.mkdtemp(dir=self.root)) / "app"
        build = compile_app(model, self.libraries, out)
        image = LayoutImageBuilder(self.layout).build(
            ImageSpec(
                repository="expenses",
                tag=model.version,
                app_build=build.path,
                library_builds=[(lib.name, lib.path) for lib in self.libraries],
            )
        )
        return self.catalog.record_release(
            manifest=dict(build.manifest),
            model=model.model_dump(mode="json"),
            version=model.version,
            image_digest=image.digest,
            image_reference=image.reference,
        )

    def roll_out(self, release: ReleaseView, config: StageConfig | None = None) -> RolloutResult:
        config = config or self.config()
        steps = DirectSteps(
            release,
            config,
            self.runtime,
            lambda: (parse_reference(release.image_reference)[0], None),
            ready_timeout=8.0,
        )
        rollout = Rollout(self.catalog, self.runtime, release, config, steps, this_process())
        return rollout.run()


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[Stage]:
    made = Stage(tmp_path)
    yield made
    made.runtime.stop_all()


def with_phone(version: str) -> AppModel:
    model = example_app().model_dump(mode="json")
    model["version"] = version
    model["entities"][1]["attributes"].append({"name": "Phone", "type": "phone"})
    return AppModel.model_validate(model)


def test_a_rollout_then_a_no_op_then_a_change(stage: Stage) -> None:
    first = stage.roll_out(stage.release(example_app()))
    assert first.schema_changes and not first.unchanged
    pid = stage.runtime.status("dev", "expenses").pid  # type: ignore[union-attr]
    again = stage.roll_out(stage.release(example_app()))
    assert again.unchanged and again.url == first.url and again.schema_changes == []
    assert stage.runtime.status("dev", "expenses").pid == pid  # type: ignore[union-attr]
    changed = stage.roll_out(stage.release(with_phone("1.1.0")))
    assert any("phone" in c for c in changed.schema_changes)
    assert changed.url == first.url  # the stage's address stays; the instance behind it changed
    assert stage.runtime.status("dev", "expenses").pid != pid  # type: ignore[union-attr]
    phases = [d.phase for d in stage.catalog.deployments("expenses")]
    assert phases == [Phase.SUCCEEDED] * 3
    assert Leases(stage.catalog).holder("expenses", "dev") is None


def test_a_refused_change_touches_nothing_and_is_recorded_failed(stage: Stage) -> None:
    first = stage.roll_out(stage.release(example_app()))
    model = example_app().model_dump(mode="json")
    model["version"] = "1.1.0"
    model["entities"][1]["attributes"][0]["length"] = 50  # shorter text: lossy
    with pytest.raises(SchemaError, match="refused"):
        stage.roll_out(stage.release(AppModel.model_validate(model)))
    refused = stage.catalog.deployments("expenses")[0]
    assert refused.phase is Phase.FAILED and refused.schema_changes == []
    assert httpx.get(f"{first.url}/readyz", trust_env=False).status_code == 200


def test_a_release_never_ready_after_its_schema_change_keeps_the_previous_ready(
    stage: Stage,
) -> None:
    first = stage.roll_out(stage.release(example_app()))
    broken = stage.config({"expenses": {"ApprovalLimit": "lots"}})
    with pytest.raises(DeployError, match="did not become ready"):
        stage.roll_out(stage.release(with_phone("1.1.0")), broken)
    ready = httpx.get(f"{first.url}/readyz", trust_env=False)
    assert ready.status_code == 200 and ready.json()["schema_fit"] == "compatible"
    failed = stage.catalog.deployments("expenses")[0]
    assert failed.phase is Phase.FAILED and any("phone" in c for c in failed.schema_changes)
    assert "lots" in (failed.message or "")
    current = stage.catalog.current("expenses", "dev")
    assert current is not None and current.url == first.url
