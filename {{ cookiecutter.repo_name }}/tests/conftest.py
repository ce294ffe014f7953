"""Shared fixtures: an offline Snowpark session like the one `kedro run` uses."""

from __future__ import annotations

import os

import pytest
from kedro_snowflake_mlops.session.create import local_testing_session

# Tests never send telemetry (kedro, MLflow) anywhere.
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def snowpark_session():
    """Snowpark local testing, with the patches an offline run gets."""
    session = local_testing_session(database="TEST_DB", schema="TEST_SCHEMA")
    yield session
    session.close()
