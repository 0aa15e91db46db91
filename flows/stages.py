"""Turning stage blocks into ``StageConfig`` values; the stages there are, in promotion order.

A flow's stage parameter is the name of a stage block (any name a team chooses); an unknown
name fails before anything is touched, listing the stages there are."""

from __future__ import annotations

from typing import Annotated

from prefect.client.orchestration import get_client
from pydantic import Field

from blocks import Stage
from oneclick.errors import StageError
from oneclick.home import Home
from oneclick.stages import StageConfig

StageName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="The name of a 'oneclick Stage' block: development, qa, production, ...",
    ),
]


def stage_names() -> list[str]:
    """The names of every stage block, in promotion order."""
    with get_client(sync_client=True) as client:
        documents = client.read_block_documents_by_type(block_type_slug=Stage.get_block_type_slug())
    ordered = sorted(documents, key=lambda d: (d.data.get("order", 0), d.name or ""))
    return [d.name for d in ordered if d.name]


def load_stage(name: str, home: Home) -> StageConfig:
    try:
        block = Stage.load(name)
    except ValueError as exc:
        known = ", ".join(stage_names()) or "none"
        raise StageError(
            f"unknown stage {name!r} (stages: {known}); create a 'oneclick Stage' block "
            f"named {name!r} in the Prefect UI (Blocks) first"
        ) from exc
    assert isinstance(block, Stage)
    return block.to_config(name, home)
