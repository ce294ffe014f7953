"""A corpus of hostile and edge answers: each is refused with its field named and nothing
left on disk, or accepted when it is valid.

Most cases bake in-process with pytest-cookies (`cookies.bake(extra_context=...)`); a
representative subset goes through `kedro new --starter=<repo> --config answers.yml`.

How template syntax in answers is defended (investigated in cookiecutter 2.7.1 and
kedro 1.7.0):
- cookiecutter renders every answer as a Jinja template before any hook runs: `{{ 7*7 }}`
  would reach the hook as `49`, and an answer Jinja cannot render (`{% raw %}x`, `{{ x`,
  `{% if %}`, `{{ undefined }}`) would stop cookiecutter with a Jinja error naming no
  answer. The template's Jinja extension (snowflake_mlops_jinja.py, cookiecutter.json
  `_extensions`) renders only the template's own templates, so every answer reaches the
  hook as typed and is refused there, by field; nothing of it is ever evaluated.
- `kedro new` applies prompts.yml's regexes only to interactive prompts; with `--config`
  it checks nothing but project_name (its own `^[\\w -]{2,}$`). So every key of a config
  file reaches cookiecutter unchecked, and the hook is the real gate.
- A `pre_prompt` hook (supported by cookiecutter 2.7) runs before the answers are read
  and never sees them, so it cannot help here.
- A YAML config can give a list or a mapping where one value is asked: cookiecutter
  makes a list a choice and quietly keeps its first item. `_cookiecutter` still holds
  the list, so the hook refuses it. A mapping (or null) for an answer that a derived
  value of cookiecutter.json reads makes cookiecutter fail before any hook runs (the
  xfail cases below): those expressions must tolerate it for the hook to speak.

The MLflow experiment name is data, not an identifier: every name MLflow accepts is
accepted, except what the project cannot carry (see REFUSED_EXPERIMENT_NAMES), and
each accepted name is followed into every file it is written to.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt
from snowflake.connector.util_text import split_statements
from support.baking import BakedProject, bake, clean_env
from support.external_functions import ExternalFunctionEmulator, ExternalFunctionError
from support.hook_rendering import REPO, render_hook

from kedro_snowflake_mlops.conf import project_config_loader, read_snowflake_conf
from kedro_snowflake_mlops.objects.conf_check import check_project

TEN_KB = "A" * 10_240
GUID = "8f1b2c3d-1234-4abc-9def-0123456789ab"

# (id, name, words of the hook's reason): names MLflow takes, but the project cannot.
# fmt: off
REFUSED_EXPERIMENT_NAMES = [
    ("jinja-object-experiment", "{{ cookiecutter.__class__ }}", "template syntax"),
    ("jinja-comment-experiment", "a{# hidden #}", "template syntax"),
    ("jinja-statement-experiment", "{% if true %}x{% endif %}", "template syntax"),
    ("unclosed-expression-experiment", "demo {{ x", "template syntax"),
    ("yaml-injection-experiment", 'demo"\nsnowflake: {}', "U+000A CONTROL"),
    ("empty-experiment", "", "empty or blank"),
    ("blank-experiment", "   ", "empty or blank"),
    ("no-break-spaces-experiment", "\u00a0\u3000", "empty or blank"),
    ("ten-kb-experiment", TEN_KB, "at most 256 characters"),
    ("over-mlflow-limit-experiment", "x" * 257, "at most 256 characters"),
    ("unclosed-interpolation-experiment", "${oops", "must start a whole ${...}"),
    ("empty-interpolation-experiment", "cost ${}", "must start a whole ${...}"),
    ("ansi-escape-experiment", "demo\x1b[31mred", "U+001B CONTROL"),
    ("tab-experiment", "demo\tx", "U+0009 CONTROL"),
    ("nul-experiment", "demo\x00", "U+0000 CONTROL"),
    ("delete-experiment", "demo\x7f", "U+007F CONTROL"),
    ("next-line-experiment", "demo\x85x", "U+0085 CONTROL"),
    ("line-separator-experiment", "demo\u2028x", "U+2028 LINE SEPARATOR"),
    ("rtl-override-experiment", "demo\u202egnp.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("both-quotes-experiment", 'it\'s "both"', "both ' and \""),
    ("trailing-backslash-experiment", "C:\\temp\\", "ends with a backslash"),
]

# (id, name): accepted, and followed into every file the name is written to.
EXPERIMENT_NAMES = [
    ("single-quote", "it's a test"),
    ("parentheses-unicode", "Churn (v2) \u00e9"),
    ("slashes-spaces", "team/exp v2.1 / nightly"),
    ("dollars", "cost in $ and $$ and $x"),
    ("omegaconf-env", "${oc.env:AWS_SECRET_ACCESS_KEY}"),
    ("omegaconf-escaped", "\\${oc.env:AWS_SECRET_ACCESS_KEY}"),
    ("omegaconf-two-backslashes", "\\\\${oc.env:AWS_SECRET_ACCESS_KEY}"),
    ("omegaconf-mixed", "a\\b ${x} \\${y} $${z} \\\\${w}"),
    ("kedro-globals", "${globals:snowflake.database}"),
    ("kedro-runtime-params", "${runtime_params:x}"),
    ("escaped-unclosed-interpolation", "\\${oops"),
    ("double-quotes", 'say "hi"'),
    ("windows-path", "C:\\temp\\new\\table"),
    ("quote-and-backslashes", "it's in C:\\runs\\ and \\'"),
    ("double-quotes-and-backslashes", 'say "C:\\x\\" \\"'),
    ("sql-injection", "x'; DROP TABLE runs; --"),
    ("sql-dollar-quoted", "$$ ; $$"),
    ("sql-comment", "a -- b /* c */ // d"),
    ("yaml-syntax", "key: value # not a comment"),
    ("yaml-flow", "[a, b] {c: d} & *alias !tag | > %"),
    ("markdown-html", "<b>bold</b> & *emphasis* `code` [link](x) # h"),
    ("cjk-emoji", "\u65e5\u672c\u8a9e \U0001f680"),
    ("outer-spaces", "  spaced  "),
    ("zero-width-space", "zero\u200bwidth"),
    ("braces", "a{b}c}}d{ %e #f"),
    ("yaml-words", "null"),
    ("number", "2024"),
    ("only-quote", "'"),
    ("mlflow-limit", "x" * 256),
]
# fmt: on

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
    ("unclosed-raw-database", {"snowflake_database": "{% raw %}x"}, "snowflake_database"),
    ("unclosed-expression-database", {"snowflake_database": "{{ x"}, "snowflake_database"),
    ("empty-if-schema", {"snowflake_schema": "{% if %}"}, "snowflake_schema"),
    ("undefined-variable-role", {"snowflake_role": "{{ undefined }}"}, "snowflake_role"),
    ("code-in-warehouse", {"snowflake_warehouse": "{{ cookiecutter.__class__.__init__ }}"}, "snowflake_warehouse"),
    ("unclosed-raw-project", {"project_name": "{% raw %}x"}, "project_name"),
    ("unclosed-raw-gateway", {"mlflow_gateway_url": "{% raw %}"}, "mlflow_gateway_url"),
    ("file-name-placeholder-database", {"snowflake_database": "{{ cookiecutter.python_package }}"}, "snowflake_database"),
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
    ("overridden-experiment-escape", {"__experiment_name_conf": "${oc.env:HOME}"}, "__experiment_name_conf"),
    ("list-for-warehouse", {"snowflake_warehouse": ["WH", TEN_KB]}, "snowflake_warehouse"),
    ("list-for-experiment", {"mlflow_experiment_name": ["demo", "other"]}, "mlflow_experiment_name"),
    ("list-for-account", {"snowflake_account": ["myorg-acct"]}, "snowflake_account"),
    ("list-for-project", {"project_name": ["My Project", "Other"]}, "project_name"),
    ("mapping-for-role", {"snowflake_role": {"name": "R"}}, "snowflake_role"),
    ("mapping-for-experiment", {"mlflow_experiment_name": {"name": "demo"}}, "mlflow_experiment_name"),
    ("mapping-for-user", {"snowflake_user": {"a": "b"}}, "snowflake_user"),
    ("null-experiment", {"mlflow_experiment_name": None}, "mlflow_experiment_name"),
    ("integer-experiment", {"mlflow_experiment_name": 2024}, "mlflow_experiment_name"),
    pytest.param("mapping-for-database", {"snowflake_database": {"a": "b"}}, "snowflake_database"),
    pytest.param("mapping-for-project", {"project_name": {"a": "b"}}, "project_name"),
    pytest.param("null-project", {"project_name": None}, "project_name"),
]

ACCEPTED = [
    ("defaults", {}),
    ("edge-identifiers", {"snowflake_database": "_X$1", "snowflake_schema": "a", "snowflake_role": "r_$"}),
    ("max-length-warehouse", {"snowflake_warehouse": "W" * 255}),
    ("locator-and-email-user", {"snowflake_account": "xy12345.eu-west-1.aws", "snowflake_user": "jane.doe@example.com"}),
    ("azure-complete", {"cloud_provider": "azure", "mlflow_gateway_url": "https://my-apim.azure-api.net/mlflow", "mlflow_artifact_store_url": "azure://acct.blob.core.windows.net/box/mlflow/", "azure_tenant_id": GUID, "azure_ad_application_id": GUID}),
    ("gcp-complete", {"cloud_provider": "gcp", "mlflow_gateway_url": "https://gw-1a2b.ew.gateway.dev/mlflow", "mlflow_artifact_store_url": "gcs://bucket/mlflow/", "gcp_audience": "my-api.apigateway.proj.cloud.goog"}),
    ("project-name-underscore-digit", {"project_name": "My_Project 2"}),
    ("online-check-yaml-boolean", {"online_check": False}),
]
# fmt: on
REFUSED += [
    (case, {"mlflow_experiment_name": name}, "mlflow_experiment_name")
    for case, name, _ in REFUSED_EXPERIMENT_NAMES
]


def leftovers(output_dir: Path) -> list[str]:
    """What a failed bake left in its output folder (waiting briefly: the hook removes
    folders above a nested project from a detached process)."""
    deadline = time.monotonic() + 10
    while True:
        found = sorted(p.name for p in output_dir.iterdir())
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def refused_case(row) -> pytest.param:
    """A REFUSED row (plain, or a pytest.param with marks) as a named test case."""
    values, marks = (row.values, row.marks) if hasattr(row, "marks") else (row, ())
    case, answers, field = values
    return pytest.param(answers, field, id=case, marks=marks)


REFUSED_CASES = [refused_case(case) for case in REFUSED]


@pytest.mark.parametrize(("answers", "field"), REFUSED_CASES)
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
    findings = check_project(result.project_path).findings
    assert [str(finding) for finding in findings] == []


def test_empty_project_name_is_refused_by_the_hook(cookies, tmp_path, capfd):
    """An empty project_name would give an empty folder name (cookiecutter would then
    stop on "already exists"); cookiecutter.json names the folder `unnamed-project`
    instead, so the hook runs and names the field. `kedro new` refuses it earlier with
    its own project-name rule."""
    result = cookies.bake(template=str(REPO), extra_context={"project_name": ""})
    assert type(result.exception).__name__ == "FailedHookException"
    assert "project_name = ''" in capfd.readouterr().err
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
    ("list-for-warehouse", "snowflake_warehouse"),
    ("mapping-for-experiment", "mlflow_experiment_name"),
    ("both-quotes-experiment", "mlflow_experiment_name"),
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


def kedro_new(
    tmp_path: Path, answers: dict | None = None, typed: str | None = None
) -> subprocess.CompletedProcess:
    """`kedro new` with these answers in a `--config` file, or typed at its prompts."""
    output = tmp_path / "out"
    output.mkdir(parents=True)
    command = ["kedro", "new", f"--starter={REPO}"]
    if typed is None:
        config = tmp_path / "answers.yml"
        config.write_text(
            yaml.safe_dump({**PROMPTED_DEFAULTS, **answers, "output_dir": str(output)}),
            encoding="utf-8",
        )
        command += ["--config", str(config)]
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=output,
        env=clean_env(),
        input=typed,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(("case", "field"), KEDRO_CASES)
def test_kedro_new_with_config_refuses(tmp_path, case, field):
    [answers] = [c.values[0] for c in REFUSED_CASES if c.id == case]
    result = kedro_new(tmp_path, answers)
    assert result.returncode != 0
    problem_lines = [
        line.strip() for line in result.stderr.splitlines() if " Fix: " in line
    ]
    assert any(line.startswith(f"{field} = ") for line in problem_lines), result.stderr
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("answer", ["{% raw %}x", "{{ x", "{% if %}"])
def test_kedro_new_refuses_unrenderable_template_syntax_as_typed(tmp_path, answer):
    """Jinja cannot render these; cookiecutter alone would stop with a Jinja error that
    names no answer, before any hook runs."""
    result = kedro_new(tmp_path, {"snowflake_database": answer})
    assert result.returncode != 0
    assert (
        f"  snowflake_database = {ascii(answer)}: it holds template syntax"
        in result.stderr
    ), result.stderr
    assert "TemplateSyntaxError" not in result.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_kedro_new_with_config_accepts_valid_answers(tmp_path):
    result = kedro_new(tmp_path, {"snowflake_account": "myorg-myaccount"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "hostile-check" / "pyproject.toml").is_file()


# --- the same rule and fix at kedro's prompts ----------------------------------------

# (prompt, typed answer): refused at the prompt with the words of the hook's report.
TYPED_CASES = [
    ("snowflake_schema", "select"),
    ("snowflake_account", "myorg-acct.snowflakecomputing.com"),
    ("mlflow_experiment_name", 'it\'s "both"'),
]


@pytest.mark.parametrize(("field", "value"), TYPED_CASES)
def test_kedro_prompt_and_config_file_give_the_same_rule_and_fix(
    tmp_path, field, value
):
    prompts = list(yaml.safe_load((REPO / "prompts.yml").read_text(encoding="utf-8")))
    rules = render_hook("pre_gen_project", tmp_path).answer_rules
    problem = rules.problem_with(field, value)
    rule_and_fix = f"{problem.rule}. Fix: {problem.fix}."
    # Enter for every prompt before this one (the project name is typed: it has none).
    typed = "Prompt Check\n" + "\n" * (prompts.index(field) - 1) + value + "\n"
    at_prompt = kedro_new(tmp_path / "typed", typed=typed)
    assert at_prompt.returncode != 0
    assert f"'{value}' is an invalid value for" in at_prompt.stderr, at_prompt.stderr
    assert f"- {rule_and_fix}" in at_prompt.stderr.splitlines()
    assert list((tmp_path / "typed" / "out").iterdir()) == []
    from_config = kedro_new(tmp_path / "config", {field: value})
    assert f"  {field} = {rules.show(value)}: {rule_and_fix}" in from_config.stderr


# --- experiment names: into every file they are written to ---------------------------

LEAKED = "the-value-of-the-environment-variable"


def mlflow_block(project: Path) -> dict:
    """`snowflake.mlflow` as `kedro run` reads it: the project's own config loader (its
    settings: the soft merge of envs), offline and with `--env snowflake` alike."""
    offline = read_snowflake_conf(project_config_loader(project, "local"))["mlflow"]
    online = read_snowflake_conf(project_config_loader(project, "snowflake"))["mlflow"]
    assert online["experiment_name"] == offline["experiment_name"]
    return offline


def snowflake_string(sql: str, start: int) -> str:
    """The value of the single-quoted Snowflake string literal opening at sql[start]:
    `''` is a quote; a backslash escapes (\\n, \\t, \\ooo, \\xhh, \\uhhhh; any other
    character stands for itself)."""
    assert sql[start] == "'"
    simple = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
    numeric = [(r"[0-7]{1,3}", 8), (r"x[0-9A-Fa-f]{2}", 16), (r"u[0-9A-Fa-f]{4}", 16)]
    value, i = [], start + 1
    while sql[i : i + 1] != "'" or sql[i : i + 2] == "''":
        if sql[i] == "'":
            value.append("'")
            i += 2
        elif sql[i] == "\\":
            for pattern, base in numeric:
                if found := re.match(pattern, sql[i + 1 :]):
                    digits = found[0].lstrip("xu")
                    value.append(chr(int(digits, base)))
                    i += 1 + len(found[0])
                    break
            else:
                value.append(simple.get(sql[i + 1], sql[i + 1]))
                i += 2
        else:
            value.append(sql[i])
            i += 1
    return "".join(value)


def looked_up_in_sql(project: Path) -> tuple[int, str]:
    """How many statements sql/90_smoke_test.sql has (split as `kedro snowflake setup`
    splits it, by snowflake-connector), and the experiment name its lookup passes."""
    sql = (project / "sql" / "90_smoke_test.sql").read_text(encoding="utf-8")
    statements = [
        s for s, _ in split_statements(io.StringIO(sql), remove_comments=True)
    ]
    [lookup] = [s for s in statements if "experiment_get_by_name(" in s]
    return len(statements), snowflake_string(lookup, lookup.index("by_name('") + 8)


def shown_in_readme(project: Path) -> str:
    """The code block after "the experiment named" in the README, as Markdown reads it."""
    tokens = MarkdownIt("commonmark").parse(
        (project / "README.md").read_text(encoding="utf-8")
    )
    [at] = [i for i, t in enumerate(tokens) if "the experiment named" in t.content]
    block = next(t for t in tokens[at:] if t.type == "code_block")
    return block.content.removesuffix("\n")


def experiment_id(server, name: str) -> str:
    """Create the experiment in MLflow (its own validation applies), or find it."""
    try:
        return server.post("experiments/create", {"name": name})["experiment_id"]
    except urllib.error.HTTPError as error:
        if b"RESOURCE_ALREADY_EXISTS" not in error.read():
            raise
    return server.get("experiments/get-by-name", experiment_name=name)["experiment"][
        "experiment_id"
    ]


@pytest.fixture(scope="module")
def default_project(cookies_session) -> BakedProject:
    return bake(cookies_session)


@pytest.mark.parametrize(
    "name", [pytest.param(name, id=case) for case, name in EXPERIMENT_NAMES]
)
def test_experiment_name_arrives_intact_everywhere(
    cookies, mlflow_server, monkeypatch, default_project, name
):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LEAKED)
    monkeypatch.setenv("x", LEAKED)
    project = bake(cookies, mlflow_experiment_name=name).path
    mlflow = mlflow_block(project)
    assert mlflow["experiment_name"] == name
    statements, in_sql = looked_up_in_sql(project)
    assert in_sql == name
    assert statements == looked_up_in_sql(default_project.path)[0]
    assert shown_in_readme(project) == name
    # MLflow takes the name, and the project's lookup finds it by the name in its conf.
    expected = experiment_id(mlflow_server, name)
    lookup = ExternalFunctionEmulator(project / "sql", mlflow_server.url)
    function = mlflow["functions"]["experiment_get_by_name"]
    [found] = lookup.call(function, [[mlflow["experiment_name"]]])
    assert (found["experiment_id"], found["name"]) == (expected, name)


@pytest.mark.parametrize(
    "case", ["both-quotes-experiment", "trailing-backslash-experiment"]
)
def test_names_refused_for_the_lookup_are_names_it_cannot_search(
    mlflow_server, default_project, case
):
    """MLflow takes these names, but the experiment lookup cannot put them in a search
    filter: the reason the hook gives is real."""
    [name] = [n for c, n, _ in REFUSED_EXPERIMENT_NAMES if c == case]
    experiment_id(mlflow_server, name)
    lookup = ExternalFunctionEmulator(default_project.path / "sql", mlflow_server.url)
    function = mlflow_block(default_project.path)["functions"]["experiment_get_by_name"]
    with pytest.raises(ExternalFunctionError, match="cannot be searched"):
        lookup.call(function, [[name]])


def test_mlflow_refuses_names_over_its_limit(mlflow_server):
    with pytest.raises(urllib.error.HTTPError) as refused:
        mlflow_server.post("experiments/create", {"name": "y" * 501})
    assert refused.value.code == 400
    assert experiment_id(mlflow_server, "y" * 500)


def test_kedro_new_with_config_keeps_an_experiment_name_literal(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", LEAKED)
    name = "${oc.env:AWS_SECRET_ACCESS_KEY} it's \\${x}"
    result = kedro_new(tmp_path, {"mlflow_experiment_name": name})
    assert result.returncode == 0, result.stderr
    assert mlflow_block(tmp_path / "out" / "hostile-check")["experiment_name"] == name
