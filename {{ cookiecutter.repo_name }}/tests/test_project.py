"""The project as Kedro sees it: settings, pipelines and catalog fit together."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kedro.framework.project import pipelines, settings
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from {{ cookiecutter.python_package }}.snowflake.hooks import (
    SnowparkSessionHook,
)

PROJECT_PATH = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def close_snowpark_session():
    """load_context() opens the Snowpark session (SnowparkSessionHook); without a run
    nothing closes it before the interpreter exits, so close it after each test."""
    yield
    for hook in settings.HOOKS:
        if isinstance(hook, SnowparkSessionHook):
            hook.close()


def test_every_pipeline_input_is_in_the_catalog():
    bootstrap_project(PROJECT_PATH)
    with KedroSession.create(project_path=PROJECT_PATH) as session:
        context = session.load_context()
        catalog = context.catalog
        default = pipelines["__default__"]
        free_inputs = default.inputs() - {"parameters"}
        missing = {
            name
            for name in free_inputs
            if not name.startswith("params:") and name not in catalog
        }
        assert not missing, f"pipeline inputs not in the catalog: {sorted(missing)}"
        assert {"data_processing", "data_science"} <= set(pipelines)


def test_offline_default_is_local_testing():
    bootstrap_project(PROJECT_PATH)
    with KedroSession.create(project_path=PROJECT_PATH) as session:
        block = session.load_context().config_loader["snowflake"]["snowflake"]
        assert block["session"]["mode"] == "local_testing"


def test_invalid_session_conf_fails_without_printing_the_secret():
    """`kedro run --env snowflake` with SNOWFLAKE_USER empty: one clear message naming
    the variable, and the private key's passphrase never in the output."""
    fake_credential = "pass-SECRET-9c2e"  # recognisable, never a real one
    env = {
        **os.environ,
        "SNOWFLAKE_ACCOUNT": "myorg-acct",
        "SNOWFLAKE_USER": "",
        "SNOWFLAKE_PRIVATE_KEY_FILE": "/keys/rsa_key.p8",
        "SNOWFLAKE_PRIVATE_KEY_FILE_PWD": fake_credential,
    }
    for name in ("SNOWFLAKE_PASSWORD", "SNOWFLAKE_TOKEN"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "snowflake"],
        cwd=PROJECT_PATH,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "snowflake.session.user" in output and "SNOWFLAKE_USER" in output
    assert fake_credential not in output
