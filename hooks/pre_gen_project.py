"""Pre-generation hook: refuse answers that would make a broken or unsafe project.

Runs with kedro's (or cookiecutter's) Python before any file is written. Stdlib only.
Answers are read once, as JSON data, and never spliced into code. Every bad answer gets
one line on stderr naming the field, the value (escaped and shortened), the rule and the
fix; then the hook exits 1 and cookiecutter deletes the half-made project folder.

Why the raw answers too: cookiecutter renders every answer as a Jinja template before
hooks run (an answer of ``{{ 7*7 }}`` arrives here as ``49``). The answers as given, before
that rendering, are in cookiecutter's ``_cookiecutter`` context; an answer that contained
template syntax is refused, so a config file can never smuggle a template into the project.
"""

from __future__ import annotations

import json
import keyword
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
RAW_ANSWERS = json.loads(r"""{{ _cookiecutter | default({}) | tojson }}""")

CLOUDS = ("aws", "azure", "gcp")
MAX_IDENTIFIER = 255
SHOWN_CHARACTERS = 60
# Built from pieces so that this file holds no template syntax of its own.
TEMPLATE_MARKERS = ("{" + "{", "{" + "%", "{" + "#")

# Snowflake's reserved keywords (docs.snowflake.com/en/sql-reference/reserved-keywords),
# plus ASC and DESC, which the same page says are reserved as well.
RESERVED_WORDS = frozenset(
    """
    ACCOUNT ALL ALTER AND ANY AS ASC BETWEEN BY CASE CAST CHECK COLUMN CONNECT CONNECTION
    CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP
    CURRENT_USER DATABASE DELETE DESC DISTINCT DROP ELSE EXISTS FALSE FOLLOWING FOR FROM
    FULL GRANT GROUP GSCLUSTER HAVING ILIKE IN INCREMENT INNER INSERT INTERSECT INTO IS
    ISSUE JOIN LATERAL LEFT LIKE LOCALTIME LOCALTIMESTAMP MINUS NATURAL NOT NULL OF ON OR
    ORDER ORGANIZATION QUALIFY REGEXP REVOKE RIGHT RLIKE ROW ROWS SAMPLE SCHEMA SELECT SET
    SOME START TABLE TABLESAMPLE THEN TO TRIGGER TRUE TRY_CAST UNION UNIQUE UPDATE USING
    VALUES VIEW WHEN WHENEVER WHERE WITH
    """.split()
)

# Import names the generated project needs; a package with one of these names would
# shadow the real library (a package called `snowflake` hides snowflake.snowpark).
SHADOWED_IMPORTS = frozenset(
    "click kedro kedro_datasets mlflow numpy pandas pydantic pytest sklearn snowflake "
    "tests yaml".split()
)

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
ACCOUNT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9_]+")
ACCOUNT_LOCATOR = re.compile(
    r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+(-[A-Za-z0-9]+)*)?(\.(aws|azure|gcp))?"
)
USER = re.compile(r"[A-Za-z_][A-Za-z0-9_$.@-]{0,254}")
PROJECT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 _-]{1,63}")
REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
PYTHON_PACKAGE = re.compile(r"[a-z_][a-z0-9_]{1,99}")
KEDRO_VERSION = re.compile(r"1\.[0-9]+\.[0-9]+((a|b|rc|\.dev|\.post)[0-9]+)*")
EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _./-]{0,199}")
GUID = re.compile(r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
AWS_ROLE_ARN = re.compile(
    r"arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}"
)
GCP_AUDIENCE = re.compile(
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+"
)
# URLs end up inside SQL string literals and YAML: a closed character set (no quotes,
# spaces, backslashes, semicolons, query strings or user info) keeps them inert there.
URL_PATH = r"(/[A-Za-z0-9._~%/-]*)?"
HTTPS_URL = re.compile(r"https://(?P<host>[a-z0-9.-]+)(:[0-9]{1,5})?" + URL_PATH)
STORE_URL = re.compile(r"(?P<scheme>[a-z0-9]+)://(?P<host>[a-z0-9.-]+)" + URL_PATH)
GATEWAY_HOSTS = {
    "aws": (
        re.compile(r"[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com(\.cn)?"),
        "<api-id>.execute-api.<region>.amazonaws.com (Amazon API Gateway)",
    ),
    "azure": (
        re.compile(r"[a-z0-9-]+\.azure-api\.net"),
        "<name>.azure-api.net (Azure API Management)",
    ),
    "gcp": (
        re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.gateway\.dev"),
        "<gateway>.<region>.gateway.dev (Google Cloud API Gateway)",
    ),
}
GATEWAY_PLACEHOLDER = "<MLFLOW_GATEWAY_URL>"
# The derived store URL is the answer or a `<...>` placeholder: never quotes or spaces.
STORE_PLACEHOLDER = re.compile(r"[a-z0-9]+://[A-Za-z0-9<>._~%/-]+")
STORE_SCHEMES = {"aws": "s3", "azure": "azure", "gcp": "gcs"}
STORE_EXAMPLES = {
    "aws": "s3://my-bucket/mlflow/",
    "azure": "azure://myaccount.blob.core.windows.net/mycontainer/mlflow/",
    "gcp": "gcs://my-bucket/mlflow/",
}
CLOUD_ONLY_FIELDS = {
    "aws_api_role_arn": "aws",
    "aws_storage_role_arn": "aws",
    "azure_tenant_id": "azure",
    "azure_ad_application_id": "azure",
    "gcp_audience": "gcp",
}
FUNCTIONS = (
    "experiment_get_by_name",
    "run_create",
    "run_update",
    "run_log_metric",
    "run_log_parameter",
)


class Problem(Exception):
    """One broken rule: what is wrong and how to fix it."""

    def __init__(self, rule: str, fix: str, given: object = None) -> None:
        super().__init__(rule)
        self.rule = rule
        self.fix = fix
        # The answer as typed, when it differs from what cookiecutter made of it.
        self.given = given


def show(value: object) -> str:
    """The value as a newcomer can read it: escaped (control characters, look-alike
    letters and other non-ASCII become \\x.., \\u....) and cut to a readable length."""
    if not isinstance(value, str):
        written = ascii(value)
        if len(written) > SHOWN_CHARACTERS:
            written = written[:SHOWN_CHARACTERS] + "..."
        return f"{written} ({type(value).__name__})"
    shown = ascii(value[:SHOWN_CHARACTERS])
    if len(value) > SHOWN_CHARACTERS:
        shown += f"... ({len(value)} characters)"
    return shown


def foreign_characters(value: str) -> str:
    """Name the first non-ASCII or invisible characters, so look-alikes are obvious."""
    names = []
    for char in dict.fromkeys(value):
        if not (char.isascii() and char.isprintable()):
            name = unicodedata.name(char, "unnamed character")
            names.append(f"U+{ord(char):04X} {name}")
    if not names:
        return ""
    return " It contains " + ", ".join(names[:3]) + "."


def text(value: object) -> str:
    """Answers must be text; YAML configs can turn `yes`, `123` or nothing into others."""
    if value is None:
        raise Problem(
            "it is empty (null) in the config file", "write '' for an empty answer"
        )
    if not isinstance(value, str):
        raise Problem("it is not text", "put the value in quotes in the config file")
    return value


def identifier(value: object) -> str:
    """An unquoted Snowflake identifier that is not a reserved word."""
    value = text(value)
    if not value:
        raise Problem("it is empty", "give a name such as MLOPS_DEMO")
    if len(value) > MAX_IDENTIFIER:
        raise Problem(
            f"it is longer than {MAX_IDENTIFIER} characters", "use a shorter name"
        )
    if not IDENTIFIER.fullmatch(value):
        raise Problem(
            "an unquoted Snowflake identifier starts with a letter or underscore, then "
            "only letters, digits, _ or $ (ASCII)." + foreign_characters(value),
            "use a name such as MLOPS_DEMO",
        )
    if value.upper() in RESERVED_WORDS:
        raise Problem(
            f"{value.upper()} is a Snowflake reserved word",
            f"add a prefix or suffix, e.g. MY_{value.upper()}",
        )
    return value


def account(value: object) -> str:
    """`orgname-account_name`, a legacy locator (optionally `.region[.cloud]`), or empty."""
    value = text(value)
    if not value:
        return value
    lowered = value.lower()
    if "snowflakecomputing" in lowered or "://" in value:
        raise Problem(
            "give the account identifier, not its URL",
            "drop https:// and .snowflakecomputing.com, e.g. myorg-myaccount",
        )
    if len(value) > MAX_IDENTIFIER or not (
        ACCOUNT_NAME.fullmatch(value) or ACCOUNT_LOCATOR.fullmatch(value)
    ):
        raise Problem(
            "an account identifier is orgname-account_name or a legacy locator with "
            "optional region and cloud (ASCII)." + foreign_characters(value),
            "use e.g. myorg-myaccount or xy12345.eu-west-1.aws, or leave it empty to work "
            "offline",
        )
    return value


def user(value: object) -> str:
    """A Snowflake login name, or empty (set SNOWFLAKE_USER later)."""
    value = text(value)
    if value and not USER.fullmatch(value):
        raise Problem(
            "a user name starts with a letter or underscore, then letters, digits, "
            "_ $ . @ or - (at most 255, ASCII)." + foreign_characters(value),
            "use your Snowflake login name, e.g. JANE_DOE, or leave it empty",
        )
    return value


def project_name(value: object) -> str:
    """Kedro's project name rule, kept ASCII so the derived names are plain."""
    value = text(value)
    if not PROJECT_NAME.fullmatch(value):
        raise Problem(
            "2-64 characters: a letter first, then letters, digits, spaces, hyphens or "
            "underscores (ASCII)." + foreign_characters(value),
            "use a name such as 'Snowflake MLOps Demo'",
        )
    return value


def repo_name(value: object) -> str:
    """The project folder: one plain path component."""
    value = text(value)
    if not REPO_NAME.fullmatch(value) or value.endswith("."):
        raise Problem(
            "a folder name of letters, digits, '.', '_' or '-' (no slashes, at most 100)."
            + foreign_characters(value),
            "choose a project_name made of letters, digits, spaces and hyphens",
        )
    return value


def python_package(value: object) -> str:
    """An importable package name that shadows nothing the project imports."""
    value = text(value)
    if not PYTHON_PACKAGE.fullmatch(value):
        raise Problem(
            "a Python package name is 2-100 lower-case letters, digits or underscores, "
            "not starting with a digit." + foreign_characters(value),
            "choose a project_name that starts with a letter",
        )
    if keyword.iskeyword(value) or value in sys.stdlib_module_names:
        raise Problem(
            "it clashes with a Python keyword or standard-library module",
            "choose a different project_name",
        )
    if value in SHADOWED_IMPORTS:
        raise Problem(
            "it would shadow a library the project imports",
            "choose a different project_name",
        )
    return value


def kedro_version(value: object) -> str:
    """The Kedro version `kedro new` passes; it is written into pyproject.toml."""
    value = text(value)
    if not KEDRO_VERSION.fullmatch(value):
        raise Problem(
            "a Kedro 1.x release number such as 1.7.0",
            "remove kedro_version from the config",
        )
    return value


def experiment_name(value: object) -> str:
    """The MLflow experiment: non-empty, printable, bounded, safe inside YAML quotes."""
    value = text(value)
    if not EXPERIMENT_NAME.fullmatch(value):
        raise Problem(
            "1-200 characters: letters, digits, spaces, _ . / -, starting with a letter "
            "or digit (ASCII)." + foreign_characters(value),
            "use a name such as demo-mlops",
        )
    return value


def cloud_provider(value: object) -> str:
    """Where the MLflow gateway and artifact store live."""
    value = text(value)
    if value not in CLOUDS:
        raise Problem(
            "choose one of aws, azure, gcp",
            f"write {value.strip().lower()!r}"
            if value.strip().lower() in CLOUDS
            else "write aws, azure or gcp (lower case)",
        )
    return value


def yes_no(value: object) -> str:
    """`yes` or `no` (a YAML config may also give true/false)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    value = text(value)
    if value.strip().lower() not in ("yes", "no"):
        raise Problem("answer yes or no", "write yes or no")
    return value


def gateway_url(value: object, cloud: str) -> str:
    """Empty (a placeholder is written) or the https URL of the cloud's API gateway."""
    value = text(value)
    if not value:
        return value
    match = HTTPS_URL.fullmatch(value)
    if not match:
        raise Problem(
            "an https:// URL with a lower-case host and a plain path (no spaces, quotes, "
            "query string or user info)." + foreign_characters(value),
            "copy the gateway's invoke URL, e.g. "
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mlflow",
        )
    pattern, described = GATEWAY_HOSTS.get(cloud, (None, ""))
    if pattern is not None and not pattern.fullmatch(match["host"]):
        raise Problem(
            f"with cloud_provider {cloud} the gateway host looks like {described}",
            "use that gateway's URL, or change cloud_provider",
        )
    return value


def artifact_store_url(value: object, cloud: str) -> str:
    """Empty (a placeholder is written) or the cloud's storage URL for MLflow artifacts."""
    value = text(value)
    if not value:
        return value
    scheme = STORE_SCHEMES.get(cloud, "")
    example = STORE_EXAMPLES.get(cloud, "")
    match = STORE_URL.fullmatch(value)
    if not match:
        raise Problem(
            "a storage URL with a lower-case bucket/host and a plain path (no spaces, "
            "quotes or query string)." + foreign_characters(value),
            f"use e.g. {example}",
        )
    if scheme and match["scheme"] != scheme:
        raise Problem(
            f"with cloud_provider {cloud} Snowflake stages use {scheme}:// URLs",
            f"use e.g. {example}, or change cloud_provider",
        )
    if cloud == "azure" and not match["host"].endswith(".blob.core.windows.net"):
        raise Problem(
            "an Azure stage URL names the storage account's blob endpoint",
            f"use e.g. {example}",
        )
    if not value.endswith("/"):
        raise Problem(
            "a stage location is a folder and ends with '/'", f"write {value}/"
        )
    return value


def pattern_or_empty(pattern: re.Pattern, described: str, example: str) -> Callable:
    """A validator for an optional value with a fixed format."""

    def validate(value: object) -> str:
        value = text(value)
        if value and not pattern.fullmatch(value):
            raise Problem(
                f"it must be {described}." + foreign_characters(value),
                f"copy it from your cloud console, e.g. {example}, or leave it empty",
            )
        return value

    return validate


OPTIONAL_FORMATS = {
    "aws_api_role_arn": pattern_or_empty(
        AWS_ROLE_ARN, "an IAM role ARN", "arn:aws:iam::123456789012:role/mlflow-api"
    ),
    "aws_storage_role_arn": pattern_or_empty(
        AWS_ROLE_ARN, "an IAM role ARN", "arn:aws:iam::123456789012:role/mlflow-store"
    ),
    "azure_tenant_id": pattern_or_empty(
        GUID, "a GUID", "8f1b2c3d-1234-4abc-9def-0123456789ab"
    ),
    "azure_ad_application_id": pattern_or_empty(
        GUID, "a GUID", "0a1b2c3d-5678-4abc-9def-0123456789ab"
    ),
    "gcp_audience": pattern_or_empty(
        GCP_AUDIENCE,
        "a host-like name (lower-case letters, digits, dots, hyphens)",
        "my-api-1a2b3c.apigateway.my-project.cloud.goog",
    ),
}

# Objects every account already has: sql/ creates and grants on the project's objects and
# teardown drops them, so these must never be the project's names.
SYSTEM_OBJECTS = {
    "snowflake_role": frozenset(
        "ACCOUNTADMIN GLOBALORGADMIN ORGADMIN PUBLIC SECURITYADMIN SYSADMIN USERADMIN".split()
    ),
    "snowflake_database": frozenset(("SNOWFLAKE", "SNOWFLAKE_SAMPLE_DATA")),
    "snowflake_schema": frozenset(("INFORMATION_SCHEMA",)),
}

SNOWFLAKE_IDENTIFIERS = (
    "snowflake_role",
    "snowflake_warehouse",
    "snowflake_database",
    "snowflake_schema",
    "mlflow_stage_name",
    "data_stage_name",
)


def template_defaults() -> dict:
    """cookiecutter.json as written, to tell the template's own expressions apart."""
    try:
        path = Path(ANSWERS.get("_repo_dir", "")) / "cookiecutter.json"
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def template_syntax_problems(raw: dict, defaults: dict) -> dict[str, Problem]:
    """Answers whose text (before cookiecutter rendered it) held template syntax."""
    problems = {}
    for field, value in raw.items():
        if not isinstance(value, str) or field.startswith("_"):
            continue
        own_default = value == defaults.get(field) or (
            not defaults and field in ("repo_name", "python_package")
        )
        if any(marker in value for marker in TEMPLATE_MARKERS) and not own_default:
            problems[field] = Problem(
                "it contains template syntax, which cookiecutter evaluated to "
                f"{show(ANSWERS.get(field))}",
                "answer with plain text",
                given=value,
            )
    return problems


def check_field(problems: dict, field: str, validate: Callable, *args: object) -> None:
    """Run one validator and keep its problem under the field's name."""
    if field in problems:
        return
    try:
        validate(ANSWERS.get(field), *args)
    except Problem as problem:
        problems[field] = problem


def derived_problems(answers: dict) -> dict[str, Problem]:
    """The `__` names cookiecutter.json derives (a config can override them): each must be
    a valid Snowflake name qualified by the database and schema answered."""
    db = str(answers.get("snowflake_database", "")).upper()
    schema = str(answers.get("snowflake_schema", "")).upper()
    problems: dict[str, Problem] = {}
    derived_from_answers = {
        "__db": db,
        "__schema": schema,
        "__fn_prefix": f"{db}.{schema}.MLFLOW_",
        "__mlflow_stage": f"@{db}.{schema}.{str(answers.get('mlflow_stage_name')).upper()}",
        "__data_stage": f"@{db}.{schema}.{str(answers.get('data_stage_name')).upper()}",
    }
    for field, expected in derived_from_answers.items():
        if str(answers.get(field, "")).upper() != expected:
            problems[field] = Problem(
                f"it must be derived from your answers ({expected.lower()})",
                f"do not set {field}; cookiecutter computes it",
            )
    prefix = str(answers.get("__fn_prefix", ""))
    for function in FUNCTIONS:
        parts = (prefix + function).split(".")
        if len(parts) != 3 or any(len(part) > MAX_IDENTIFIER for part in parts):
            problems["__fn_prefix"] = Problem(
                f"the function name {show(prefix + function)} is not database.schema.name "
                f"with parts of at most {MAX_IDENTIFIER} characters",
                "use a shorter snowflake_database or snowflake_schema",
            )
            break
    gateway = answers.get("mlflow_gateway_url") or GATEWAY_PLACEHOLDER
    if answers.get("__gateway_url") != gateway:
        problems["__gateway_url"] = Problem(
            f"it must be mlflow_gateway_url or the placeholder ({show(gateway)})",
            "do not set __gateway_url; cookiecutter computes it",
        )
    store = str(answers.get("__artifact_store_url", ""))
    given_store = answers.get("mlflow_artifact_store_url")
    if (given_store and store != given_store) or not STORE_PLACEHOLDER.fullmatch(store):
        problems["__artifact_store_url"] = Problem(
            "it must be mlflow_artifact_store_url or the cloud's placeholder",
            "do not set __artifact_store_url; cookiecutter computes it",
        )
    for field in ("__api_integration", "__storage_integration"):
        try:
            identifier(answers.get(field))
        except Problem as problem:
            problems[field] = Problem(
                f"the derived integration name is invalid: {problem.rule}",
                "use a shorter snowflake_database or snowflake_schema",
            )
    return problems


def cross_field_problems(answers: dict, problems: dict) -> None:
    """Rules that need two answers at once."""
    for field, names in SYSTEM_OBJECTS.items():
        value = answers.get(field)
        if field not in problems and isinstance(value, str) and value.upper() in names:
            problems[field] = Problem(
                f"{value.upper()} is a Snowflake system object; the setup scripts would "
                "grant on it and the teardown script would drop it",
                "choose a name for an object of this project alone",
            )
    cloud = answers.get("cloud_provider")
    for field, owner in CLOUD_ONLY_FIELDS.items():
        if field not in problems and answers.get(field) and cloud != owner:
            problems[field] = Problem(
                f"it is only used with cloud_provider {owner} (you chose {cloud})",
                "leave it empty, or change cloud_provider",
            )
    tenant, application = (
        answers.get("azure_tenant_id"),
        answers.get("azure_ad_application_id"),
    )
    if cloud == "azure" and bool(tenant) != bool(application):
        missing = "azure_ad_application_id" if tenant else "azure_tenant_id"
        problems.setdefault(
            missing,
            Problem(
                "the Azure API integration needs both the tenant id and the application id",
                "give both, or leave both empty (the SQL then shows placeholders)",
            ),
        )
    mlflow_stage, data_stage = (
        answers.get("mlflow_stage_name"),
        answers.get("data_stage_name"),
    )
    if (
        "data_stage_name" not in problems
        and isinstance(mlflow_stage, str)
        and isinstance(data_stage, str)
        and mlflow_stage.upper() == data_stage.upper()
    ):
        problems["data_stage_name"] = Problem(
            "it must differ from mlflow_stage_name (one is an external stage on the "
            "artifact store, the other the project's internal stage)",
            "choose another name, e.g. DEMO_DATA_STAGE",
        )


def find_problems(answers: dict, raw: dict, defaults: dict) -> dict[str, Problem]:
    """Every broken rule, keyed by the field to fix (first problem per field)."""
    problems = template_syntax_problems(raw, defaults)
    check_field(problems, "project_name", project_name)
    # repo_name/python_package follow project_name unless set explicitly; a bad
    # project_name is reported once, on itself.
    if "project_name" not in problems:
        check_field(problems, "repo_name", repo_name)
        check_field(problems, "python_package", python_package)
    for field in SNOWFLAKE_IDENTIFIERS:
        check_field(problems, field, identifier)
    check_field(problems, "snowflake_account", account)
    check_field(problems, "snowflake_user", user)
    check_field(problems, "mlflow_experiment_name", experiment_name)
    check_field(problems, "kedro_version", kedro_version)
    check_field(problems, "cloud_provider", cloud_provider)
    check_field(problems, "online_check", yes_no)
    cloud = answers.get("cloud_provider")
    check_field(problems, "mlflow_gateway_url", gateway_url, cloud)
    check_field(problems, "mlflow_artifact_store_url", artifact_store_url, cloud)
    for field, validate in OPTIONAL_FORMATS.items():
        check_field(problems, field, validate)
    cross_field_problems(answers, problems)
    sources = (
        "snowflake_database",
        "snowflake_schema",
        "mlflow_stage_name",
        "data_stage_name",
    )
    if not any(field in problems for field in sources):
        for field, problem in derived_problems(answers).items():
            problems.setdefault(field, problem)
    return problems


def report(problems: dict[str, Problem], answers: dict) -> str:
    """One line per bad field: field = value: rule. Fix: how."""
    lines = [
        f"snowflake-mlops: {len(problems)} answer(s) cannot be used; nothing was generated."
    ]
    for field, problem in problems.items():
        value = answers.get(field) if problem.given is None else problem.given
        rule = problem.rule.rstrip(".")
        lines.append(f"  {field} = {show(value)}: {rule}. Fix: {problem.fix}.")
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


def clean_up_nested_folders(project: Path, output: Path) -> None:
    """Cookiecutter deletes only the project folder itself when this hook fails; a
    repo_name with a slash also created folders above it, which would stay behind."""
    if project.parent == output or output not in project.parents:
        return
    subprocess.Popen(
        [sys.executable, "-c", REMOVE_EMPTY_PARENTS, str(project), str(output)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main() -> int:
    problems = find_problems(ANSWERS, RAW_ANSWERS, template_defaults())
    if not problems:
        return 0
    print(report(problems, ANSWERS), file=sys.stderr)
    output = Path(str(ANSWERS.get("_output_dir", ""))).resolve()
    clean_up_nested_folders(Path.cwd().resolve(), output)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
