"""The Prefect flows: each a DAG of tasks over the engine. Blocks become plain values here."""
