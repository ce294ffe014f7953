"""Shared fixtures: an offline Snowpark session like the one `kedro run` uses."""

from __future__ import annotations

import os

import pytest

from {{ cookiecutter.python_package }}.snowflake.session import (
    SessionConfig,
    create_session,
)

# Tests never send telemetry (kedro, MLflow) anywhere.
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def snowpark_session():
    """Snowpark local testing, with the project's patches, as in an offline run."""
    config = SessionConfig(
        mode="local_testing", database="TEST_DB", schema="TEST_SCHEMA"
    )
    session = create_session(config)
    yield session
    session.close()
