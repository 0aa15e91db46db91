"""Prefect block types of oneclick. Blocks hold configuration and do no work."""

from __future__ import annotations

from blocks.git_source import GitSource
from blocks.registry import Registry
from blocks.stage import Stage
from blocks.workspace import Workspace

__all__ = ["GitSource", "Registry", "Stage", "Workspace"]
