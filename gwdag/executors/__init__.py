"""Executors: where a DAG runs (the embedded local executor; an HTCondor pool)."""
