"""Bake the template across a matrix of answers and inspect what comes out.

Fast checks only (no pipeline run): the exact file set, nothing unrendered, every YAML and
TOML file parses, conf/ and sql/ agree, ruff passes on the generated project, tests included, and the project
stays thin (the machinery is the plugin's).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.baking import REPO_ROOT, bake

import kedro_snowflake_mlops
from kedro_snowflake_mlops.objects.conf_check import check_project
from kedro_snowflake_mlops.objects.report import check_sql
from kedro_snowflake_mlops.tracking.contract import FUNCTION_KEYS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

MATRIX = [
    pytest.param({}, id="aws-defaults"),
    pytest.param({"cloud_provider": "azure"}, id="azure-offline"),
    pytest.param(
        {
            "cloud_provider": "gcp",
            "snowflake_account": "myorg-myaccount",
            "snowflake_user": "JANE_DOE",
        },
        id="gcp-with-account",
    ),
    pytest.param(
        {"snowflake_account": "xy12345.eu-west-1.aws", "snowflake_user": "svc_mlops"},
        id="aws-legacy-locator",
    ),
    pytest.param(
        {
            "project_name": "Odd_name-Project 2",
            "snowflake_database": "_odd$db",
            "snowflake_schema": "S1",
            "snowflake_role": "R$ML",
            "snowflake_warehouse": "W_1",
            "mlflow_experiment_name": "team/exp v2.1",
            "cloud_provider": "azure",
        },
        id="odd-valid-names",
    ),
    pytest.param(
        {"project_name": "Quarterly Revenue Forecasting For The Interplanetary Fleet"},
        id="long-project-name",
    ),
]

EXPECTED_FILES = REPO_ROOT / "tests" / "expected_files.txt"


@pytest.fixture(scope="module", params=MATRIX)
def baked(request, cookies_session):
    return bake(cookies_session, **request.param)


def expected_files(package: str) -> set[str]:
    lines = EXPECTED_FILES.read_text(encoding="utf-8").splitlines()
    return {
        line.replace("{package}", package)
        for line in lines
        if line.strip() and not line.startswith("#")
    }


def test_exact_file_set(baked):
    files = {f for f in baked.files() if "__pycache__" not in f}
    expected = expected_files(baked.package)
    assert files - expected == set(), "unexpected files in the generated project"
    assert expected - files == set(), "files missing from the generated project"


def test_nothing_left_unrendered(baked):
    leftovers = []
    for path in baked.path.rglob("*"):
        if "{{" in path.name or "{%" in path.name:
            leftovers.append(str(path))
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:  # a binary file has nothing to render
                continue
            for marker in ("{{", "{%", "{#"):
                if marker in text:
                    leftovers.append(f"{path}: {marker}")
    assert leftovers == []


def test_exactly_the_files_without_template_syntax_are_copied_unrendered():
    """cookiecutter.json's `_copy_without_render` spares Jinja the files that need no
    rendering (the data, most of the code). A file it would copy that holds template
    syntax, or a plain file left to be rendered for nothing, fails here. Matched the
    way cookiecutter matches: a file, or a folder it copies whole."""
    from cookiecutter.generate import is_copy_only_path  # noqa: PLC0415

    config = json.loads((REPO_ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
    context = {"cookiecutter": config}
    project = REPO_ROOT / "{{ cookiecutter.repo_name }}"
    copied, plain = set(), set()
    for path in project.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(project)
        ancestors = [relative, *list(relative.parents)[:-1]]
        if any(is_copy_only_path(str(p), context) for p in ancestors):
            copied.add(relative.as_posix())
        if not re.search(r"\{[{%#]", path.read_text(encoding="utf-8")):
            plain.add(relative.as_posix())
    assert sorted(copied - plain) == [], "copied, but holds template syntax"
    assert sorted(plain - copied) == [], "rendered, but has nothing to render"


def test_every_yaml_and_toml_file_parses(baked):
    for path in baked.path.rglob("*.y*ml"):
        yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in baked.path.rglob("*.toml"):
        tomllib.loads(path.read_text(encoding="utf-8"))


def test_answers_reach_the_configuration(baked):
    conf = yaml.safe_load((baked.path / "conf/base/snowflake.yml").read_text())
    mlflow = conf["snowflake"]["mlflow"]
    answers = baked.context
    assert mlflow["experiment_name"] == answers["mlflow_experiment_name"]
    prefix = (
        f"{answers['snowflake_database']}.{answers['snowflake_schema']}.mlflow_".lower()
    )
    assert mlflow["functions"] == {key: prefix + key for key in FUNCTION_KEYS}
    session = yaml.safe_load((baked.path / "conf/snowflake/snowflake.yml").read_text())
    session = session["snowflake"]["session"]
    assert session["role"] == answers["snowflake_role"]
    assert session["warehouse"] == answers["snowflake_warehouse"]
    credentials = (baked.path / "conf/snowflake/credentials.yml").read_text()
    for key in ("account", "user"):
        assert (
            f'SNOWFLAKE_{key.upper()},"{answers[f"snowflake_{key}"]}"}}' in credentials
        )
    pyproject = tomllib.loads((baked.path / "pyproject.toml").read_text())
    assert pyproject["tool"]["kedro"]["package_name"] == baked.package
    assert pyproject["tool"]["kedro"]["project_name"] == answers["project_name"]


def test_conf_and_sql_agree_and_both_checks_list_the_same_objects(baked):
    """The post-generation hook runs check_sql (sql/ only, quick); conf/ was rendered
    from the same answers, and here, for every answer set, the whole check holds the two
    together and lists the same objects as check_sql, the list the hook prints."""
    whole = check_project(baked.path)
    assert [str(finding) for finding in whole.findings] == []
    assert whole.inventory_table() == check_sql(baked.path).inventory_table()


def test_the_project_depends_on_the_plugin_version_that_generated_it(baked):
    pyproject = tomllib.loads((baked.path / "pyproject.toml").read_text())
    wanted = f"kedro-snowflake-mlops~={kedro_snowflake_mlops.__version__}"
    assert wanted in pyproject["project"]["dependencies"]


def test_the_project_is_thin(baked):
    """Pipelines, registry and settings: at most 400 non-blank lines of Python in src/;
    no Snowflake or MLflow machinery (that is the plugin's, upgraded with pip)."""
    sources = list((baked.path / "src").rglob("*.py"))
    lines = sum(
        1
        for path in sources
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    assert lines <= 400, lines
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "MlflowClient" not in text and "Session.builder" not in text, path


def test_ruff_passes_on_the_generated_project(baked):
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "."],
            cwd=baked.path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_plain_cookiecutter_cli_bakes_the_template(tmp_path: Path):
    """`cookiecutter <repo>` (no kedro involved) must work too."""
    subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(REPO_ROOT)],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert (tmp_path / "snowflake-mlops-demo" / "conf/base/snowflake.yml").is_file()


def test_plain_cookiecutter_without_the_plugin_says_how_to_install_it(tmp_path: Path):
    """`cookiecutter <repo>` from a Python that has only cookiecutter: the project is
    generated and the hook says how to install the plugin to check it."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "cookiecutter>=2.2"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    result = subprocess.run(
        [str(python), "-m", "cookiecutter", "--no-input", str(REPO_ROOT)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "does not have the kedro-snowflake-mlops plugin" in result.stdout
    assert "pip install kedro-snowflake-mlops" in result.stdout
    project = tmp_path / "snowflake-mlops-demo"
    assert (project / "sql" / "03_api_integration.sql").is_file()  # cloud kept
    assert not list((project / "sql").glob("*.aws.sql"))
