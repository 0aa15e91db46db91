"""Thin Prefect task wrappers around the engine: retries for transient faults, logging,
artifacts. Each task body can be called without a server as ``some_task.fn(...)``."""
