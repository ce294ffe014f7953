"""hooks/post_gen_project.py: cloud variants, then the installed plugin's checks of the
new project's sql/, its inventory and next steps, and the opt-in online check that only
reports. (Without the plugin: tests/test_bake.py, plain cookiecutter.)"""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.hook_rendering import REPO, render_hook

from kedro_snowflake_mlops import generation
from kedro_snowflake_mlops.objects.conf_check import check_project
from kedro_snowflake_mlops.tracking.contract import FUNCTION_KEYS

SECRETS = "SNOWFLAKE_PASSWORD=... (or SNOWFLAKE_TOKEN, or SNOWFLAKE_PRIVATE_KEY_FILE)"


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
def test_online_check_is_opt_in(answer, environ, wanted):
    assert generation.wants_online_check({"online_check": answer}, environ) is wanted


def test_bake_prints_inventory_and_next_steps(cookies, capfd):
    result = cookies.bake(template=str(REPO), extra_context={"cloud_provider": "gcp"})
    assert result.exception is None, result.exception
    out = capfd.readouterr().out
    assert "Snowflake objects this project expects" in out
    for function in FUNCTION_KEYS:
        assert f"DEMO.DEMO.MLFLOW_{function.upper()} " in out
    assert "external stage" in out and "DEMO.DEMO.MLFLOW_STAGE" in out
    assert "Next steps:" in out and "kedro snowflake check --online" in out
    assert "<MLFLOW_GATEWAY_URL>" in out  # a placeholder left to fill in
    assert f"export SNOWFLAKE_ACCOUNT=... SNOWFLAKE_USER=... {SECRETS}" in out
    assert not list((result.project_path / "sql").glob("*.aws.sql"))


def test_next_steps_always_name_one_secret_to_export(cookies, capfd):
    """Account and user answered: only the secret is left to export."""
    answers = {"snowflake_account": "myorg-acct", "snowflake_user": "JANE"}
    result = cookies.bake(template=str(REPO), extra_context=answers)
    assert result.exception is None, result.exception
    out = capfd.readouterr().out
    assert f"  export {SECRETS}\n" in out


def test_inconsistent_scripts_fail_generation_with_the_findings(project_copy, capsys):
    """The scripts contradict each other: an external function names an API integration
    that no script creates."""
    script = project_copy / "sql" / "05_external_functions.sql"
    text = script.read_text(encoding="utf-8")
    assert "_MLFLOW_API_INTEGRATION\n" in text
    script.write_text(
        text.replace("_MLFLOW_API_INTEGRATION\n", "_MLFLOW_API_INTEGRATION_OLD\n", 1),
        encoding="utf-8",
    )
    assert generation.after_generation(project_copy, {}) == 1
    err = capsys.readouterr().err
    assert "inconsistent" in err
    assert "sql/05_external_functions.sql" in err
    assert (
        "DEMO_DEMO_MLFLOW_API_INTEGRATION_OLD, but no script in sql/ creates it" in err
    )


def test_generation_reads_sql_only_and_leaves_conf_to_the_check(project_copy):
    """The hook reads sql/ without Kedro's config loader, the project's settings.py or
    pydantic: what keeps `kedro new` quick. A conf/ that disagrees with sql/ is what
    `kedro snowflake check` reports (tests/plugin/test_validation.py). Run in a fresh
    Python, as cookiecutter runs the hook, to see what it imports."""
    conf = project_copy / "conf" / "base" / "snowflake.yml"
    conf.write_text(
        conf.read_text(encoding="utf-8").replace(
            "mlflow_run_log_metric\n", "mlflow_run_log_metrics\n"
        ),
        encoding="utf-8",
    )
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kedro_snowflake_mlops.generation import after_generation\n"
        "code = after_generation(Path.cwd(), {})\n"
        "heavy = ['kedro', 'omegaconf', 'pydantic', 'click', 'snowflake.snowpark', 'mlflow']\n"
        "print('IMPORTED', sorted(m for m in heavy if m in sys.modules))\n"
        "raise SystemExit(code)\n"
    )
    caches_before = set(project_copy.rglob("*.pyc"))
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=project_copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "IMPORTED []" in result.stdout
    assert "DEMO.DEMO.MLFLOW_RUN_LOG_METRIC " in result.stdout
    # The copy may hold caches of tests that imported the demo's code: none new.
    assert set(project_copy.rglob("*.pyc")) == caches_before
    findings = [str(finding) for finding in check_project(project_copy).findings]
    assert any("DEMO.DEMO.MLFLOW_RUN_LOG_METRICS" in line for line in findings)


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
