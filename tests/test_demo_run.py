"""The demo project as a user meets it: its own tests, an offline `kedro run`, packaging,
and generation through the installed `snowflake-mlops` alias (editable and wheel)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import venv
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from support.baking import REPO_ROOT, bake, clean_env

pytestmark = pytest.mark.slow

DEMO_ANSWERS = yaml.safe_load((REPO_ROOT / "demo-answers.yml").read_text())


def offline_prefix() -> list[str]:
    """Run in a network namespace without network when the machine allows it (root on
    Linux), so the test proves the run needs no network rather than assuming it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], check=False).returncode == 0:
        return [unshare, "-n"]
    return []


@pytest.fixture(scope="module")
def demo(cookies_session):
    return bake(cookies_session)


def test_generated_project_tests_pass(demo):
    result = demo.run("pytest", "-q", "-p", "no:cacheprovider")
    assert " passed" in result.stdout


def test_offline_kedro_run_trains_and_evaluates(demo):
    result = subprocess.run(
        [*offline_prefix(), sys.executable, "-m", "kedro", "run"],
        cwd=demo.path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Snowpark local testing" in output
    assert "Pipeline execution completed successfully" in output

    metrics = json.loads(
        (demo.path / "data/08_reporting/model_metrics.json").read_text()
    )
    assert set(metrics) == {"r2", "mae", "rmse"}
    # The synthetic data has a strong linear signal: a working pipeline finds it.
    assert metrics["r2"] > 0.8
    quality = json.loads(
        (demo.path / "data/08_reporting/data_quality_metrics.json").read_text()
    )
    assert 0 < quality["model_input_rows"] < quality["raw_shuttle_rows"]
    assert (demo.path / "data/06_models/regressor.pickle").stat().st_size > 0


def test_kedro_package_builds_a_wheel(demo):
    demo.run("kedro", "package", timeout=900)
    wheels = list((demo.path / "dist").glob("*.whl"))
    assert [w.name.split("-")[0] for w in wheels] == [demo.package]


def write_answers(folder: Path, **overrides: str) -> Path:
    answers = {**DEMO_ANSWERS, **overrides, "output_dir": str(folder)}
    path = folder / "answers.yml"
    path.write_text(yaml.safe_dump(answers), encoding="utf-8")
    return path


def test_kedro_new_through_the_installed_alias(tmp_path):
    ours = [
        ep
        for ep in entry_points(group="kedro.starters")
        if ep.dist and ep.dist.name.replace("_", "-") == "kedro-snowflake-mlops"
    ]
    assert ours, "install the plugin first: pip install -e '.[test]'"
    answers = write_answers(tmp_path, project_name="Alias Demo", cloud_provider="gcp")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kedro",
            "new",
            "--starter=snowflake-mlops",
            "--config",
            str(answers),
        ],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    project = tmp_path / "alias-demo"
    assert (project / "src/alias_demo/settings.py").is_file()
    assert (project / "sql").is_dir()

    # Again into the same folder: kedro must say why it stops (click 8.5 would hide
    # its message behind `NoneType: None`; the plugin pins click below it).
    again = subprocess.run(
        [sys.executable, "-m", "kedro", "new", "--starter=snowflake-mlops"]
        + ["--config", str(answers)],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = again.stdout + again.stderr
    assert again.returncode != 0
    assert "NoneType: None" not in output
    assert re.search(r"alias-demo\W+directory already exists", output), output[-3000:]


def test_wheel_install_registers_the_alias(tmp_path, plugin_wheel):
    """A regular (non-editable) install carries the template inside the wheel."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(plugin_wheel)],
        check=True,
        env=clean_env(),
        timeout=900,
    )
    listing = subprocess.run(
        [str(python), "-m", "kedro", "starter", "list"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "snowflake-mlops" in listing
    assert (
        "site-packages" in listing
    )  # the template inside the wheel, not this checkout

    answers = write_answers(tmp_path, project_name="Wheel Demo")
    subprocess.run(
        [
            str(python),
            "-m",
            "kedro",
            "new",
            "--starter=snowflake-mlops",
            "--config",
            str(answers),
        ],
        cwd=tmp_path,
        env=clean_env(),
        check=True,
        capture_output=True,
        timeout=300,
    )
    project = tmp_path / "wheel-demo"
    assert (project / "src/wheel_demo/pipelines/data_science/nodes.py").is_file()
    assert (project / "data/01_raw/shuttles.csv").is_file()
    # The project commands come from the installed plugin too.
    commands = subprocess.run(
        [str(python), "-m", "kedro", "snowflake", "--help"],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "check" in commands and "setup" in commands
