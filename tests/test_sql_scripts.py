"""The generated sql/ folder, rendered for each cloud: it splits with Snowflake's own
splitter, creates every object conf/ names exactly once, idempotently, under the role
that should own it, and the re-runnable teardown drops them all. (No Snowflake account
exists here, so the scripts are checked as text; their JavaScript runs for real in
test_translators.py.)"""

from __future__ import annotations

import re
from io import StringIO

import pytest
import yaml
from snowflake.connector.util_text import split_statements
from support.baking import bake

from kedro_snowflake_mlops.objects.inventory import split_statements as plugin_split

SETUP_SCRIPTS = [
    "01_role_and_grants.sql",
    "02_warehouse_database_schema_stages.sql",
    "03_api_integration.sql",
    "04_translators.sql",
    "05_external_functions.sql",
    "06_storage_integration_and_stage.sql",
    "07_task_graph.sql",
    "80_external_access.sql",
]
ALL_SCRIPTS = [*SETUP_SCRIPTS, "90_smoke_test.sql", "99_teardown.sql"]
SCRIPTS_WITH_PLACEHOLDERS = {
    "03_api_integration.sql",
    "05_external_functions.sql",
    "06_storage_integration_and_stage.sql",
    "07_task_graph.sql",
    "80_external_access.sql",
}
API_PROVIDERS = {
    "aws": "aws_api_gateway",
    "azure": "azure_api_management",
    "gcp": "google_api_gateway",
}
STORAGE_PROVIDERS = {"aws": "'S3'", "azure": "'AZURE'", "gcp": "'GCS'"}
# The contract between the tracking code and sql/ (team brief, names contract).
SIGNATURES = {
    "experiment_get_by_name": ["EXPERIMENT_NAME VARCHAR"],
    "run_create": [
        "EXPERIMENT_ID VARCHAR",
        "RUN_NAME VARCHAR",
        "START_TIME_MS NUMBER",
        "TAGS VARIANT",
    ],
    "run_update": ["RUN_ID VARCHAR", "STATUS VARCHAR", "END_TIME_MS NUMBER"],
    "run_log_metric": [
        "RUN_ID VARCHAR",
        "KEY VARCHAR",
        "VALUE FLOAT",
        "STEP NUMBER",
        "TIMESTAMP_MS NUMBER",
    ],
    "run_log_parameter": ["RUN_ID VARCHAR", "KEY VARCHAR", "VALUE VARCHAR"],
}
# MLflow's runs/log-batch limits: a batch must never be bigger.
MAX_ROWS = {"run_log_metric": 1000, "run_log_parameter": 100}
TYPES = (
    "EXTERNAL FUNCTION|FUNCTION|API INTEGRATION|STORAGE INTEGRATION|"
    "EXTERNAL ACCESS INTEGRATION|INTEGRATION|NETWORK RULE|SECRET|STAGE|SCHEMA|"
    "DATABASE|WAREHOUSE|ROLE"
)
CREATE = re.compile(
    rf"^CREATE\s+(?P<replace>OR\s+REPLACE\s+)?(?P<type>{TYPES})\s+"
    r"(?P<if_not_exists>IF\s+NOT\s+EXISTS\s+)?(?P<name>[\w.$]+)",
    re.IGNORECASE,
)
DROP = re.compile(
    rf"^DROP\s+(?P<type>{TYPES})\s+IF\s+EXISTS\s+(?P<name>[\w.$]+)", re.IGNORECASE
)
# Objects that live in the account, not in a database.
ACCOUNT_LEVEL = {
    "ROLE",
    "WAREHOUSE",
    "DATABASE",
    "API INTEGRATION",
    "STORAGE INTEGRATION",
    "EXTERNAL ACCESS INTEGRATION",
    "INTEGRATION",
}
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")
FILLED_ANSWERS = {
    "aws": {
        "aws_api_role_arn": "arn:aws:iam::123456789012:role/snowflake-mlflow-api",
        "aws_storage_role_arn": "arn:aws:iam::123456789012:role/snowflake-mlflow-s3",
        "mlflow_artifact_store_url": "s3://my-bucket/mlflow/",
    },
    "azure": {
        "azure_tenant_id": "11111111-2222-3333-4444-555555555555",
        "azure_ad_application_id": "66666666-7777-8888-9999-000000000000",
        "mlflow_artifact_store_url": "azure://acct.blob.core.windows.net/mlflow/artifacts/",
    },
    "gcp": {
        "gcp_audience": "my-api-1a2b3c.apigateway.my-project.cloud.goog",
        "mlflow_artifact_store_url": "gcs://my-bucket/mlflow/",
    },
}
GATEWAYS = {
    "aws": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/mlflow",
    "azure": "https://my-apim.azure-api.net/mlflow",
    "gcp": "https://my-gateway-1a2b3c4d.ew.gateway.dev/mlflow",
}


def statements(text: str) -> list[str]:
    """Non-empty statements, comments removed, split by snowflake-connector."""
    found = (
        s.strip() for s, _ in split_statements(StringIO(text), remove_comments=True)
    )
    return [s for s in found if s.rstrip(";").strip()]


class RenderedSql:
    """The sql/ folder and conf/base/snowflake.yml of one baked project."""

    def __init__(self, project, cloud: str) -> None:
        self.project = project
        self.cloud = cloud
        self.dir = project.path / "sql"
        self.text = {
            p.name: p.read_text(encoding="utf-8")
            for p in sorted(self.dir.glob("*.sql"))
        }
        self.statements = {name: statements(text) for name, text in self.text.items()}
        conf = yaml.safe_load((project.path / "conf/base/snowflake.yml").read_text())
        self.mlflow = conf["snowflake"]["mlflow"]

    def headers(self, pattern: re.Pattern, scripts) -> list[tuple[str, str, str]]:
        """(script, TYPE, NAME) of every statement matching pattern, in run order."""
        found = []
        for script in scripts:
            for statement in self.statements[script]:
                match = pattern.match(statement)
                if match:
                    kind = " ".join(match["type"].upper().split())
                    found.append((script, kind, match["name"].upper()))
        return found

    def created(self) -> list[tuple[str, str, str]]:
        return self.headers(CREATE, SETUP_SCRIPTS)

    def dropped(self) -> list[tuple[str, str, str]]:
        return self.headers(DROP, ["99_teardown.sql"])

    def expected_objects(self) -> set[str]:
        """Everything conf/ names, the translators, and the two integrations."""
        context = self.project.context
        functions = list(self.mlflow["functions"].values())
        translators = [
            f"{function}_{side}_translator"
            for function in functions
            for side in ("request", "response")
        ]
        return {
            name.upper()
            for name in [
                *functions,
                *translators,
                self.mlflow["stage"].removeprefix("@"),
                context["__api_integration"],
                context["__storage_integration"],
            ]
        }


def bake_sql(cookies, cloud: str, **answers: str) -> RenderedSql:
    return RenderedSql(bake(cookies, cloud_provider=cloud, **answers), cloud)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(("aws", {}), id="aws-defaults"),
        pytest.param(("azure", {}), id="azure-defaults"),
        # Other names, so nothing can be hard-coded to DEMO.DEMO.
        pytest.param(
            ("gcp", {"snowflake_database": "Analytics", "snowflake_schema": "Ml_Ops"}),
            id="gcp-other-names",
        ),
    ],
)
def rendered(request, cookies_session) -> RenderedSql:
    cloud, answers = request.param
    return bake_sql(cookies_session, cloud, **answers)


def test_exactly_the_chosen_clouds_scripts_are_left(rendered):
    assert sorted(rendered.text) == ALL_SCRIPTS
    assert (rendered.dir / "README.md").is_file()


def test_every_script_splits_and_is_fully_rendered(rendered):
    for script, text in rendered.text.items():
        assert rendered.statements[script], f"{script} has no statement"
        for marker in ("{{", "{%", "{#", "cookiecutter"):
            assert marker not in text, f"{script} holds unrendered {marker!r}"


def test_every_script_starts_with_role_creates_and_expects(rendered):
    for script, text in rendered.text.items():
        header = text.split("\n\n", 1)[0]
        assert header.startswith("-- ="), script
        for heading in ("Role needed", "Expects"):
            assert heading in header, f"{script}: no {heading!r} in its header"
        assert "Creates" in header or "Drops" in header, script


def test_every_create_is_idempotent_and_on_one_line(rendered):
    creates = [
        (script, statement)
        for script in SETUP_SCRIPTS
        for statement in rendered.statements[script]
        if statement.upper().startswith("CREATE")
    ]
    assert len(creates) == len(rendered.created()), "a CREATE header is not parsed"
    for script, statement in creates:
        match = CREATE.match(statement.splitlines()[0])
        assert match, f"{script}: CREATE header not on one line: {statement[:80]}"
        assert match["replace"] or match["if_not_exists"], f"{script}: {statement[:80]}"


def test_each_object_is_created_by_exactly_one_script(rendered):
    created = [name for _, _, name in rendered.created()]
    for name in rendered.expected_objects():
        assert created.count(name) == 1, f"{name} created {created.count(name)} times"


# --- 99_teardown.sql ------------------------------------------------------------------
# Snowflake documents that DROP DATABASE drops everything in it; it does not document
# per-object drops inside a database that is being dropped. So the teardown drops the
# account-level objects by name, the rest through their database, and nothing twice.


def database_of(kind: str, name: str) -> str | None:
    """The database holding a schema-level object (names in sql/ are qualified)."""
    if kind in ACCOUNT_LEVEL:
        return None
    assert "." in name, f"{kind} {name} is not qualified with its database"
    return name.split(".", 1)[0]


def test_teardown_drops_every_object_directly_or_through_its_database(rendered):
    dropped = {(kind, name) for _, kind, name in rendered.dropped()}
    # DROP INTEGRATION drops an integration of any kind (the external access one).
    dropped |= {
        (k, n) for _, k, n in rendered.created() if ("INTEGRATION", n) in dropped
    }
    for _, kind, name in rendered.created():
        database = database_of(kind, name)
        if database is None:
            assert (kind, name) in dropped, f"teardown does not drop {kind} {name}"
        else:
            assert ("DATABASE", database) in dropped, f"{kind} {name} is left behind"


def test_teardown_drops_nothing_inside_a_database_it_drops(rendered):
    dropped = [(kind, name) for _, kind, name in rendered.dropped()]
    for kind, name in dropped:
        database = database_of(kind, name)
        assert database is None or ("DATABASE", database) not in dropped, (
            f"DROP {kind} {name}: DROP DATABASE {database} already drops it"
        )


def test_teardown_drops_the_integrations_before_the_database(rendered):
    order = [(kind, name) for _, kind, name in rendered.dropped()]
    context = rendered.project.context
    database = order.index(("DATABASE", context["__db"].upper()))
    for kind, key in (
        ("API INTEGRATION", "__api_integration"),
        ("STORAGE INTEGRATION", "__storage_integration"),
    ):
        assert order.index((kind, context[key].upper())) < database, kind


def test_teardown_can_run_twice(rendered):
    """Only USE ROLE and DROP ... IF EXISTS: a second run finds nothing and succeeds."""
    for statement in rendered.statements["99_teardown.sql"]:
        assert re.match(r"USE ROLE \w+;?$", statement) or DROP.match(statement), (
            f"not re-runnable: {statement[:80]}"
        )


def test_teardown_drops_the_role_last(rendered):
    *_, last = rendered.statements["99_teardown.sql"]
    role = rendered.project.context["snowflake_role"].upper()
    assert DROP.match(last) and DROP.match(last)["type"].upper() == "ROLE", last
    assert DROP.match(last)["name"].upper() == role


# --- who creates (and so owns) what ------------------------------------------------


def roles_at_each_statement(rendered, scripts) -> list[tuple[str, str | None, str]]:
    """(script, current role, statement) in run order, following each script's USE ROLE
    statements as Snowflake would (a script starts in whatever role the session has)."""
    found = []
    for script in scripts:
        role = None
        for statement in rendered.statements[script]:
            use = re.match(r"USE ROLE (\w+)", statement, re.IGNORECASE)
            if use:
                role = use[1].upper()
            found.append((script, role, statement))
    return found


def test_each_object_is_created_by_the_role_that_should_own_it(rendered):
    """Account objects by ACCOUNTADMIN; compute and storage by SYSADMIN (so admins keep
    them); what the run uses every day (translators, functions, the MLflow stage) by the
    project role, which then needs no grant on it."""
    context = rendered.project.context
    project_role = context["snowflake_role"].upper()
    mlflow_stage = rendered.mlflow["stage"].removeprefix("@").upper()
    owner = {
        "ROLE": "ACCOUNTADMIN",
        "API INTEGRATION": "ACCOUNTADMIN",
        "STORAGE INTEGRATION": "ACCOUNTADMIN",
        "WAREHOUSE": "SYSADMIN",
        "DATABASE": "SYSADMIN",
        "SCHEMA": "SYSADMIN",
        "STAGE": "SYSADMIN",  # the data stage of 02
        "FUNCTION": project_role,
        "EXTERNAL FUNCTION": project_role,
        # What runs inside Snowflake (07, 80): the project role owns what it uses.
        "NETWORK RULE": project_role,
        "SECRET": project_role,
        "EXTERNAL ACCESS INTEGRATION": "ACCOUNTADMIN",
    }
    created = 0
    for script, role, statement in roles_at_each_statement(rendered, SETUP_SCRIPTS):
        assert role is not None, f"{script}: {statement[:60]} runs before any USE ROLE"
        match = CREATE.match(statement)
        if not match:
            continue
        created += 1
        kind, name = " ".join(match["type"].upper().split()), match["name"].upper()
        code_stage = f"{context['__code_stage'][1:]}".upper()
        wanted = project_role if name in (mlflow_stage, code_stage) else owner[kind]
        assert role == wanted, f"{script}: {kind} {name} is created as {role}"
    assert created == len(rendered.created())


def test_the_project_role_may_create_and_use_the_mlflow_stage(rendered):
    context = rendered.project.context
    project_role = context["snowflake_role"].upper()
    integration = context["__storage_integration"].upper()
    mlflow_stage = rendered.mlflow["stage"].removeprefix("@").upper()
    schema = f"{context['__db']}.{context['__schema']}".upper()
    steps = roles_at_each_statement(rendered, SETUP_SCRIPTS)
    texts = [" ".join(statement.upper().split()) for _, _, statement in steps]
    stage_at = next(
        i
        for i, t in enumerate(texts)
        if re.match(rf"CREATE .*STAGE .*{mlflow_stage}\b", t)
    )
    # CREATE STAGE on the schema (02) and USAGE on the storage integration, granted by
    # their owners before the stage is created.
    schema_grant = next(
        i
        for i, t in enumerate(texts)
        if t.startswith("GRANT ") and f"ON SCHEMA {schema} TO ROLE {project_role}" in t
    )
    assert "CREATE STAGE" in texts[schema_grant] and schema_grant < stage_at
    usage = texts.index(
        f"GRANT USAGE ON INTEGRATION {integration} TO ROLE {project_role};"
    )
    assert steps[usage][1] == "ACCOUNTADMIN" and usage < stage_at
    # It owns the stage: a grant on it would be noise (and fail for a non-owner).
    assert not any(f"ON STAGE {mlflow_stage} " in t for t in texts), (
        "grant on owned stage"
    )


def test_the_task_graph_grants_come_from_accountadmin(rendered):
    """EXECUTE TASK is an account privilege only ACCOUNTADMIN grants (docs:
    execute-task); the procedure's PACKAGES need the database role
    SNOWFLAKE.ANACONDA_REPOSITORY_USER, which PUBLIC holds only until revoked (docs:
    release-notes/bcr-bundles/2026_06/bcr-2379)."""
    project_role = rendered.project.context["snowflake_role"].upper()
    steps = roles_at_each_statement(rendered, SETUP_SCRIPTS)
    granted_by = {
        " ".join(statement.upper().split()): role for _, role, statement in steps
    }
    for grant in (
        f"GRANT EXECUTE TASK ON ACCOUNT TO ROLE {project_role};",
        "GRANT DATABASE ROLE SNOWFLAKE.ANACONDA_REPOSITORY_USER TO ROLE "
        f"{project_role};",
    ):
        assert granted_by.get(grant) == "ACCOUNTADMIN", grant


def test_objects_exist_before_they_are_used(rendered):
    """Translators before functions, integrations before what names them."""
    created = [name for _, _, name in rendered.created()]
    for script in SETUP_SCRIPTS:
        for statement in rendered.statements[script]:
            match = CREATE.match(statement)
            if not match:
                continue
            for used in re.findall(
                r"(?:API_INTEGRATION|STORAGE_INTEGRATION|REQUEST_TRANSLATOR|"
                r"RESPONSE_TRANSLATOR)\s*=\s*([\w.$]+)",
                statement,
            ):
                assert created.index(used.upper()) < created.index(
                    match["name"].upper()
                ), f"{match['name']} uses {used} before it is created"


def test_external_functions_follow_the_contract(rendered):
    api_integration = rendered.project.context["__api_integration"].upper()
    for short, signature in SIGNATURES.items():
        name = rendered.mlflow["functions"][short]
        [statement] = [
            s
            for s in rendered.statements["05_external_functions.sql"]
            if re.match(rf"CREATE OR REPLACE EXTERNAL FUNCTION {re.escape(name)}\(", s)
        ]
        arguments = statement.split("(", 1)[1].split(")", 1)[0]
        assert [" ".join(a.split()).upper() for a in arguments.split(",")] == signature
        assert re.search(r"\bRETURNS VARIANT\b", statement)
        assert re.search(r"\bVOLATILE\b", statement), f"{name} must be VOLATILE"
        # Snowflake's default (AUTO) gzips the body on AWS; MLflow cannot read it.
        assert re.search(r"\bCOMPRESSION = NONE\b", statement), name
        assert re.search(rf"API_INTEGRATION = {api_integration}\b", statement.upper())
        for side in ("REQUEST", "RESPONSE"):
            translator = f"{name}_{side}_translator".upper()
            assert f"{side}_TRANSLATOR = {translator}" in statement.upper()
        rows = int(re.search(r"MAX_BATCH_ROWS = (\d+)", statement)[1])
        assert 1 <= rows <= MAX_ROWS.get(short, 1), f"{name}: MAX_BATCH_ROWS {rows}"


def test_the_chosen_clouds_integrations(rendered):
    api = " ".join(rendered.statements["03_api_integration.sql"])
    storage = " ".join(rendered.statements["06_storage_integration_and_stage.sql"])
    assert f"API_PROVIDER = {API_PROVIDERS[rendered.cloud]}" in api
    assert f"STORAGE_PROVIDER = {STORAGE_PROVIDERS[rendered.cloud]}" in storage
    for other, provider in API_PROVIDERS.items():
        if other != rendered.cloud:
            assert provider not in api
    assert "DESCRIBE INTEGRATION" in api and "DESCRIBE INTEGRATION" in storage


def test_placeholders_are_refused_by_a_check_at_the_top(rendered):
    """Empty answers leave <...> placeholders; the script's first statement after its
    USE ROLE is a Snowflake Scripting block that raises while any of them is left."""
    for script, found in rendered.statements.items():
        tokens = {t for s in found for t in PLACEHOLDER.findall(s)}
        if script not in SCRIPTS_WITH_PLACEHOLDERS:
            assert not tokens, f"{script} has placeholders {tokens}"
            continue
        assert tokens, f"{script} should hold placeholders with empty answers"
        check = next(s for s in found if not s.upper().startswith("USE "))
        assert check.startswith("EXECUTE IMMEDIATE $$"), script
        assert "RAISE placeholder_left" in check and "EXCEPTION (-20001" in check
        condition = check.split("IF (", 1)[1].split(") THEN", 1)[0]
        assert tokens <= set(PLACEHOLDER.findall(condition)), script


def test_readme_says_what_a_real_account_needs(rendered):
    """The set-up Snowflake requires and the fakes cannot check: COMPRESSION = NONE on
    every cloud; on AWS, a Regional (or private) REST API, AWS_IAM on the method, a
    resource policy for the role Snowflake assumes, and the execute-api URL."""
    readme = " ".join((rendered.dir / "README.md").read_text().split())
    assert "COMPRESSION = NONE" in readme
    aws = [
        "**Regional**",
        "not *Edge-optimized*",
        "aws_private_api_gateway",
        "`AWS_IAM`",
        "*Resource policy*",
        "assumed-role/<ROLE_NAME>/snowflake",
        '"Action": "execute-api:Invoke"',
        "do not support API Gateway custom domain names",
        "API_AWS_IAM_USER_ARN",
        "API_AWS_EXTERNAL_ID",
    ]
    for text in aws:
        assert (text in readme) == (rendered.cloud == "aws"), text


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_answers_replace_every_placeholder(cookies_session, cloud):
    gateway = GATEWAYS[cloud]
    rendered = bake_sql(
        cookies_session, cloud, mlflow_gateway_url=gateway, **FILLED_ANSWERS[cloud]
    )
    for script, found in rendered.statements.items():
        left = {t for s in found for t in PLACEHOLDER.findall(s)}
        if script == "80_external_access.sql":
            # Optional, and no answer names the MLflow host: filled in by hand.
            assert left == {"<MLFLOW_HOST>"}, left
            continue
        assert not left, f"{cloud} {script}: {left}"
    functions = " ".join(rendered.statements["05_external_functions.sql"])
    assert functions.count(f"AS '{gateway}'") == len(SIGNATURES)
    api = " ".join(rendered.statements["03_api_integration.sql"])
    assert f"API_ALLOWED_PREFIXES = ('{gateway}')" in api
    storage = " ".join(rendered.statements["06_storage_integration_and_stage.sql"])
    store = FILLED_ANSWERS[cloud]["mlflow_artifact_store_url"]
    assert f"STORAGE_ALLOWED_LOCATIONS = ('{store}')" in storage
    assert f"URL = '{store}'" in storage


def test_the_plugins_splitter_agrees_with_snowflakes(rendered):
    """The post-gen hook and `kedro snowflake check` split with the plugin's splitter
    (which also reports an unterminated quote with its line); `setup --apply` runs what
    snowflake-connector splits. Both must see the same statements."""

    def same_form(text: str) -> str:
        return " ".join(text.split()).rstrip(";").strip()

    for script, text in rendered.text.items():
        ours = [same_form(s.text) for s in plugin_split(text, script)]
        theirs = [same_form(s) for s in rendered.statements[script]]
        assert ours == theirs, script
