"""The CLI reads stage blocks over the REST API (no Prefect import) into the same
configuration the flows get from the blocks themselves."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from blocks import Registry, Stage
from oneclick.cli.rest import stage_configs, workspace_catalog
from oneclick.errors import OneclickError
from oneclick.home import Home
from oneclick.policies import CronSchedule, PromotionPolicy
from oneclick.runtimes.docker_config import DockerRuntimeConfig


def test_a_stage_read_over_rest_equals_the_block_s_own_configuration(
    prefect_server: str, stage_block: Callable[..., str], tmp_path: Path
) -> None:
    home = Home(tmp_path)
    registry = f"rest-{uuid.uuid4().hex[:8]}"
    Registry(url="127.0.0.1:5999", insecure=True, prefix="team", password="pw").save(registry)
    try:
        plain = stage_block("rest-plain", order=41)
        full = stage_block(
            "rest-full",
            order=42,
            runtime="docker",
            registry=registry,
            docker=DockerRuntimeConfig(engine_url="tcp://127.0.0.1:2375", namespace="rest"),
            database_url=SecretStr("postgresql+psycopg://u:secret@127.0.0.1/{app}"),
            requires_approval=True,
            promotion=PromotionPolicy(
                source="rest-plain", schedules=[CronSchedule(cron="0 3 * * *")]
            ),
        )
        over_rest = stage_configs(prefect_server, home, [plain, full])
        for name in (plain, full):
            block = Stage.load(name)
            assert isinstance(block, Stage)
            assert over_rest[name] == block.to_config(name, home)
        assert over_rest[full].registry is not None
        assert over_rest[full].registry.password is not None
        assert over_rest[full].registry.password.get_secret_value() == "pw"
        with pytest.raises(OneclickError, match="no stage block named rest-nothing"):
            stage_configs(prefect_server, home, [plain, "rest-nothing"])
    finally:
        Registry.delete(registry)


def test_no_answer_means_no_workspace_catalog() -> None:
    assert workspace_catalog("http://127.0.0.1:9/api") is None
