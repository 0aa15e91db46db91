"""The Docker engine backend: builds an app image through a Docker engine and pushes it.

``DockerImageBuilder(client, base=..., registry=...).build(spec)``:

1. writes a build context (a gzip'd tar, deterministic like every oneclick layer: mtime 0,
   uid 0, sorted) holding ``Dockerfile``, ``libs/<name>/`` for every library build and
   ``app/`` for the app build;
2. the Dockerfile starts ``FROM <base>``, then the stable metadata (``ENV``, and ``WORKDIR
   /app``, ``EXPOSE 8080``, ``CMD`` per the image contract unless the base already says so),
   ``COPY libs/ /libs/``, the ``LABEL``s (they name the release) and, last because it
   changes most often, ``COPY app/ /app/``; the engine's cache keeps every step before the
   first changed one;
3. builds with ``pull=False`` and tags the image ``<repository>:<tag>``; a base the engine
   lacks is pulled first (with the registry's credentials when it lives there);
4. with a registry: tags ``<host>/<prefix>/<repository>:<tag>``, pushes it (with the
   registry's credentials, if any) and returns ``<host>/<prefix>/<repository>@<digest>``,
   the manifest digest the registry stored; without one: the image stays in the engine and
   the result names it by image ID (``digest`` and ``reference`` are both that ID).

``ImageResult.layers`` are the layer diff_ids the engine reports (uncompressed digests) and
``size`` the engine's image size: the engine does not expose the compressed blobs it pushes.
Secrets never reach the image: ``ImageSpec`` refuses ``ONECLICK_SECRET_*`` variables.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from oneclick.errors import BuildError, TransientError
from oneclick.images.layers import LayerEntry, collect_tree, write_layer
from oneclick.images.layout import check_inputs
from oneclick.images.spec import APP_COMMAND, APP_PORT, ImageResult, ImageSpec
from oneclick.registry.config import RegistryConfig
from oneclick.registry.errors import RegistryAuthError

log = logging.getLogger(__name__)

DOCKERFILE = "Dockerfile"
AUTH_WORDS = ("unauthorized", "authentication required", "denied", "no basic auth")


def connect_engine(url: str, timeout: int = 300) -> docker.DockerClient:
    """A client of the Docker engine at ``url`` (``unix:///...`` or ``tcp://host:port``)."""
    try:
        client = docker.DockerClient(base_url=url, timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise TransientError(
            f"expected a Docker engine at {url}, found none answering ({exc}); start it "
            "or correct the engine URL in the stage or registry configuration"
        ) from exc
    return client


class DockerImageBuilder:
    """Builds ``ImageSpec``s through a Docker engine, on ``base``, pushing to ``registry``."""

    def __init__(
        self,
        client: docker.DockerClient,
        base: str = "",
        registry: RegistryConfig | None = None,
    ) -> None:
        if not base and registry is None:
            raise BuildError(
                "the Docker builder needs a base image: name one, or a registry whose "
                "default base it can use"
            )
        self.client = client
        self.registry = registry
        self.base = base or (registry.base_reference() if registry is not None else "")
        if self.base.startswith("oci-layout:"):
            raise BuildError(
                f"the Docker builder cannot start from {self.base}: an engine reads base "
                "images from a registry or its own store; push the base to the registry "
                "(oneclick runtime build --push) or name an image the engine has"
            )

    def build(self, spec: ImageSpec) -> ImageResult:
        """Build ``spec`` in the engine, push it when a registry is configured."""
        check_inputs(spec)
        local = f"{spec.repository}:{spec.tag}"
        with tempfile.TemporaryDirectory(prefix="oneclick-context-") as work:
            context = Path(work) / "context.tar.gz"
            write_layer(context_entries(spec, self.base, self._base_config()), context)
            image_id = self._build(context, local, spec)
        image = self.client.images.get(image_id)
        layers = [str(layer) for layer in image.attrs.get("RootFS", {}).get("Layers", [])]
        size = int(image.attrs.get("Size", 0))
        if self.registry is None:
            log.info("built image %s as %s in the engine", local, image_id)
            digest = reference = image_id
        else:
            digest = self._push(image, spec)
            reference = self.registry.pinned(spec.repository, digest)
            log.info("built image %s and pushed it as %s", local, reference)
        return ImageResult(
            repository=spec.repository,
            tag=spec.tag,
            digest=digest,
            reference=reference,
            config_digest=image_id,
            layers=layers,
            size=size,
        )

    def _base_config(self) -> Mapping[str, Any]:
        """The base image's ``Config``; a base the engine lacks is pulled from its registry."""
        try:
            try:
                image = self.client.images.get(self.base)
            except docker.errors.ImageNotFound:
                log.info("pulling base image %s", self.base)
                image = self.client.images.pull(self.base, auth_config=self._auth(self.base))
        except docker.errors.APIError as exc:
            raise BuildError(
                f"expected the base image {self.base} in the engine or its registry, found "
                f"none ({exc.explanation or exc}); build and push it with `oneclick runtime "
                "build --push`, or name another base in the registry block"
            ) from exc
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise TransientError(f"the Docker engine failed reading {self.base}: {exc}") from exc
        config = image.attrs.get("Config") or {}
        return config if isinstance(config, Mapping) else {}

    def _auth(self, reference: str) -> dict[str, str] | None:
        """Credentials for ``reference`` when it lives in the configured registry."""
        registry = self.registry
        if registry is None or not registry.username or not reference.startswith(registry.host):
            return None
        password = registry.password.get_secret_value() if registry.password else ""
        return {"username": registry.username, "password": password}

    def _build(self, context: Path, tag: str, spec: ImageSpec) -> str:
        """Run the engine build; the new image's ID."""
        image_id: str | None = None
        output: list[str] = []
        try:
            with context.open("rb") as handle:
                stream = self.client.api.build(
                    fileobj=handle,
                    custom_context=True,
                    encoding="gzip",
                    dockerfile=DOCKERFILE,
                    tag=tag,
                    pull=False,
                    rm=True,
                    forcerm=True,
                    decode=True,
                )
                for chunk in stream:
                    if "stream" in chunk:
                        output.append(str(chunk["stream"]).rstrip())
                    if "error" in chunk:
                        raise BuildError(
                            f"the Docker engine could not build {spec.ref_name} on {self.base}: "
                            f"{str(chunk['error']).strip()}. Last build output:\n" + _tail(output)
                        )
                    aux = chunk.get("aux")
                    if isinstance(aux, Mapping) and "ID" in aux:
                        image_id = str(aux["ID"])
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise TransientError(
                f"the Docker engine failed while building {spec.ref_name}: {exc}"
            ) from exc
        if image_id is None:
            raise BuildError(
                f"the Docker engine finished building {spec.ref_name} without naming the "
                f"image; build output:\n{_tail(output)}"
            )
        return image_id

    def _push(self, image: Any, spec: ImageSpec) -> str:
        """Push the image to the registry; the manifest digest the registry reports."""
        assert self.registry is not None
        registry = self.registry
        target = f"{registry.host}/{registry.repository(spec.repository)}"
        image.tag(target, spec.tag)
        auth = self._auth(target)
        digest: str | None = None
        pushed = existing = 0
        try:
            stream = self.client.api.push(
                target, tag=spec.tag, stream=True, decode=True, auth_config=auth
            )
            for chunk in stream:
                if "error" in chunk:
                    raise _push_error(str(chunk["error"]), f"{target}:{spec.tag}")
                status = str(chunk.get("status", ""))
                pushed += status == "Pushed"
                existing += status == "Layer already exists"
                aux = chunk.get("aux")
                if isinstance(aux, Mapping) and "Digest" in aux:
                    digest = str(aux["Digest"])
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise TransientError(
                f"the Docker engine failed while pushing {target}:{spec.tag}: {exc}"
            ) from exc
        if digest is None:
            raise BuildError(
                f"the Docker engine pushed {target}:{spec.tag} without reporting its digest"
            )
        log.info("pushed %s:%s: %d layers uploaded, %d already there", target, spec.tag,
                 pushed, existing)  # fmt: skip
        return digest


def render_dockerfile(
    spec: ImageSpec, base: str, base_config: Mapping[str, Any] | None = None
) -> str:
    """The Dockerfile of ``spec`` on ``base``: metadata first, the app's files last.

    Labels name the release, so they change with every version: they come after the
    libraries (which change less often) and right before the app.

    ``WORKDIR``, ``EXPOSE`` and ``CMD`` are left out when ``base_config`` (the base image's
    ``Config``) already says the same: every instruction costs the engine a container, and
    with vfs storage a full copy of the filesystem.
    """
    config = base_config or {}
    lines = [f"# oneclick app image {spec.ref_name}", f"FROM {base}"]
    if spec.env:
        lines.append("ENV " + " ".join(_pairs(spec.env)))
    if config.get("WorkingDir") != "/app":
        lines.append("WORKDIR /app")
    if f"{APP_PORT}/tcp" not in (config.get("ExposedPorts") or {}):
        lines.append(f"EXPOSE {APP_PORT}")
    if list(config.get("Cmd") or []) != list(APP_COMMAND) or config.get("Entrypoint"):
        lines.append(f"CMD {json.dumps(list(APP_COMMAND))}")
    lines.append("COPY libs/ /libs/")
    if spec.labels:
        lines.append("LABEL " + " ".join(_pairs(spec.labels)))
    lines.append("COPY app/ /app/")
    return "\n".join(lines) + "\n"


def context_entries(
    spec: ImageSpec, base: str, base_config: Mapping[str, Any] | None = None
) -> list[LayerEntry]:
    """The build context: the Dockerfile, ``libs/<name>/`` per library, ``app/``."""
    dockerfile = render_dockerfile(spec, base, base_config).encode("utf-8")
    entries = [LayerEntry(path=DOCKERFILE, data=dockerfile), LayerEntry(path="libs", is_dir=True)]
    for name, path in sorted(spec.library_builds):
        entries.extend(collect_tree(path, f"libs/{name}"))
    entries.extend(collect_tree(spec.app_build, "app"))
    return entries


def _pairs(values: Mapping[str, str]) -> Iterable[str]:
    for name, value in sorted(values.items()):
        if any(ord(c) < 32 for c in name + value):
            raise BuildError(
                f"label or variable {name!r} holds a control character (a newline?); "
                "a Dockerfile cannot carry it: use plain one-line text"
            )
        yield f"{_quote(name)}={_quote(value)}"


def _quote(text: str) -> str:
    """``text`` as a double-quoted Dockerfile word, with no variable expansion."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def _push_error(message: str, target: str) -> BuildError:
    if any(word in message.lower() for word in AUTH_WORDS):
        return RegistryAuthError(
            f"the registry refused to take {target}: {message.strip()}; check the username "
            "and password in the registry block"
        )
    return BuildError(f"the Docker engine could not push {target}: {message.strip()}")


def _tail(lines: list[str], count: int = 15) -> str:
    return "\n".join(f"  | {line}" for line in lines[-count:] if line) or "  | (nothing)"
