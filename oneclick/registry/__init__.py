"""OCI registries: where images are pushed, and the distribution API client that pushes them.

``RegistryConfig`` is the plain value the flows make from the registry block;
``RegistryClient`` speaks the OCI distribution API (blobs, mounts, manifests, auth, retries);
``parse_image_reference`` splits ``host/repository:tag@digest``.
"""

from __future__ import annotations

from oneclick.registry.client import Manifest, RegistryClient, Retry
from oneclick.registry.config import BASE_REPOSITORY, RegistryConfig, base_tag
from oneclick.registry.errors import RegistryAuthError, RegistryError
from oneclick.registry.reference import ImageReference, parse_image_reference

__all__ = [
    "BASE_REPOSITORY",
    "ImageReference",
    "Manifest",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryConfig",
    "RegistryError",
    "Retry",
    "base_tag",
    "parse_image_reference",
]
