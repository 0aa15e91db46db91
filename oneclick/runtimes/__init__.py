"""Stage runtimes: where a stage runs its apps.

``Runtime`` is the interface (deploy, status, instances, stop, stop_all, undeploy);
``LocalRuntime`` runs each app as a local uvicorn process, the embedded default.

The names are loaded on first use: asking a stage what runs (``oneclick status``) does not
import what deploying needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oneclick.lazy import lazy_exports

if TYPE_CHECKING:
    from oneclick.runtimes.local import LocalRuntime as LocalRuntime
    from oneclick.runtimes.types import AbortCheck as AbortCheck
    from oneclick.runtimes.types import DeployRequest as DeployRequest
    from oneclick.runtimes.types import DeployResult as DeployResult
    from oneclick.runtimes.types import InstanceStatus as InstanceStatus
    from oneclick.runtimes.types import ProgressCallback as ProgressCallback
    from oneclick.runtimes.types import Runtime as Runtime

_WHERE = {
    "AbortCheck": "types",
    "DeployRequest": "types",
    "DeployResult": "types",
    "InstanceStatus": "types",
    "LocalRuntime": "local",
    "ProgressCallback": "types",
    "Runtime": "types",
}

__all__ = sorted(_WHERE)
__getattr__ = lazy_exports(__name__, _WHERE)
