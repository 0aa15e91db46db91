"""Tasks that load, compile, build and store: everything before a stage is touched."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from oneclick.compiler import CompileResult, compile_app, compile_library
from oneclick.home import Home
from oneclick.images import ImageResult, ImageSpec, image_builder
from oneclick.libraries import LibraryBuild, LibraryPublishResult, library_store
from oneclick.model import load_app, load_library
from oneclick.model.types import AppModel, LibraryModel
from oneclick.registry import RegistryConfig
from tasks.retry import RETRY


def release_version(model: AppModel, build: CompileResult) -> str:
    """The model's version plus the build's digest: a new version for every changed build."""
    return f"{model.version}+{build.digest.removeprefix('sha256:')[:12]}"


def image_tag(version: str) -> str:
    """Image tags cannot hold '+': build metadata is joined with '_' instead."""
    return version.replace("+", "_")


@task(name="load app model", cache_policy=NO_CACHE)
def load_app_model(path: str, home: Home) -> AppModel:
    model = load_app(Path(path), library_store(home))
    get_run_logger().info("model %s %s is valid", model.app, model.version)
    return model


@task(name="load library model", cache_policy=NO_CACHE)
def load_library_model(path: str, home: Home) -> LibraryModel:
    model = load_library(Path(path), library_store(home))
    get_run_logger().info("library %s %s is valid", model.library, model.version)
    return model


@task(name="resolve libraries", cache_policy=NO_CACHE)
def resolve_libraries(model: AppModel, home: Home) -> list[LibraryBuild]:
    builds = library_store(home).resolve(model.libraries)
    for build in builds:
        get_run_logger().info("bundling %s %s (%s)", build.name, build.version, build.digest[:19])
    return builds


@task(name="compile app", cache_policy=NO_CACHE)
def compile_app_build(
    model: AppModel, libraries: list[LibraryBuild], scratch: Path
) -> CompileResult:
    """Compile into ``scratch/app``: a directory of this run's own."""
    result = compile_app(model, libraries, scratch / "app")
    get_run_logger().info("compiled %s: %s", model.app, result.digest)
    return result


@task(name="compile library", cache_policy=NO_CACHE)
def compile_library_build(model: LibraryModel, source: str, scratch: Path) -> CompileResult:
    """Compile into ``scratch/library``: a directory of this run's own."""
    source_dir = Path(source)
    source_dir = source_dir if source_dir.is_dir() else source_dir.parent
    result = compile_library(model, source_dir, scratch / "library")
    get_run_logger().info("compiled %s %s: %s", model.library, model.version, result.digest)
    return result


@task(name="store library", cache_policy=NO_CACHE, **RETRY)
def store_library(build: CompileResult, home: Home) -> LibraryPublishResult:
    result = library_store(home).publish(build.path)
    verb = "stored" if result.created else "already stored, unchanged:"
    get_run_logger().info("%s %s %s", verb, result.build.name, result.build.version)
    return result


@task(name="build image", cache_policy=NO_CACHE, **RETRY)
def build_image(
    model: AppModel,
    build: CompileResult,
    libraries: list[LibraryBuild],
    home: Home,
    registry: RegistryConfig | None = None,
) -> ImageResult:
    """Build the release's image: pushed to ``registry``, or into the home's OCI layout."""
    spec = ImageSpec(
        repository=model.app,
        tag=image_tag(release_version(model, build)),
        app_build=build.path,
        library_builds=[(lib.name, lib.path) for lib in libraries],
        labels={
            "org.opencontainers.image.title": model.app,
            "org.opencontainers.image.version": model.version,
            "dev.oneclick.build-digest": build.digest,
        },
    )
    where = f"registry {registry.host} ({registry.builder})" if registry else "the OCI layout"
    get_run_logger().info("building %s:%s into %s", spec.repository, spec.tag, where)
    image = image_builder(registry, home.images).build(spec)
    get_run_logger().info("image %s (%d bytes)", image.reference, image.size)
    return image
