"""hooks/post_gen_project.py: cloud variants, the offline check through the generated
project's own validation module, the inventory and next steps, and the opt-in online
check that only reports."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from support.hook_rendering import REPO, render_hook

FUNCTIONS = (
    "experiment_get_by_name",
    "run_create",
    "run_update",
    "run_log_metric",
    "run_log_parameter",
)


@pytest.fixture(scope="module")
def baked(cookies_session):
    """One default project, shared: the tests below only read it or copy it."""
    result = cookies_session.bake(template=str(REPO))
    assert result.exception is None, result.exception
    return result.project_path


@pytest.fixture(scope="module")
def hook(tmp_path_factory):
    return render_hook("post_gen_project", tmp_path_factory.mktemp("hooks"))


def test_only_the_chosen_clouds_sql_is_kept(tmp_path, hook):
    sql = tmp_path / "sql"
    sql.mkdir()
    for name in ("01_a.aws.sql", "01_a.azure.sql", "01_a.gcp.sql", "02_b.sql"):
        (sql / name).write_text(f"-- {name}\n", encoding="utf-8")
    hook.keep_cloud_variants(tmp_path, "azure")
    assert sorted(p.name for p in sql.iterdir()) == ["01_a.sql", "02_b.sql"]
    assert (sql / "01_a.sql").read_text(encoding="utf-8") == "-- 01_a.azure.sql\n"


@pytest.mark.parametrize(
    ("answer", "environ", "wanted"),
    [
        ("no", {}, False),
        ("yes", {}, True),
        ("YES", {}, True),
        (True, {}, True),
        (False, {}, False),
        ("no", {"SNOWFLAKE_MLOPS_ONLINE_CHECK": "1"}, True),
        ("no", {"SNOWFLAKE_MLOPS_ONLINE_CHECK": "0"}, False),
    ],
)
def test_online_check_is_opt_in(hook, answer, environ, wanted):
    assert hook.wants_online_check({"online_check": answer}, environ) is wanted


def test_bake_prints_inventory_and_next_steps(cookies, capfd):
    result = cookies.bake(template=str(REPO), extra_context={"cloud_provider": "gcp"})
    assert result.exception is None, result.exception
    out = capfd.readouterr().out
    assert "Snowflake objects this project expects" in out
    for function in FUNCTIONS:
        assert f"DEMO.DEMO.MLFLOW_{function.upper()} " in out
    assert "external stage" in out and "DEMO.DEMO.MLFLOW_STAGE" in out
    assert "Next steps:" in out and "kedro snowflake check --online" in out
    assert "<MLFLOW_GATEWAY_URL>" in out  # a placeholder left to fill in
    assert not list((result.project_path / "sql").glob("*.aws.sql"))


@pytest.fixture
def isolated_imports(monkeypatch):
    """The hook imports the baked package in this process: forget it afterwards, since
    other tests import their own bake's package under the same name."""
    monkeypatch.setattr(sys, "dont_write_bytecode", sys.dont_write_bytecode)
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("snowflake_mlops_demo"):
            del sys.modules[name]


@pytest.mark.usefixtures("isolated_imports")
def test_the_hook_reuses_the_generated_validation_module(baked, hook):
    validation = hook.load_validation(baked, "snowflake_mlops_demo")
    assert Path(validation.__file__).is_relative_to(baked / "src")
    assert validation.check_project(baked).ok


@pytest.mark.usefixtures("isolated_imports")
def test_an_inconsistent_project_fails_with_the_findings(
    baked, hook, tmp_path, capsys, monkeypatch
):
    project = tmp_path / "snowflake-mlops-demo"
    shutil.copytree(baked, project)
    conf = project / "conf" / "base" / "snowflake.yml"
    conf.write_text(
        conf.read_text(encoding="utf-8").replace(
            "mlflow_run_log_metric\n", "mlflow_run_log_metrics\n"
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(project)
    assert hook.main() == 1
    err = capsys.readouterr().err
    assert "inconsistent" in err
    assert "snowflake.mlflow.functions.run_log_metric" in err
    assert "DEMO.DEMO.MLFLOW_RUN_LOG_METRICS" in err


def test_missing_objects_do_not_fail_the_opted_in_online_check(
    cookies, capfd, monkeypatch
):
    """Opted in, but no Snowflake account here: the check runs, reports, and the
    project is still generated."""
    for name in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    result = cookies.bake(template=str(REPO), extra_context={"online_check": "yes"})
    assert result.exception is None, result.exception
    out = capfd.readouterr().out
    assert "Online check (you opted in; this only reports)" in out
    assert "SNOWFLAKE_ACCOUNT" in out  # says which variable is missing
    assert (result.project_path / "pyproject.toml").is_file()


def test_online_check_without_the_projects_dependencies_says_how_to_run_it(
    hook, tmp_path, capsys, monkeypatch
):
    """The starter's Python often lacks Snowpark and pydantic: the hook must say what
    to do instead of running a command that fails on import. Everything is installed
    here, so a module that does not exist stands in for the missing dependency."""
    assert hook.missing_modules(("pydantic", "no_such_package_3f1.sub")) == [
        "no_such_package_3f1.sub"
    ]
    monkeypatch.setattr(
        hook, "ONLINE_CHECK_MODULES", ("pydantic", "no_such_package_3f1.snowpark")
    )
    monkeypatch.setattr(
        hook.subprocess, "run", lambda *a, **k: pytest.fail("must not run the check")
    )
    hook.run_online_check(tmp_path)
    out = capsys.readouterr().out
    assert "no_such_package_3f1.snowpark" in out
    assert "pip install -e ." in out and "kedro snowflake check --online" in out
