"""Fixtures shared by the plugin's and the template's tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter
from support.baking import REPO_ROOT, clean_env
from support.mlflow_server import start_mlflow_server, stop_mlflow_server

from kedro_snowflake_mlops.session.create import local_testing_session

# Generated projects and kedro itself must never phone home from a test run.
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session", autouse=True)
def template_extensions_importable():
    """pytest-cookies (0.7.0) renders the answers itself before calling cookiecutter, and
    outside the sys.path entry cookiecutter adds for a template's own Jinja extensions
    (snowflake_mlops_jinja.py at the template's root): without this, a test file run on
    its own cannot bake, while the whole suite could, by luck of an earlier bake having
    imported the module. `kedro new` and `cookiecutter` do not need it."""
    sys.path.append(str(REPO_ROOT))
    yield
    sys.path.remove(str(REPO_ROOT))


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` on 127.0.0.1 (sqlite store), shared by the whole session."""
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    yield server
    stop_mlflow_server(server)


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory) -> Path:
    """The demo generated once with the default answers, through cookiecutter's own API
    (hooks included): tests read it, or change a copy of it (`project_copy`)."""
    output = tmp_path_factory.mktemp("demo")
    return Path(cookiecutter(str(REPO_ROOT), no_input=True, output_dir=str(output)))


@pytest.fixture
def project_copy(demo_project: Path, tmp_path: Path) -> Path:
    """A copy of the demo project that a test may break on purpose."""
    copy = tmp_path / demo_project.name
    shutil.copytree(demo_project, copy)
    return copy


@pytest.fixture(scope="session")
def traced_demo(demo_project: Path, tmp_path_factory) -> Path:
    """A copy of the demo whose procedure imports are traced for __default__ (deploy's
    first dry run plays the graph offline and records dist/snowflake-imports-*.json),
    so that tests which deploy do not each trace again: copies keep the trace valid,
    as its key is the content of the code and conf, not their place."""
    from types import SimpleNamespace  # noqa: PLC0415

    from click.testing import CliRunner  # noqa: PLC0415

    from kedro_snowflake_mlops.cli.deploy import deploy  # noqa: PLC0415

    copy = tmp_path_factory.mktemp("traced") / demo_project.name
    shutil.copytree(demo_project, copy)
    result = CliRunner().invoke(
        deploy, ["--dry-run"], obj=SimpleNamespace(project_path=copy)
    )
    assert result.exit_code == 0, result.output
    assert list((copy / "dist").glob("snowflake-imports-*.json")), result.output
    return copy


@pytest.fixture(scope="session")
def snowpark_session():
    """Snowpark local testing, with the patches an offline run gets."""
    session = local_testing_session(database="TEST_DB", schema="TEST_SCHEMA")
    yield session
    session.close()


@pytest.fixture(scope="session")
def plugin_wheel(tmp_path_factory):
    """The plugin (with the template) built as a wheel from this checkout, once per test session."""
    wheels = tmp_path_factory.mktemp("plugin-wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels)]
        + [str(REPO_ROOT)],
        check=True,
        env=clean_env(),
        timeout=600,
    )
    (wheel,) = wheels.glob("kedro_snowflake_mlops-*.whl")
    return wheel
