"""OCI registries: where images are pushed, and the distribution API client that pushes them.

``RegistryConfig`` is the plain value the flows make from the registry block;
``RegistryClient`` speaks the OCI distribution API (blobs, mounts, manifests, auth, retries);
``parse_image_reference`` splits ``host/repository:tag@digest``.

The names are loaded on first use: a stage's configuration does not import the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oneclick.lazy import lazy_exports

if TYPE_CHECKING:
    from oneclick.registry.client import Manifest as Manifest
    from oneclick.registry.client import RegistryClient as RegistryClient
    from oneclick.registry.client import Retry as Retry
    from oneclick.registry.config import BASE_REPOSITORY as BASE_REPOSITORY
    from oneclick.registry.config import RegistryConfig as RegistryConfig
    from oneclick.registry.config import base_tag as base_tag
    from oneclick.registry.errors import RegistryAuthError as RegistryAuthError
    from oneclick.registry.errors import RegistryError as RegistryError
    from oneclick.registry.reference import ImageReference as ImageReference
    from oneclick.registry.reference import parse_image_reference as parse_image_reference

_WHERE = {
    "BASE_REPOSITORY": "config",
    "ImageReference": "reference",
    "Manifest": "client",
    "RegistryAuthError": "errors",
    "RegistryClient": "client",
    "RegistryConfig": "config",
    "RegistryError": "errors",
    "Retry": "client",
    "base_tag": "config",
    "parse_image_reference": "reference",
}

__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
