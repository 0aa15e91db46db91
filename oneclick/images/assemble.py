"""An app image's config and manifest, on top of any base image's config.

``app_config(base_config, spec, diff_ids)`` keeps what the base says about its runtime
(architecture, os, ``Env``, ``User``, ``Labels``, its layers' diff_ids and history) and adds
what makes it the app's image: the app's layers' diff_ids, ``Env`` merged with the spec's
non-secret defaults (the spec wins; names sorted), the labels merged likewise, the fixed
``Cmd`` (no ``Entrypoint``: a base's entrypoint would swallow the command), ``WorkingDir``
``/app``, port 8080, a fixed ``created`` time and two history lines. ``manifest_document``
writes the OCI manifest. Both are serialised with ``canonical_json``, so the same inputs give
the same bytes, hence the same digests.
"""

from __future__ import annotations

from typing import Any

from oneclick.images.spec import (
    APP_COMMAND,
    APP_PORT,
    CONFIG_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    ImageSpec,
)

CREATED = "1970-01-01T00:00:00Z"
KEPT_SETTINGS = ("User", "StopSignal")


def parse_env(lines: list[str] | None) -> dict[str, str]:
    """``["NAME=value", ...]`` as a dict (later entries win, as in a container runtime)."""
    env: dict[str, str] = {}
    for line in lines or []:
        name, _, value = line.partition("=")
        env[name] = value
    return env


def app_config(base_config: dict[str, Any], spec: ImageSpec, diff_ids: list[str]) -> dict[str, Any]:
    """The config of ``spec``'s image: ``base_config`` plus the layers with ``diff_ids``."""
    base = base_config.get("config") or {}
    env = {**parse_env(base.get("Env")), **spec.env}
    labels = {**(base.get("Labels") or {}), **spec.labels}
    libraries = ", ".join(name for name, _ in sorted(spec.library_builds)) or "none"
    history = [
        *(base_config.get("history") or []),
        {"created": CREATED, "created_by": f"oneclick libraries: {libraries}"},
        {"created": CREATED, "created_by": f"oneclick app: {spec.repository} {spec.tag}"},
    ]
    settings: dict[str, Any] = {key: base[key] for key in KEPT_SETTINGS if key in base}
    settings.update(
        {
            "Cmd": list(APP_COMMAND),
            "Env": [f"{name}={value}" for name, value in sorted(env.items())],
            "ExposedPorts": {f"{APP_PORT}/tcp": {}},
            "Labels": dict(sorted(labels.items())),
            "WorkingDir": "/app",
        }
    )
    base_diff_ids = list((base_config.get("rootfs") or {}).get("diff_ids") or [])
    return {
        "architecture": base_config.get("architecture", "amd64"),
        "os": base_config.get("os", "linux"),
        "created": CREATED,
        "config": settings,
        "rootfs": {"type": "layers", "diff_ids": [*base_diff_ids, *diff_ids]},
        "history": history,
    }


def manifest_document(
    config_digest: str, config_size: int, layers: list[dict[str, Any]]
) -> dict[str, Any]:
    """An OCI image manifest naming the config blob and ``layers`` (descriptors, base first)."""
    return {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": config_size},
        "layers": [
            {"mediaType": layer["mediaType"], "digest": layer["digest"], "size": layer["size"]}
            for layer in layers
        ],
    }
