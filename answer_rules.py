"""The rules every answer of the template must pass, applied by the pre-generation hook
(hooks/pre_gen_project.py) before any file is written. Stdlib only: it runs with the
Python of `kedro new` (or cookiecutter), which need not have the plugin.

The rules are tables: RULES (one answer each; prompts.yml's regex_validator and
error_message are made from it, so `kedro new` refuses at its prompts what is refused
here) and ACROSS (rules that read several answers, and the derived `__` values). The
first rule an answer breaks gives one line on stderr: field, value (escaped,
shortened), rule, fix; then the hook exits 1 and cookiecutter deletes the half-made
project folder.

Template syntax in an answer arrives as typed: the template's Jinja extension
(snowflake_mlops_jinja.py) keeps answers as text instead of rendering them. Why the raw
answers too: cookiecutter quietly keeps the first item of a list. The answers as given
are in cookiecutter's ``_cookiecutter`` context, so lists, mappings and numbers from a
YAML config are refused there.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import sys
from collections import namedtuple

SHOWN_CHARACTERS = 60
# Built from pieces so that this file holds no template syntax of its own.
TEMPLATE_MARKERS = ("{" + "{", "{" + "%", "{" + "#")
# MLflow's SQL stores (sqlite, PostgreSQL, MySQL) keep an experiment's name in a
# 256-character column (mlflow/store/tracking/dbmodels/models.py); its REST API would
# let 500 through, which PostgreSQL and MySQL then refuse.
EXPERIMENT_NAME_LIMIT = 256
GATEWAY_PLACEHOLDER = "<MLFLOW_GATEWAY_URL>"
STORE_PLACEHOLDERS = {"aws": "s3://<BUCKET>/mlflow/", "azure": "azure://<ACCOUNT>.blob.core.windows.net/<CONTAINER>/mlflow/", "gcp": "gcs://<BUCKET>/mlflow/"}  # fmt: skip
# Snowflake's reserved keywords (docs.snowflake.com/en/sql-reference/reserved-keywords),
# plus ASC and DESC, which the same page says are reserved as well.
RESERVED_WORDS = """
    ACCOUNT ALL ALTER AND ANY AS ASC BETWEEN BY CASE CAST CHECK COLUMN CONNECT CONNECTION
    CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP
    CURRENT_USER DATABASE DELETE DESC DISTINCT DROP ELSE EXISTS FALSE FOLLOWING FOR FROM
    FULL GRANT GROUP GSCLUSTER HAVING ILIKE IN INCREMENT INNER INSERT INTERSECT INTO IS
    ISSUE JOIN LATERAL LEFT LIKE LOCALTIME LOCALTIMESTAMP MINUS NATURAL NOT NULL OF ON OR
    ORDER ORGANIZATION QUALIFY REGEXP REVOKE RIGHT RLIKE ROW ROWS SAMPLE SCHEMA SELECT SET
    SOME START TABLE TABLESAMPLE THEN TO TRIGGER TRUE TRY_CAST UNION UNIQUE UPDATE USING
    VALUES VIEW WHEN WHENEVER WHERE WITH
    """.split()
SYSTEM_ROLES = "ACCOUNTADMIN GLOBALORGADMIN ORGADMIN PUBLIC SECURITYADMIN SYSADMIN USERADMIN"  # fmt: skip
# Import names the generated project needs; a package with one of these names would
# shadow the real library (a package called `snowflake` hides snowflake.snowpark).
SHADOWED_IMPORTS = "click kedro kedro_datasets mlflow numpy pandas pydantic pytest sklearn snowflake tests yaml"
# What an experiment name may not hold: control characters (a newline would end the YAML
# and SQL lines the name is written to; ESC sequences garble terminals), line and
# paragraph separators, text-direction marks (they make a name display as something it
# is not), surrogates and non-characters (not text: YAML cannot carry them).
NOT_TEXT = r"\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
IDENTIFIERS = ("snowflake_role", "snowflake_warehouse", "snowflake_database", "snowflake_schema", "mlflow_stage_name", "data_stage_name")  # fmt: skip
OPTIONAL = {"snowflake_account", "snowflake_user", "mlflow_gateway_url", "mlflow_artifact_store_url", "aws_api_role_arn", "aws_storage_role_arn", "azure_tenant_id", "azure_ad_application_id", "gcp_audience"}  # fmt: skip
FREE_TEXT = {"mlflow_experiment_name"}  # any printable text, not only ASCII
FOLLOW_PROJECT_NAME = {"repo_name", "python_package"}  # checked once project_name is


def none_of(words: list[str] | str) -> str:
    """A pattern matching any answer but these words, in any letter case."""
    words = words.split() if isinstance(words, str) else words
    return r"(?!(?i:" + "|".join(words) + r")\Z)"


# An answer passes when `re.match(pattern, answer)` does (the way kedro applies
# prompts.yml's regex_validator); otherwise the hook says `rule. Fix: fix.`
Check = namedtuple("Check", "pattern rule fix")


TEMPLATE_SYNTAX = Check(r"(?!(?s:.*)\{[%#\{])", f"it holds template syntax ({', '.join(TEMPLATE_MARKERS)}), which cookiecutter would run as a template", "answer with plain text, e.g. put a space after the {")  # fmt: skip
ACCOUNT = r"(?=(?s:.){0,255}\Z)(?:[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9_]+|[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)?(?:\.(?:aws|azure|gcp))?)\Z"
ROLE_ARN = r"arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}\Z"
GUID = r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\Z"
# URLs end up inside SQL string literals and YAML: a closed character set (no quotes,
# spaces, backslashes, semicolons, query strings or user info) keeps them inert there.
URL_PATH = r"(?:/[A-Za-z0-9._~%/-]*)?\Z"
SYSTEM_OBJECT = "it is a Snowflake system object; the setup scripts would grant on it and the teardown script would drop it"
OWN_OBJECT = "choose a name for an object of this project alone"
FROM_CONSOLE = "copy it from your cloud console, e.g. {}, or leave it empty"
OTHER_CLOUD = "leave it empty, or change cloud_provider"
LOOKUP = "the experiment lookup (sql/04_translators.sql) puts the name in an MLflow search filter"

# One row per rule, tried in this order (after TEMPLATE_SYNTAX, which every field gets):
# (field(s), only when cloud_provider matches, pattern `re.match` must match, rule, fix).
# fmt: off
RULES = [
    ("project_name", "", r"[A-Za-z][A-Za-z0-9 _-]{1,63}\Z", "2-64 characters: a letter first, then letters, digits, spaces, hyphens or underscores (ASCII)", "use a name such as 'Snowflake MLOps Demo'"),
    ("repo_name", "", r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}(?<!\.)\Z", "a folder name of letters, digits, '.', '_' or '-' (no slashes, at most 100, not ending in '.')", "choose a project_name made of letters, digits, spaces and hyphens"),
    ("python_package", "", r"[a-z_][a-z0-9_]{1,99}\Z", "a Python package name is 2-100 lower-case letters, digits or underscores, not starting with a digit", "choose a project_name that starts with a letter"),
    ("python_package", "", none_of([*keyword.kwlist, *sorted(sys.stdlib_module_names)]), "it clashes with a Python keyword or standard-library module", "choose a different project_name"),
    ("python_package", "", none_of(SHADOWED_IMPORTS), "it would shadow a library the project imports", "choose a different project_name"),
    ("kedro_version", "", r"1\.[0-9]+\.[0-9]+(?:(?:a|b|rc|\.dev|\.post)[0-9]+)*\Z", "a Kedro 1.x release number such as 1.7.0", "remove kedro_version from the config"),
    ("snowflake_account", "", r"(?!(?s:.*)(?i:snowflakecomputing)|(?s:.*)://)", "give the account identifier, not its URL", "drop https:// and .snowflakecomputing.com, e.g. myorg-myaccount"),
    ("snowflake_account", "", ACCOUNT, "an account identifier is orgname-account_name or a legacy locator with optional region and cloud (ASCII)", "use e.g. myorg-myaccount or xy12345.eu-west-1.aws, or leave it empty to work offline"),
    ("snowflake_user", "", r"[A-Za-z_][A-Za-z0-9_$.@-]{0,254}\Z", "a user name starts with a letter or underscore, then letters, digits, _ $ . @ or - (at most 255, ASCII)", "use your Snowflake login name, e.g. JANE_DOE, or leave it empty"),
    (IDENTIFIERS, "", r"(?s:.)", "it is empty", "give a name such as MLOPS_DEMO"),
    (IDENTIFIERS, "", r"(?s:.){0,255}\Z", "it is longer than 255 characters", "use a shorter name"),
    (IDENTIFIERS, "", r"[A-Za-z_][A-Za-z0-9_$]*\Z", "an unquoted Snowflake identifier starts with a letter or underscore, then only letters, digits, _ or $ (ASCII)", "use a name such as MLOPS_DEMO"),
    (IDENTIFIERS, "", none_of(RESERVED_WORDS), "it is a Snowflake reserved word", "add a prefix or suffix, e.g. MY_TABLE instead of TABLE"),
    ("snowflake_role", "", none_of(SYSTEM_ROLES), SYSTEM_OBJECT, OWN_OBJECT),
    ("snowflake_database", "", none_of("SNOWFLAKE SNOWFLAKE_SAMPLE_DATA"), SYSTEM_OBJECT, OWN_OBJECT),
    ("snowflake_schema", "", none_of("INFORMATION_SCHEMA"), SYSTEM_OBJECT, OWN_OBJECT),
    # Data, not an identifier: whatever MLflow accepts and the project can write down.
    ("mlflow_experiment_name", "", r"(?s:.)*?\S", "it is empty or blank", "give a name such as demo-mlops"),
    ("mlflow_experiment_name", "", r"(?s:.){0,%d}\Z" % EXPERIMENT_NAME_LIMIT, f"MLflow's SQL stores hold at most {EXPERIMENT_NAME_LIMIT} characters", "use a shorter name"),  # noqa: UP031
    ("mlflow_experiment_name", "", r"[^%s]*\Z" % NOT_TEXT, "it holds a control character, line break, text-direction mark or non-character", "type the name on one line, without them"),  # noqa: UP031
    ("mlflow_experiment_name", "", r"(?!(?s:.*)'(?s:.*)\"|(?s:.*)\"(?s:.*)')", f"it holds both ' and \": {LOOKUP} quoted with the quote it does not contain (MLflow's filters cannot escape one)", "use only one kind of quote"),
    ("mlflow_experiment_name", "", r"(?!(?s:.*)\\\Z)", f"it ends with a backslash: {LOOKUP}, where a final backslash would escape the closing quote", "remove the final backslash"),
    ("cloud_provider", "", r"(?:aws|azure|gcp)\Z", "choose one of aws, azure, gcp", "write it in lower case: aws, azure or gcp"),
    ("mlflow_gateway_url", "", r"https://[a-z0-9.-]+(?::[0-9]{1,5})?" + URL_PATH, "an https:// URL with a lower-case host and a plain path (no spaces, quotes, query string or user info)", "copy the gateway's invoke URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mlflow"),
    ("mlflow_gateway_url", "aws", r"https://[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?(?::|/|\Z)", "with cloud_provider aws the gateway host looks like <api-id>.execute-api.<region>.amazonaws.com (Amazon API Gateway)", "use that gateway's URL, or change cloud_provider"),
    ("mlflow_gateway_url", "azure", r"https://[a-z0-9-]+\.azure-api\.net(?::|/|\Z)", "with cloud_provider azure the gateway host looks like <name>.azure-api.net (Azure API Management)", "use that gateway's URL, or change cloud_provider"),
    ("mlflow_gateway_url", "gcp", r"https://[a-z0-9-]+(?:\.[a-z0-9-]+)*\.gateway\.dev(?::|/|\Z)", "with cloud_provider gcp the gateway host looks like <gateway>.<region>.gateway.dev (Google Cloud API Gateway)", "use that gateway's URL, or change cloud_provider"),
    ("mlflow_artifact_store_url", "", r"[a-z0-9]+://[a-z0-9.-]+" + URL_PATH, "a storage URL with a lower-case bucket/host and a plain path (no spaces, quotes or query string)", "use e.g. s3://my-bucket/mlflow/"),
    ("mlflow_artifact_store_url", "aws", r"s3://", "with cloud_provider aws Snowflake stages use s3:// URLs", "use e.g. s3://my-bucket/mlflow/, or change cloud_provider"),
    ("mlflow_artifact_store_url", "azure", r"azure://", "with cloud_provider azure Snowflake stages use azure:// URLs", "use e.g. azure://myaccount.blob.core.windows.net/mycontainer/mlflow/, or change cloud_provider"),
    ("mlflow_artifact_store_url", "azure", r"azure://[a-z0-9.-]+\.blob\.core\.windows\.net/", "an Azure stage URL names the storage account's blob endpoint", "use e.g. azure://myaccount.blob.core.windows.net/mycontainer/mlflow/"),
    ("mlflow_artifact_store_url", "gcp", r"gcs://", "with cloud_provider gcp Snowflake stages use gcs:// URLs", "use e.g. gcs://my-bucket/mlflow/, or change cloud_provider"),
    ("mlflow_artifact_store_url", "", r"(?s:.)*/\Z", "a stage location is a folder and ends with '/'", "add the final /"),
    (("aws_api_role_arn", "aws_storage_role_arn"), "", ROLE_ARN, "it must be an IAM role ARN", FROM_CONSOLE.format("arn:aws:iam::123456789012:role/mlflow")),
    (("aws_api_role_arn", "aws_storage_role_arn"), "azure|gcp", r"\Z", "it is only used with cloud_provider aws", OTHER_CLOUD),
    (("azure_tenant_id", "azure_ad_application_id"), "", GUID, "it must be a GUID", FROM_CONSOLE.format("8f1b2c3d-1234-4abc-9def-0123456789ab")),
    (("azure_tenant_id", "azure_ad_application_id"), "aws|gcp", r"\Z", "it is only used with cloud_provider azure", OTHER_CLOUD),
    ("gcp_audience", "", r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+\Z", "it must be a host-like name (lower-case letters, digits, dots, hyphens)", FROM_CONSOLE.format("my-api-1a2b3c.apigateway.my-project.cloud.goog")),
    ("gcp_audience", "aws|azure", r"\Z", "it is only used with cloud_provider gcp", OTHER_CLOUD),
    ("online_check", "", r"\s*(?:[Yy][Ee][Ss]|[Nn][Oo])\s*\Z", "answer yes or no", "write yes or no"),
]
# What a YAML config can give instead of one text value: (type, rule, fix).
NOT_ONE_TEXT = [
    (list, "it is a list, and cookiecutter would silently use its first item", "give one value, in quotes, on the key's own line"),
    (dict, "it is a mapping (key: value pairs), not one value", "give one value, in quotes, on the key's own line"),
    (type(None), "it is empty (null) in the config file", "write '' for an empty answer"),
    (bool, "it is true or false in the config file (YAML reads yes, no, on and off so)", "put the value in quotes in the config file"),
    ((int, float), "it is a number in the config file (YAML may have changed it: 1.10 is 1.1)", "put the value in quotes in the config file"),
    (object, "it is not text", "put the value in quotes in the config file"),
]
# fmt: on


def index(rules: list[tuple]) -> dict[str, list[tuple[str, Check]]]:
    """Each field's rules in table order, after TEMPLATE_SYNTAX (every field's first)."""
    checks: dict[str, list[tuple[str, Check]]] = {}
    for fields, when, *rule in rules:
        for field in (fields,) if isinstance(fields, str) else fields:
            checks.setdefault(field, [("", TEMPLATE_SYNTAX)]).append(
                (when, Check(*rule))
            )
    return checks


CHECKS = index(RULES)


def checks_of(field: str, cloud: str = "") -> list[Check]:
    """A field's rules, in order, with those of the chosen cloud."""
    return [
        check for when, check in CHECKS[field] if not when or re.fullmatch(when, cloud)
    ]


def prompt_regex(field: str) -> str:
    """One regex accepting exactly what the field's rules accept: prompts.yml's
    regex_validator (kedro applies it with re.match, as problem_with does)."""
    every = "".join(f"(?={check.pattern})" for check in checks_of(field))
    return rf"(?:\Z|{every})" if field in OPTIONAL else every


def prompt_error_message(field: str) -> str:
    """Every rule of the field with its fix: prompts.yml's error_message (kedro shows
    the same message whatever the answer, so it lists them all)."""
    checks = [*checks_of(field)[1:], TEMPLATE_SYNTAX]
    rules = "".join(f"- {check.rule}. Fix: {check.fix}.\n" for check in checks)
    return "One of these is the problem:\n" + rules


# One broken rule: what is wrong and how to fix it; `given` is the answer as given when
# cookiecutter changed it, `detail` what in this value breaks the rule.
Problem = namedtuple("Problem", "rule fix given detail", defaults=(None, ""))


def show(value: object) -> str:
    """The value as a newcomer can read it: escaped (control characters, look-alike
    letters and other non-ASCII become \\x.., \\u....) and cut to a readable length."""
    if isinstance(value, str):
        cut = value[:SHOWN_CHARACTERS]
        return ascii(cut) + ("" if cut == value else f"... ({len(value)} characters)")
    written = ascii(value)
    cut = written[:SHOWN_CHARACTERS] + (
        "..." if len(written) > SHOWN_CHARACTERS else ""
    )
    return f"{cut} ({type(value).__name__})"


# What the characters without a Unicode name are, by category.
UNNAMED = {"Cc": "CONTROL", "Cs": "SURROGATE", "Co": "PRIVATE USE", "Cn": "UNASSIGNED"}


def character_name(char: str) -> str:
    """Its Unicode name, or its kind: control characters have no name."""
    import unicodedata  # noqa: PLC0415 (only for a message)

    return unicodedata.name(char, UNNAMED.get(unicodedata.category(char), "UNNAMED"))


def named_characters(value: str, free_text: bool) -> str:
    """Name the first invisible (and, where only ASCII is allowed, non-ASCII)
    characters, so hidden characters and look-alike letters are obvious."""
    names = [
        f"U+{ord(char):04X} {character_name(char)}"
        for char in dict.fromkeys(value)
        if not char.isprintable() or not (free_text or char.isascii())
    ]
    return " It contains " + ", ".join(names[:3]) + "." if names else ""


def not_one_text(value: object) -> Problem | None:
    """Answers are single text values; YAML configs can turn them into other things."""
    if isinstance(value, str):
        return None
    rule, fix = next((r, f) for kind, r, f in NOT_ONE_TEXT if isinstance(value, kind))
    return Problem(rule, fix)


def problem_with(field: str, value: object, cloud: str = "") -> Problem | None:
    """The first rule this answer breaks, or None."""
    if field == "online_check" and isinstance(value, bool):
        return None  # YAML's yes and no
    if (problem := not_one_text(value)) or (field in OPTIONAL and value == ""):
        return problem
    for check in checks_of(field, cloud):
        if not re.match(check.pattern, value):
            named = named_characters(value, field in FREE_TEXT)
            return Problem(check.rule, check.fix, detail=named)
    return None


def template_defaults(answers: dict) -> dict:
    """cookiecutter.json as written, to tell the template's own expressions apart."""
    try:
        path = os.path.join(str(answers.get("_repo_dir", "")), "cookiecutter.json")
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (OSError, ValueError):
        return {}


def raw_answer_problems(answers: dict, raw: dict, defaults: dict) -> dict[str, Problem]:
    """Answers as given, before cookiecutter read them: lists, mappings and numbers,
    which the rendered answers no longer show (a list became its first item), and
    template syntax: the template's extension renders the placeholders of its own file
    names, so an answer made of one arrives rendered."""
    problems = {}
    for field, value in raw.items():
        own_default = value == defaults.get(field) or (
            not defaults and field in FOLLOW_PROJECT_NAME
        )
        if field.startswith("_") or own_default:
            continue
        if not isinstance(value, (str, bool, type(None))):  # YAML made it a number,
            problems[field] = not_one_text(value)._replace(given=value)  # a list...
        elif isinstance(value, str) and not re.match(TEMPLATE_SYNTAX.pattern, value):
            rendered = answers.get(field)
            became = "" if rendered == value else f" It became {show(rendered)}."
            rule, fix = TEMPLATE_SYNTAX.rule, TEMPLATE_SYNTAX.fix
            problems[field] = Problem(rule, fix, given=value, detail=became)
    return problems


def omegaconf_text(value: str) -> str:
    """What OmegaConf must read to give back `value` as it is: each `${` escaped as
    `\\${`, and the backslashes right before it doubled (OmegaConf halves those)."""
    return re.sub(r"(\\*)\$\{", lambda found: found[1] * 2 + "\\${", value)


def kedro_conf_carries(name: str) -> bool:
    """Can conf/base/snowflake.yml carry this name? Kedro merges the `snowflake:` block
    of two envs by reading the values it already resolved a second time, so a `${` in
    the name must then form a whole OmegaConf interpolation. OmegaConf comes with Kedro,
    so the Python that runs `kedro new` has it; plain cookiecutter without Kedro may
    not, and the project's own `kedro snowflake check` says it later."""
    if "${" not in name:
        return True
    try:
        from omegaconf import OmegaConf  # noqa: PLC0415
    except ImportError:
        return True
    try:
        OmegaConf.to_container(OmegaConf.unsafe_merge({"name": name}, {}))
    except Exception:  # noqa: BLE001 (OmegaConf's grammar errors have several types)
        return False
    return True


DB_SCHEMA = ("snowflake_database", "snowflake_schema")
DERIVED = ("it must be what cookiecutter.json makes of your answers", "do not set it; cookiecutter computes it")  # fmt: skip
TOO_LONG = ("the integration name made of snowflake_database and snowflake_schema is longer than 255 characters", "use a shorter snowflake_database or snowflake_schema")  # fmt: skip
AZURE_PAIR = ("the Azure API integration needs both the tenant id and the application id", "give both, or leave both empty (the SQL then shows placeholders)")  # fmt: skip
AZURE_IDS = ("cloud_provider", "azure_tenant_id", "azure_ad_application_id")
# Rules that read several answers, checked once those passed their own rules; the
# `__` values are made by cookiecutter.json, but a config file can override them.
# (field, the answers it reads, holds when, rule, fix)
# fmt: off
ACROSS = [
    ("azure_tenant_id", AZURE_IDS, lambda a: a["cloud_provider"] != "azure" or a["azure_tenant_id"] or not a["azure_ad_application_id"], *AZURE_PAIR),
    ("azure_ad_application_id", AZURE_IDS, lambda a: a["cloud_provider"] != "azure" or a["azure_ad_application_id"] or not a["azure_tenant_id"], *AZURE_PAIR),
    ("data_stage_name", ("mlflow_stage_name", "data_stage_name"), lambda a: a["data_stage_name"].upper() != a["mlflow_stage_name"].upper(), "it must differ from mlflow_stage_name (one is an external stage on the artifact store, the other the project's internal stage)", "choose another name, e.g. DEMO_DATA_STAGE"),
    ("__db", DB_SCHEMA, lambda a: a["__db"] == a["snowflake_database"].upper(), *DERIVED),
    ("__schema", DB_SCHEMA, lambda a: a["__schema"] == a["snowflake_schema"].upper(), *DERIVED),
    ("__fn_prefix", DB_SCHEMA, lambda a: a["__fn_prefix"] == f"{a['snowflake_database']}.{a['snowflake_schema']}.mlflow_".lower(), *DERIVED),
    ("__mlflow_stage", (*DB_SCHEMA, "mlflow_stage_name"), lambda a: a["__mlflow_stage"] == f"@{a['snowflake_database']}.{a['snowflake_schema']}.{a['mlflow_stage_name']}".upper(), *DERIVED),
    ("__data_stage", (*DB_SCHEMA, "data_stage_name"), lambda a: a["__data_stage"] == f"@{a['snowflake_database']}.{a['snowflake_schema']}.{a['data_stage_name']}".upper(), *DERIVED),
    ("__api_integration", DB_SCHEMA, lambda a: a["__api_integration"] == f"{a['snowflake_database']}_{a['snowflake_schema']}_MLFLOW_API_INTEGRATION".upper(), *DERIVED),
    ("__api_integration", DB_SCHEMA, lambda a: len(a["__api_integration"]) <= 255, *TOO_LONG),
    ("__storage_integration", DB_SCHEMA, lambda a: a["__storage_integration"] == f"{a['snowflake_database']}_{a['snowflake_schema']}_MLFLOW_STORAGE_INTEGRATION".upper(), *DERIVED),
    ("__storage_integration", DB_SCHEMA, lambda a: len(a["__storage_integration"]) <= 255, *TOO_LONG),
    ("__gateway_url", ("mlflow_gateway_url",), lambda a: a["__gateway_url"] == (a["mlflow_gateway_url"] or GATEWAY_PLACEHOLDER), *DERIVED),
    ("__artifact_store_url", ("mlflow_artifact_store_url", "cloud_provider"), lambda a: a["__artifact_store_url"] == (a["mlflow_artifact_store_url"] or STORE_PLACEHOLDERS[a["cloud_provider"]]), *DERIVED),
    ("mlflow_experiment_name", ("mlflow_experiment_name",), lambda a: kedro_conf_carries(a["mlflow_experiment_name"]), "a ${ in it must start a whole ${...} expression: Kedro reads the merged snowflake.yml twice, and the second reading takes ${ for OmegaConf's syntax", "close the ${...}, or leave out the $"),
    ("__experiment_name_conf", ("mlflow_experiment_name",), lambda a: a["__experiment_name_conf"] == omegaconf_text(a["mlflow_experiment_name"]), *DERIVED),
]
# fmt: on


def find_problems(answers: dict, raw: dict, defaults: dict) -> dict[str, Problem]:
    """Every broken rule, keyed by the field to fix (the first problem per field)."""
    problems = raw_answer_problems(answers, raw, defaults)
    cloud = answers.get("cloud_provider")
    cloud = cloud if isinstance(cloud, str) else ""
    for field in CHECKS:
        if field in problems or (
            field in FOLLOW_PROJECT_NAME and "project_name" in problems
        ):
            continue
        if problem := problem_with(field, answers.get(field), cloud):
            problems[field] = problem
    for field, reads, holds, rule, fix in ACROSS:
        if field in problems or any(read in problems for read in reads):
            continue
        if not holds(answers):
            problems[field] = Problem(rule, fix)
    order = [*answers, *problems]  # the order of cookiecutter.json
    return dict(sorted(problems.items(), key=lambda item: order.index(item[0])))


def report(problems: dict[str, Problem], answers: dict) -> str:
    """One line per bad field: field = value: rule. Fix: how."""
    lines = [
        f"snowflake-mlops: {len(problems)} answer(s) cannot be used; nothing was generated."
    ]
    for field, problem in problems.items():
        value = answers.get(field) if problem.given is None else problem.given
        lines.append(
            f"  {field} = {show(value)}: {problem.rule}.{problem.detail} "
            f"Fix: {problem.fix}."
        )
    return "\n".join(lines)


# Run in a detached Python: wait until cookiecutter has deleted the project folder, then
# remove the empty folders a nested repo_name (`a/b`) made above it.
REMOVE_EMPTY_PARENTS = """
import sys, time
from pathlib import Path
project, output = Path(sys.argv[1]), Path(sys.argv[2])
for _ in range(300):
    if not project.exists():
        break
    time.sleep(0.05)
for parent in project.parents:
    if parent == output or output not in parent.parents:
        break
    try:
        parent.rmdir()
    except OSError:
        break
"""


def clean_up_nested_folders(project, output) -> None:
    """Cookiecutter deletes only the project folder itself when this hook fails; a
    repo_name with a slash also created folders above it, which would stay behind."""
    if project.parent == output or output not in project.parents:
        return
    import subprocess  # noqa: PLC0415 (only for a refused nested repo_name)

    subprocess.Popen(
        [sys.executable, "-c", REMOVE_EMPTY_PARENTS, str(project), str(output)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main(answers: dict, raw: dict) -> int:
    """The pre-generation hook: 0, or 1 after one line per bad answer on stderr."""
    problems = find_problems(answers, raw, template_defaults(answers))
    if not problems:
        return 0
    print(report(problems, answers), file=sys.stderr)
    from pathlib import Path  # noqa: PLC0415 (only when refusing)

    output = Path(str(answers.get("_output_dir", ""))).resolve()
    clean_up_nested_folders(Path.cwd().resolve(), output)
    return 1
