"""A corpus of hostile and edge answers: each is refused with its field named and nothing
left on disk, or accepted when it is valid.

Most cases bake in-process with pytest-cookies (`cookies.bake(extra_context=...)`); a
representative subset goes through `kedro new --starter=<repo> --config answers.yml`.

How template syntax in answers is defended (investigated in cookiecutter 2.7.1 and
kedro 1.7.0):
- cookiecutter renders every answer as a Jinja template before any hook runs, so
  `{{ 7*7 }}` reaches the hook as `49`. Its `_cookiecutter` context keeps the answers as
  given, so pre_gen_project.py compares and refuses any answer that held template syntax
  (except the template's own defaults for repo_name/python_package).
- `kedro new` applies prompts.yml's regexes only to interactive prompts; with `--config`
  it checks nothing but project_name (its own `^[\\w -]{2,}$`). So every key of a config
  file reaches cookiecutter unchecked, and the hook is the real gate.
- A `pre_prompt` hook (supported by cookiecutter 2.7) runs before the answers are read
  and never sees them, so it cannot help here.
- What the hook cannot undo: the evaluation itself happens inside cookiecutter before
  the hook runs. A config file is trusted like the template it drives; the hook makes
  sure that no evaluated template ever becomes part of a project.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from support.baking import clean_env
from support.hook_rendering import REPO

TEN_KB = "A" * 10_240
GUID = "8f1b2c3d-1234-4abc-9def-0123456789ab"

# (id, answers, the field the refusal must name) -- one case per line, on purpose.
# fmt: off
REFUSED = [
    ("sql-injection-database", {"snowflake_database": "DEMO; DROP DATABASE PROD"}, "snowflake_database"),
    ("double-quote-schema", {"snowflake_schema": 'DEMO"'}, "snowflake_schema"),
    ("grant-in-role", {"snowflake_role": "'; GRANT ALL ON ACCOUNT TO ROLE PUBLIC; --"}, "snowflake_role"),
    ("sql-comment-warehouse", {"snowflake_warehouse": "WH -- comment"}, "snowflake_warehouse"),
    ("leading-digit-database", {"snowflake_database": "1DEMO"}, "snowflake_database"),
    ("integer-database", {"snowflake_database": 123}, "snowflake_database"),
    ("reserved-schema", {"snowflake_schema": "SELECT"}, "snowflake_schema"),
    ("reserved-lowercase-role", {"snowflake_role": "group"}, "snowflake_role"),
    ("reserved-stage", {"mlflow_stage_name": "TABLE"}, "mlflow_stage_name"),
    ("system-role", {"snowflake_role": "ACCOUNTADMIN"}, "snowflake_role"),
    ("system-database", {"snowflake_database": "snowflake"}, "snowflake_database"),
    ("empty-database", {"snowflake_database": ""}, "snowflake_database"),
    ("ten-kb-database", {"snowflake_database": TEN_KB}, "snowflake_database"),
    ("newline-schema", {"snowflake_schema": "DEMO\nDROP"}, "snowflake_schema"),
    ("nul-schema", {"snowflake_schema": "DE\x00MO"}, "snowflake_schema"),
    ("tab-warehouse", {"snowflake_warehouse": "WH\t1"}, "snowflake_warehouse"),
    ("cyrillic-role", {"snowflake_role": "\u041cLOPS_ROLE"}, "snowflake_role"),
    ("fullwidth-warehouse", {"snowflake_warehouse": "\uff37\uff28"}, "snowflake_warehouse"),
    ("zero-width-database", {"snowflake_database": "DE\u200bMO"}, "snowflake_database"),
    ("rtl-override-schema", {"snowflake_schema": "DEMO\u202e"}, "snowflake_schema"),
    ("jinja-expression-database", {"snowflake_database": "{{ 7*7 }}"}, "snowflake_database"),
    ("jinja-statement-schema", {"snowflake_schema": "{% if true %}X{% endif %}"}, "snowflake_schema"),
    ("jinja-object-experiment", {"mlflow_experiment_name": "{{ cookiecutter.__class__ }}"}, "mlflow_experiment_name"),
    ("jinja-comment-experiment", {"mlflow_experiment_name": "a{# hidden #}"}, "mlflow_experiment_name"),
    ("yaml-injection-experiment", {"mlflow_experiment_name": 'demo"\nsnowflake: {}'}, "mlflow_experiment_name"),
    ("omegaconf-interpolation-experiment", {"mlflow_experiment_name": "${oc.env:AWS_SECRET_ACCESS_KEY}"}, "mlflow_experiment_name"),
    ("empty-experiment", {"mlflow_experiment_name": ""}, "mlflow_experiment_name"),
    ("ten-kb-experiment", {"mlflow_experiment_name": TEN_KB}, "mlflow_experiment_name"),
    ("ansi-escape-experiment", {"mlflow_experiment_name": "demo\x1b[31mred"}, "mlflow_experiment_name"),
    ("single-quote-experiment", {"mlflow_experiment_name": "it's"}, "mlflow_experiment_name"),
    ("account-as-url", {"snowflake_account": "https://myorg-acct.snowflakecomputing.com"}, "snowflake_account"),
    ("account-with-host", {"snowflake_account": "myorg-acct.snowflakecomputing.com"}, "snowflake_account"),
    ("account-with-space", {"snowflake_account": "my org"}, "snowflake_account"),
    ("account-with-sql", {"snowflake_account": "xy12345.eu-west-1.aws; DROP"}, "snowflake_account"),
    ("account-null", {"snowflake_account": None}, "snowflake_account"),
    ("user-with-quote", {"snowflake_user": 'JANE"; DROP USER X'}, "snowflake_user"),
    ("user-with-space", {"snowflake_user": "jane doe"}, "snowflake_user"),
    ("project-path-traversal", {"project_name": "../../etc"}, "project_name"),
    ("project-nested-path", {"project_name": "Ab/cd"}, "project_name"),
    ("project-leading-digit", {"project_name": "1st Project"}, "project_name"),
    ("project-accents", {"project_name": "D\u00e9mo Projet"}, "project_name"),
    ("project-shadows-snowflake", {"project_name": "Snowflake"}, "python_package"),
    ("project-python-keyword", {"project_name": "Import"}, "python_package"),
    ("project-stdlib-module", {"project_name": "Json"}, "python_package"),
    ("repo-name-outside-output", {"repo_name": "../outside"}, "repo_name"),
    ("package-with-hyphen", {"python_package": "my-pkg"}, "python_package"),
    ("cloud-upper-case", {"cloud_provider": "AWS"}, "cloud_provider"),
    ("cloud-unknown", {"cloud_provider": "oracle"}, "cloud_provider"),
    ("cloud-with-shell", {"cloud_provider": "aws; rm -rf /"}, "cloud_provider"),
    ("gateway-plain-http", {"mlflow_gateway_url": "http://abc.execute-api.eu-west-1.amazonaws.com/prod"}, "mlflow_gateway_url"),
    ("gateway-with-quote", {"mlflow_gateway_url": "https://abc.execute-api.eu-west-1.amazonaws.com/p'; DROP"}, "mlflow_gateway_url"),
    ("gateway-foreign-host", {"mlflow_gateway_url": "https://evil.example.com/prod"}, "mlflow_gateway_url"),
    ("gateway-wrong-cloud", {"cloud_provider": "azure", "mlflow_gateway_url": "https://abc.execute-api.eu-west-1.amazonaws.com/p"}, "mlflow_gateway_url"),
    ("gateway-user-info", {"mlflow_gateway_url": "https://u:pw@abc.execute-api.eu-west-1.amazonaws.com/"}, "mlflow_gateway_url"),
    ("store-wrong-scheme", {"mlflow_artifact_store_url": "gcs://bucket/mlflow/"}, "mlflow_artifact_store_url"),
    ("store-no-trailing-slash", {"mlflow_artifact_store_url": "s3://bucket/mlflow"}, "mlflow_artifact_store_url"),
    ("store-with-space", {"mlflow_artifact_store_url": "s3://bucket/ml flow/"}, "mlflow_artifact_store_url"),
    ("role-arn-short-account", {"aws_api_role_arn": "arn:aws:iam::123:role/x"}, "aws_api_role_arn"),
    ("role-arn-garbage", {"aws_storage_role_arn": "not-an-arn"}, "aws_storage_role_arn"),
    ("tenant-not-guid", {"cloud_provider": "azure", "azure_tenant_id": "1234", "azure_ad_application_id": GUID}, "azure_tenant_id"),
    ("tenant-on-aws", {"azure_tenant_id": GUID}, "azure_tenant_id"),
    ("tenant-without-application", {"cloud_provider": "azure", "azure_tenant_id": GUID}, "azure_ad_application_id"),
    ("audience-as-url", {"cloud_provider": "gcp", "gcp_audience": "https://x"}, "gcp_audience"),
    ("kedro-version-injection", {"kedro_version": '1.7.0"\nevil = "x'}, "kedro_version"),
    ("kedro-version-zero", {"kedro_version": "0.19.9"}, "kedro_version"),
    ("online-check-maybe", {"online_check": "maybe"}, "online_check"),
    ("stage-with-hyphen", {"mlflow_stage_name": "MLFLOW-STAGE"}, "mlflow_stage_name"),
    ("stage-with-at", {"data_stage_name": "@STAGE"}, "data_stage_name"),
    ("same-stage-twice", {"data_stage_name": "MLFLOW_STAGE"}, "data_stage_name"),
    ("overridden-function-prefix", {"__fn_prefix": "x; drop.a.b_"}, "__fn_prefix"),
    ("overridden-integration", {"__api_integration": "A B"}, "__api_integration"),
    ("database-too-long-for-integration", {"snowflake_database": "D" * 250}, "__api_integration"),
]

ACCEPTED = [
    ("defaults", {}),
    ("edge-identifiers", {"snowflake_database": "_X$1", "snowflake_schema": "a", "snowflake_role": "r_$"}),
    ("max-length-warehouse", {"snowflake_warehouse": "W" * 255}),
    ("locator-and-email-user", {"snowflake_account": "xy12345.eu-west-1.aws", "snowflake_user": "jane.doe@example.com"}),
    ("azure-complete", {"cloud_provider": "azure", "mlflow_gateway_url": "https://my-apim.azure-api.net/mlflow", "mlflow_artifact_store_url": "azure://acct.blob.core.windows.net/box/mlflow/", "azure_tenant_id": GUID, "azure_ad_application_id": GUID}),
    ("gcp-complete", {"cloud_provider": "gcp", "mlflow_gateway_url": "https://gw-1a2b.ew.gateway.dev/mlflow", "mlflow_artifact_store_url": "gcs://bucket/mlflow/", "gcp_audience": "my-api.apigateway.proj.cloud.goog"}),
    ("project-name-underscore-digit", {"project_name": "My_Project 2"}),
    # A list becomes a choice variable: cookiecutter picks its first item ("WH").
    ("list-becomes-first-choice", {"snowflake_warehouse": ["WH", TEN_KB]}),
]
# fmt: on


def leftovers(output_dir: Path) -> list[str]:
    """What a failed bake left in its output folder (waiting briefly: the hook removes
    folders above a nested project from a detached process)."""
    deadline = time.monotonic() + 10
    while True:
        found = sorted(p.name for p in output_dir.iterdir())
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("answers", "field"),
    [pytest.param(answers, field, id=case) for case, answers, field in REFUSED],
)
def test_hostile_answer_is_refused_by_field_and_leaves_nothing(
    cookies, capfd, tmp_path, answers, field
):
    result = cookies.bake(template=str(REPO), extra_context=answers)
    assert result.exit_code != 0
    assert result.project_path is None
    err = capfd.readouterr().err
    problem_lines = [line.strip() for line in err.splitlines() if " Fix: " in line]
    assert any(line.startswith(f"{field} = ") for line in problem_lines), err
    # Values are shown escaped and shortened: no raw control characters, no 10 kB line.
    assert all(line.isprintable() and len(line) < 600 for line in problem_lines)
    bake_dir = tmp_path / "cookies"  # where the cookies fixture bakes
    for output_dir in bake_dir.iterdir():
        assert leftovers(output_dir) == [], f"{output_dir} not cleaned up"
    assert not (bake_dir / "outside").exists()


@pytest.mark.parametrize(
    "answers", [pytest.param(answers, id=case) for case, answers in ACCEPTED]
)
def test_valid_edge_answer_is_accepted(cookies, answers):
    result = cookies.bake(template=str(REPO), extra_context=answers)
    assert result.exception is None, result.exception
    assert (result.project_path / "conf" / "base" / "snowflake.yml").is_file()


def test_empty_project_name_is_stopped_before_the_hook(cookies, tmp_path):
    """An empty project_name gives an empty folder name: cookiecutter refuses it itself
    (the output folder "already exists") before any hook runs, and writes nothing.
    `kedro new` refuses it earlier with its own project-name rule."""
    result = cookies.bake(template=str(REPO), extra_context={"project_name": ""})
    assert type(result.exception).__name__ == "OutputDirExistsException"
    bake_dir = tmp_path / "cookies"  # where the cookies fixture bakes
    assert all(leftovers(output_dir) == [] for output_dir in bake_dir.iterdir())


def test_corpus_is_large_enough():
    assert len(REFUSED) + len(ACCEPTED) >= 50


# A representative subset through the real `kedro new --config` (about 1.5 s each).
KEDRO_CASES = [
    ("sql-injection-database", "snowflake_database"),
    ("jinja-expression-database", "snowflake_database"),
    ("cyrillic-role", "snowflake_role"),
    ("ten-kb-experiment", "mlflow_experiment_name"),
    ("gateway-with-quote", "mlflow_gateway_url"),
    ("account-null", "snowflake_account"),
    ("project-accents", "project_name"),
]
PROMPTED_DEFAULTS = {
    "project_name": "Hostile Check",
    "snowflake_account": "",
    "snowflake_user": "",
    "snowflake_role": "MLOPS_DEMO_ROLE",
    "snowflake_warehouse": "MLOPS_DEMO_WH",
    "snowflake_database": "DEMO",
    "snowflake_schema": "DEMO",
    "mlflow_experiment_name": "demo-mlops",
    "cloud_provider": "aws",
}


def kedro_new(tmp_path: Path, answers: dict) -> subprocess.CompletedProcess:
    output = tmp_path / "out"
    output.mkdir()
    config = tmp_path / "answers.yml"
    config.write_text(
        yaml.safe_dump({**PROMPTED_DEFAULTS, **answers, "output_dir": str(output)}),
        encoding="utf-8",
    )
    command = ["kedro", "new", f"--starter={REPO}", "--config", str(config)]
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(("case", "field"), KEDRO_CASES)
def test_kedro_new_with_config_refuses(tmp_path, case, field):
    answers = next(a for c, a, _ in REFUSED if c == case)
    result = kedro_new(tmp_path, answers)
    assert result.returncode != 0
    problem_lines = [
        line.strip() for line in result.stderr.splitlines() if " Fix: " in line
    ]
    assert any(line.startswith(f"{field} = ") for line in problem_lines), result.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_kedro_new_with_config_accepts_valid_answers(tmp_path):
    result = kedro_new(tmp_path, {"snowflake_account": "myorg-myaccount"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "hostile-check" / "pyproject.toml").is_file()
