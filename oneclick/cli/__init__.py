"""The ``oneclick`` command: the front door. Starts flows in process against a Prefect server."""
