"""oneclick's blocks read over the Prefect server's REST API, without importing Prefect (a
second and a half of CPU): what `status` and the listing commands need from the server."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from oneclick import plainhttp
from oneclick.errors import OneclickError

if TYPE_CHECKING:
    from oneclick.home import Home
    from oneclick.stages import StageConfig


def block_data(
    api_url: str, type_slug: str, names: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Each block document of a type, by name: its fields, secrets revealed."""
    query: dict[str, Any] = {
        "block_types": {"slug": {"any_": [type_slug]}},
        "include_secrets": True,
    }
    if names is not None:
        query["block_documents"] = {"name": {"any_": sorted(set(names))}}
    try:
        status, body = plainhttp.request(
            f"{api_url}/block_documents/filter", payload=query, timeout=10
        )
    except OSError as exc:
        raise OneclickError(f"the Prefect server at {api_url} did not answer: {exc}") from exc
    if status != 200:
        raise OneclickError(
            f"the Prefect server at {api_url} answered {status} to a block query: {body[:300]!r}"
        )
    return {doc["name"]: doc["data"] for doc in json.loads(body) if doc.get("name")}


def workspace_catalog(api_url: str) -> str | None:
    """The release catalog URL of the 'default' workspace block, if the server has one."""
    try:
        found = block_data(api_url, "oneclick-workspace", ["default"])
    except OneclickError:
        return None
    value = found.get("default", {}).get("catalog_url")
    return str(value) if value else None


def stage_configs(api_url: str, home: Home, names: Iterable[str]) -> dict[str, StageConfig]:
    """The named stages' configurations from their blocks (an unknown name is an error)."""
    from oneclick.registry import RegistryConfig
    from oneclick.stages import stage_config

    wanted = set(names)
    stages = block_data(api_url, "oneclick-stage", wanted)
    unknown = wanted - stages.keys()
    if unknown:
        raise OneclickError(
            f"no stage block named {', '.join(sorted(unknown))}: `oneclick stages` lists them"
        )
    registry_names = {data["registry"] for data in stages.values() if data.get("registry")}
    registries = {
        name: RegistryConfig.model_validate({**data, "username": data.get("username") or None})
        for name, data in block_data(api_url, "oneclick-registry", registry_names).items()
    }
    return {
        name: stage_config(name, data, home, registries.get(data.get("registry") or ""))
        for name, data in stages.items()
    }
