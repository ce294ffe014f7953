"""hooks/pre_gen_project.py, rendered the way cookiecutter renders it and imported.

The hostile-answer corpus (test_hostile_answers.py) drives whole bakes; these tests pin
the rules and the message format one field at a time, and tie the rule table to
prompts.yml: kedro's own prompt validation must accept and refuse what the hook does,
and say the same rule and fix.
"""

from __future__ import annotations

import pytest
import yaml
from kedro.framework.cli.starters import _Prompt
from mlflow.store.tracking.dbmodels.models import SqlExperiment
from support.hook_rendering import (
    PROMPTS,
    RULES,
    hook_context,
    prompts_yaml,
    render_hook,
)
from test_hostile_answers import EXPERIMENT_NAMES, REFUSED_EXPERIMENT_NAMES


def problems_of(hook) -> dict:
    """What the rendered hook finds in the answers it was rendered with."""
    defaults = RULES.template_defaults(hook.ANSWERS)
    return RULES.find_problems(hook.ANSWERS, hook.RAW_ANSWERS, defaults)


def run_main(hook) -> int:
    """The rendered hook's exit code."""
    return hook.answer_rules.main(hook.ANSWERS, hook.RAW_ANSWERS)


def refusal(hook, field: str, value: object, cloud: str = "aws"):
    """The problem the hook finds with one answer (failing if it finds none)."""
    problem = hook.problem_with(field, value, cloud)
    assert problem is not None, f"{field} = {value!r} was accepted"
    return problem


def stated(problem) -> str:
    """The rule as the report states it, with what in the value breaks it."""
    return f"{problem.rule}.{problem.detail}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The hook rendered with the template's default answers."""
    return render_hook("pre_gen_project", tmp_path_factory.mktemp("hooks"))


@pytest.fixture(scope="module")
def hook(rendered):
    """The rules the hook applies (answer_rules.py), as the rendered hook imports them."""
    assert rendered.answer_rules is RULES
    return RULES


@pytest.fixture(scope="module")
def prompts():
    return yaml.safe_load(PROMPTS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_defaults_pass(tmp_path, cloud):
    hook = render_hook("pre_gen_project", tmp_path, cloud_provider=cloud)
    assert problems_of(hook) == {}
    assert run_main(hook) == 0


def test_answers_are_read_as_data_even_with_quotes_and_braces(tmp_path):
    """An answer full of quotes and brackets must reach the hook as plain data."""
    nasty = '"""; import os; os.remove("x") #\\\' ] } )'
    hook = render_hook("pre_gen_project", tmp_path, mlflow_experiment_name=nasty)
    assert hook.ANSWERS["mlflow_experiment_name"] == nasty
    problems = problems_of(hook)
    assert list(problems) == ["mlflow_experiment_name"]
    assert "both ' and \"" in problems["mlflow_experiment_name"].rule
    # With one kind of quote it is a valid experiment name, still read as data.
    data = '"""; import os; os.remove("x") #\\ ] } ) ${oc.env:HOME}'
    hook = render_hook("pre_gen_project", tmp_path, mlflow_experiment_name=data)
    assert hook.ANSWERS["mlflow_experiment_name"] == data
    assert problems_of(hook) == {}


@pytest.mark.parametrize(
    "value", ["DEMO", "_x", "a$b", "MLOPS_DEMO_1", "A" * 255, "selected", "Select_1"]
)
def test_identifier_accepts(hook, value):
    assert hook.problem_with("snowflake_warehouse", value) is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "empty"),
        ("1DEMO", "starts with a letter"),
        ("DE-MO", "starts with a letter"),
        ('DE"MO', "starts with a letter"),
        ("A" * 256, "longer than 255"),
        ("select", "a Snowflake reserved word"),
        ("Try_Cast", "reserved word"),
        ("d\u0435mo", "U+0435 CYRILLIC SMALL LETTER IE"),
        ("DE\u200bMO", "U+200B ZERO WIDTH SPACE"),
        (None, "null"),
        (True, "true or false"),
        (1.1, "a number"),
        (object(), "not text"),
        (["DEMO", "X"], "a list"),
        ({"a": "1"}, "a mapping"),
    ],
)
def test_identifier_refuses_with_reason(hook, value, words):
    problem = refusal(hook, "snowflake_warehouse", value)
    assert words in stated(problem)
    assert problem.fix


def test_reserved_word_is_named_with_the_value(hook):
    problem = refusal(hook, "snowflake_schema", "select")
    line = hook.report({"snowflake_schema": problem}, {"snowflake_schema": "select"})
    assert line.splitlines()[1] == (
        "  snowflake_schema = 'select': it is a Snowflake reserved word. "
        "Fix: add a prefix or suffix, e.g. MY_TABLE instead of TABLE."
    )


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
    assert hook.problem_with("snowflake_account", value) is None


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
    assert words in refusal(hook, "snowflake_account", value).rule


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
    assert hook.problem_with("mlflow_gateway_url", url, cloud) is None


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
    assert words in refusal(hook, "mlflow_gateway_url", url, cloud).rule


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
    problem = hook.problem_with("mlflow_artifact_store_url", url, cloud)
    assert (problem is None) == accepted


def test_show_escapes_and_truncates(hook):
    assert hook.show("a\nb\x1b[31m") == "'a\\nb\\x1b[31m'"
    assert hook.show("d\u0435mo") == "'d\\u0435mo'"
    long = hook.show("x" * 10_240)
    assert long.endswith("... (10240 characters)")
    assert len(long) < 100
    assert hook.show(None) == "None (NoneType)"
    assert hook.show(["x" * 10_240]).endswith("... (list)")


@pytest.mark.parametrize("answer", ["{{ 7*7 }}", "{% raw %}x", "{{ x", "{% if %}"])
def test_template_syntax_in_an_answer_arrives_as_typed_and_is_refused(tmp_path, answer):
    """The template's Jinja extension keeps answers as text (cookiecutter would have
    made `{{ 7*7 }}` 49, and stopped on `{% raw %}x` before any hook ran)."""
    hook = render_hook("pre_gen_project", tmp_path, snowflake_schema=answer)
    assert hook.ANSWERS["snowflake_schema"] == answer
    problems = problems_of(hook)
    assert list(problems) == ["snowflake_schema"]
    assert "template syntax" in problems["snowflake_schema"].rule


def test_template_defaults_are_not_mistaken_for_hostile_answers(hook, rendered):
    """repo_name and python_package default to expressions of cookiecutter.json."""
    assert "{" + "{" in rendered.RAW_ANSWERS["repo_name"]
    defaults = hook.template_defaults(rendered.ANSWERS)
    problems = hook.raw_answer_problems(
        rendered.ANSWERS, rendered.RAW_ANSWERS, defaults
    )
    assert problems == {}


@pytest.mark.parametrize(
    ("value", "words"),
    [(["WH", "X"], "a list"), ({"a": 1}, "a mapping")],
)
def test_a_list_or_mapping_as_given_is_refused(tmp_path, value, words):
    """Cookiecutter makes a list a choice and keeps its first item: only the answers
    as given still show it."""
    hook = render_hook("pre_gen_project", tmp_path, snowflake_warehouse=value)
    problems = problems_of(hook)
    assert list(problems) == ["snowflake_warehouse"]
    assert words in problems["snowflake_warehouse"].rule
    assert problems["snowflake_warehouse"].given == value


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
        ({"__experiment_name_conf": "other"}, "__experiment_name_conf"),
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
    assert run_main(hook) == 1
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
    assert (
        "Fix: write it in lower case: aws, azure or gcp." in by_field["cloud_provider"]
    )
    assert "(10240 characters)" in by_field["mlflow_experiment_name"]
    assert (
        "MLflow's SQL stores hold at most 256 characters"
        in by_field["mlflow_experiment_name"]
    )
    assert all(" Fix: " in line for line in body)


# --- the MLflow experiment name: data, not an identifier ----------------------------


def test_experiment_name_limit_is_the_one_of_mlflows_sql_stores(hook):
    """MLflow's REST API lets 500 characters through, but the column that holds the
    name in its SQL stores (PostgreSQL and MySQL enforce it) has 256."""
    assert hook.EXPERIMENT_NAME_LIMIT == SqlExperiment.__table__.c.name.type.length
    assert hook.problem_with("mlflow_experiment_name", "x" * 256) is None
    assert refusal(hook, "mlflow_experiment_name", "x" * 257)


@pytest.mark.parametrize("name", [name for _, name in EXPERIMENT_NAMES])
def test_experiment_name_accepted(hook, name):
    assert hook.problem_with("mlflow_experiment_name", name) is None


@pytest.mark.parametrize(
    ("name", "words"), [(name, words) for _, name, words in REFUSED_EXPERIMENT_NAMES]
)
def test_experiment_name_refused_with_reason(hook, rendered, name, words):
    answers = {
        **rendered.ANSWERS,
        "mlflow_experiment_name": name,
        "__experiment_name_conf": hook.omegaconf_text(name),
    }
    problem = hook.find_problems(answers, {}, {})["mlflow_experiment_name"]
    assert words in stated(problem)


@pytest.mark.parametrize(
    "name",
    [
        "${oc.env:X}",
        "\\${oc.env:X}",
        "\\\\${oc.env:X}",
        "a\\b\\${c}\\\\${d}${e}\\",
        "$${x}",
        "${",
        "\\",
        "no interpolation \\ here",
        "",
    ],
)
def test_template_escapes_experiment_name_for_omegaconf_as_the_hook_does(hook, name):
    """cookiecutter.json's `__experiment_name_conf` (Jinja) and the hook's check of it
    (Python) are two implementations of one escape: they must agree."""
    context = hook_context(mlflow_experiment_name=name)["cookiecutter"]
    assert context["__experiment_name_conf"] == hook.omegaconf_text(name)


# --- prompts.yml: made from the same table ------------------------------------------

# For every prompted field: values the hook accepts, and values it refuses.
PROMPT_CORPUS = {
    "project_name": (
        ["Snowflake MLOps Demo", "My_Project 2", "Ab", "A" * 64],
        ["", "A", "1st Project", "D\u00e9mo", "A" * 65, "Ab/cd", "../x", "Ab{{x}}"],
    ),
    "snowflake_account": (
        ["", "myorg-myaccount", "xy12345", "xy12345.eu-west-1.aws"],
        ["https://a", "a.snowflakecomputing.com", "my org", "-a", "a" * 256, "a;b"],
    ),
    "snowflake_user": (
        ["", "JANE_DOE", "jane.doe@example.com", "_svc-1$"],
        ["jane doe", 'J"', "1jane", "j" * 256, "j\u0430ne"],
    ),
    "snowflake_role": (
        ["MLOPS_DEMO_ROLE", "_r$", "R" * 255, "accountadmins"],
        ["", "ACCOUNTADMIN", "public", "SELECT", "1R", "R-1", "R" * 256, "R{%x%}"],
    ),
    "snowflake_warehouse": (
        ["MLOPS_DEMO_WH", "W_1", "grouping"],
        ["", "GROUP", "W H", "\uff37\uff28", "W\n", "W\u200b"],
    ),
    "snowflake_database": (
        ["DEMO", "_odd$db", "snowflakes"],
        ["", "snowflake", "SNOWFLAKE_SAMPLE_DATA", "TABLE", "DB;", '"DB"'],
    ),
    "snowflake_schema": (
        ["DEMO", "S1", "information"],
        ["", "INFORMATION_SCHEMA", "select", "S.T", "S\u202e"],
    ),
    "mlflow_experiment_name": (
        [name for _, name in EXPERIMENT_NAMES],
        # Whether Kedro's config can carry a `${` is OmegaConf's call, which a prompt
        # regex cannot make: the hook says it right after the prompts.
        [name for _, name, why in REFUSED_EXPERIMENT_NAMES if "${...}" not in why],
    ),
    "cloud_provider": (
        ["aws", "azure", "gcp"],
        ["", "AWS", "oracle", "aws ", "aws; rm -rf /", "gcp\n"],
    ),
}


def kedro_prompt_accepts(prompt: dict, value: str) -> bool:
    """What `kedro new` does with a typed answer: its _Prompt.validate exits on a
    regex_validator mismatch."""
    try:
        _Prompt(**prompt).validate(value)
    except SystemExit:
        return False
    return True


def test_prompts_yml_is_made_from_the_rule_table(hook, prompts):
    expected = prompts_yaml(hook, prompts)
    assert PROMPTS.read_text(encoding="utf-8") == expected, (
        "prompts.yml differs from the hook's rule table: "
        "run `python tests/support/hook_rendering.py`"
    )
    for field, prompt in prompts.items():
        assert prompt["regex_validator"] == hook.prompt_regex(field)
        assert prompt["error_message"] == hook.prompt_error_message(field)


def test_every_prompt_has_a_corpus_and_rules_of_its_own(hook, prompts):
    assert set(PROMPT_CORPUS) == set(prompts)
    for field in prompts:
        # A prompt cannot see other answers: its field's rules must not need them.
        assert all(when == "" for when, _ in hook.CHECKS[field]), field


@pytest.mark.parametrize("field", list(PROMPT_CORPUS))
def test_prompt_and_hook_accept_and_refuse_the_same_values(hook, prompts, field):
    accepted, refused = PROMPT_CORPUS[field]
    for value in accepted:
        assert hook.problem_with(field, value) is None, value
        assert kedro_prompt_accepts(prompts[field], value), value
    for value in refused:
        assert hook.problem_with(field, value) is not None, value
        assert not kedro_prompt_accepts(prompts[field], value), value


@pytest.mark.parametrize("field", list(PROMPT_CORPUS))
def test_prompt_message_states_the_hooks_rule_and_fix(hook, prompts, field):
    """An interactive user reads the same rule and fix as the `--config` report."""
    message = prompts[field]["error_message"].splitlines()
    for value in PROMPT_CORPUS[field][1]:
        problem = refusal(hook, field, value)
        assert f"- {problem.rule}. Fix: {problem.fix}." in message, value
