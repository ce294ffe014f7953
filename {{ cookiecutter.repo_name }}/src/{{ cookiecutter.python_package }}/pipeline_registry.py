"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# What a bare `kedro run` runs: from the raw files to a model judged by the quality gate.
TRAINING = ("data_processing", "data_science")


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines. The default one trains; scoring runs on its
    own (`kedro run --pipeline scoring`), once training has made a champion."""
    pipelines = find_pipelines(raise_errors=True)
    # With --pipeline, Kedro finds only the pipelines asked for.
    training = [pipelines[name] for name in TRAINING if name in pipelines]
    pipelines["__default__"] = sum(training, Pipeline([]))
    return pipelines
