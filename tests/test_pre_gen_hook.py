"""hooks/pre_gen_project.py, rendered the way cookiecutter renders it and imported.

The hostile-answer corpus (test_hostile_answers.py) drives whole bakes; these tests pin
the rules and the message format one function at a time.
"""

from __future__ import annotations

import pytest
from support.hook_rendering import render_hook


def problems_of(hook) -> dict:
    """What the rendered hook finds in the answers it was rendered with."""
    return hook.find_problems(hook.ANSWERS, hook.RAW_ANSWERS, hook.template_defaults())


@pytest.fixture(scope="module")
def hook(tmp_path_factory):
    """The hook rendered with the template's default answers."""
    return render_hook("pre_gen_project", tmp_path_factory.mktemp("hooks"))


def test_defaults_pass(hook):
    assert problems_of(hook) == {}
    assert hook.main() == 0


def test_answers_are_read_as_data_even_with_quotes_and_braces(tmp_path):
    """An answer full of quotes and brackets must reach the hook as plain data."""
    nasty = '"""; import os; os.remove("x") #\\\' ] } )'
    hook = render_hook("pre_gen_project", tmp_path, mlflow_experiment_name=nasty)
    assert hook.ANSWERS["mlflow_experiment_name"] == nasty
    assert "mlflow_experiment_name" in hook.find_problems(
        hook.ANSWERS, hook.RAW_ANSWERS, hook.template_defaults()
    )


@pytest.mark.parametrize(
    "value", ["DEMO", "_x", "a$b", "MLOPS_DEMO_1", "A" * 255, "selected", "Select_1"]
)
def test_identifier_accepts(hook, value):
    assert hook.identifier(value) == value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "empty"),
        ("1DEMO", "starts with a letter"),
        ("DE-MO", "starts with a letter"),
        ('DE"MO', "starts with a letter"),
        ("A" * 256, "longer than 255"),
        ("select", "SELECT is a Snowflake reserved word"),
        ("Try_Cast", "reserved word"),
        ("d\u0435mo", "U+0435 CYRILLIC SMALL LETTER IE"),
        ("DE\u200bMO", "U+200B ZERO WIDTH SPACE"),
        (None, "null"),
        (True, "not text"),
    ],
)
def test_identifier_refuses_with_reason(hook, value, words):
    with pytest.raises(hook.Problem) as caught:
        hook.identifier(value)
    assert words in caught.value.rule
    assert caught.value.fix


@pytest.mark.parametrize(
    "value",
    [
        "",
        "myorg-myaccount",
        "MYORG-MY_ACCOUNT",
        "xy12345",
        "xy12345.eu-west-1",
        "xy12345.us-east-2.aws",
        "ab12345.east-us-2.azure",
    ],
)
def test_account_forms_accepted(hook, value):
    assert hook.account(value) == value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("myorg-myaccount.snowflakecomputing.com", "not its URL"),
        ("https://myorg-myaccount", "not its URL"),
        ("my org", "orgname-account_name"),
        ("-acct", "orgname-account_name"),
        ("xy12345.eu-west-1.oracle", "orgname-account_name"),
        ("xy12345;DROP", "orgname-account_name"),
    ],
)
def test_account_forms_refused(hook, value, words):
    with pytest.raises(hook.Problem) as caught:
        hook.account(value)
    assert words in caught.value.rule


@pytest.mark.parametrize(
    ("cloud", "url"),
    [
        ("aws", "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mlflow"),
        ("azure", "https://my-apim.azure-api.net/mlflow"),
        ("gcp", "https://my-gw-1a2b3c4d.ew.gateway.dev/mlflow"),
        ("aws", ""),
    ],
)
def test_gateway_url_matches_cloud(hook, cloud, url):
    assert hook.gateway_url(url, cloud) == url


@pytest.mark.parametrize(
    ("cloud", "url", "words"),
    [
        ("aws", "http://abc.execute-api.eu-west-1.amazonaws.com/p", "https://"),
        ("aws", "https://abc.execute-api.eu-west-1.amazonaws.com/p'", "https://"),
        ("aws", "https://abc.execute-api.eu-west-1.amazonaws.com/p?x=1", "https://"),
        ("aws", "https://u:p@abc.execute-api.eu-west-1.amazonaws.com/", "https://"),
        ("aws", "https://my-apim.azure-api.net/mlflow", "amazonaws.com"),
        ("gcp", "https://abc.execute-api.eu-west-1.amazonaws.com/p", "gateway.dev"),
    ],
)
def test_gateway_url_refused(hook, cloud, url, words):
    with pytest.raises(hook.Problem) as caught:
        hook.gateway_url(url, cloud)
    assert words in caught.value.rule


@pytest.mark.parametrize(
    ("cloud", "url", "accepted"),
    [
        ("aws", "s3://my-bucket/mlflow/", True),
        ("azure", "azure://acct.blob.core.windows.net/container/mlflow/", True),
        ("gcp", "gcs://my-bucket/mlflow/", True),
        ("aws", "gcs://my-bucket/mlflow/", False),
        ("azure", "azure://acct.example.com/container/", False),
        ("aws", "s3://my-bucket/mlflow", False),
        ("aws", "s3://my bucket/", False),
    ],
)
def test_artifact_store_url_scheme_follows_cloud(hook, cloud, url, accepted):
    if accepted:
        assert hook.artifact_store_url(url, cloud) == url
    else:
        with pytest.raises(hook.Problem):
            hook.artifact_store_url(url, cloud)


def test_show_escapes_and_truncates(hook):
    assert hook.show("a\nb\x1b[31m") == "'a\\nb\\x1b[31m'"
    assert hook.show("d\u0435mo") == "'d\\u0435mo'"
    long = hook.show("x" * 10_240)
    assert long.endswith("... (10240 characters)")
    assert len(long) < 100
    assert hook.show(None) == "None (NoneType)"
    assert hook.show(["x" * 10_240]).endswith("... (list)")


def test_template_syntax_in_an_answer_is_refused(tmp_path):
    """Cookiecutter has already evaluated the template; the hook sees both versions."""
    hook = render_hook("pre_gen_project", tmp_path, snowflake_schema="{{ 7*7 }}")
    assert hook.ANSWERS["snowflake_schema"] == "49"
    assert hook.RAW_ANSWERS["snowflake_schema"] == "{{ 7*7 }}"
    problems = problems_of(hook)
    assert list(problems) == ["snowflake_schema"]
    assert "template syntax" in problems["snowflake_schema"].rule


def test_template_defaults_are_not_mistaken_for_hostile_answers(hook):
    """repo_name and python_package default to expressions of cookiecutter.json."""
    assert "{" + "{" in hook.RAW_ANSWERS["repo_name"]
    assert (
        hook.template_syntax_problems(hook.RAW_ANSWERS, hook.template_defaults()) == {}
    )


def test_overridden_derived_names_are_refused(tmp_path):
    hook = render_hook("pre_gen_project", tmp_path, __fn_prefix="x; drop.a.b_")
    problems = problems_of(hook)
    assert "__fn_prefix" in problems


def test_long_database_makes_derived_integration_too_long(tmp_path):
    hook = render_hook("pre_gen_project", tmp_path, snowflake_database="D" * 250)
    problems = problems_of(hook)
    assert set(problems) == {"__api_integration", "__storage_integration"}


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (
            {"azure_tenant_id": "8f1b2c3d-1234-4abc-9def-0123456789ab"},
            "azure_tenant_id",
        ),
        (
            {
                "cloud_provider": "azure",
                "azure_tenant_id": "8f1b2c3d-1234-4abc-9def-0123456789ab",
            },
            "azure_ad_application_id",
        ),
        ({"data_stage_name": "mlflow_stage"}, "data_stage_name"),
        ({"snowflake_role": "accountadmin"}, "snowflake_role"),
        ({"snowflake_database": "SNOWFLAKE"}, "snowflake_database"),
        ({"project_name": "Snowflake"}, "python_package"),
        ({"project_name": "Json"}, "python_package"),
    ],
)
def test_cross_field_rules(tmp_path, answers, field):
    hook = render_hook("pre_gen_project", tmp_path, **answers)
    problems = problems_of(hook)
    assert list(problems) == [field]


def test_report_has_one_line_per_field_naming_value_rule_and_fix(tmp_path, capsys):
    hook = render_hook(
        "pre_gen_project",
        tmp_path,
        snowflake_database="DE;MO",
        cloud_provider="AWS",
        mlflow_experiment_name="x" * 10_240,
    )
    assert hook.main() == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert "3 answer(s)" in lines[0]
    body = lines[1:]
    assert len(body) == 3
    by_field = {line.split(" = ")[0].strip(): line for line in body}
    assert set(by_field) == {
        "snowflake_database",
        "cloud_provider",
        "mlflow_experiment_name",
    }
    assert "'DE;MO'" in by_field["snowflake_database"]
    assert "Fix: write 'aws'." in by_field["cloud_provider"]
    assert "(10240 characters)" in by_field["mlflow_experiment_name"]
    assert all(" Fix: " in line for line in body)
