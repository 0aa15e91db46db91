"""The rollout engine: a release onto a stage, one rollout per (app, stage) at a time, with
the previous release serving and ready whatever happens (``oneclick.rollout.engine``)."""

from __future__ import annotations

from oneclick.rollout.engine import Rollout, config_digest, phase_of
from oneclick.rollout.lease import RolloutBusyError, abandon_run, hold_lease, this_process
from oneclick.rollout.result import RolloutResult
from oneclick.rollout.steps import DirectSteps, Pending, RolloutSteps, deploy_request

__all__ = [
    "DirectSteps",
    "Pending",
    "Rollout",
    "RolloutBusyError",
    "RolloutResult",
    "RolloutSteps",
    "abandon_run",
    "config_digest",
    "deploy_request",
    "hold_lease",
    "phase_of",
    "this_process",
]
