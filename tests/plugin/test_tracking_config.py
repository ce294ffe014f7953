"""The `snowflake.mlflow` schema: the shipped config is valid, bad config names the key."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from support.throwaway import throwaway_secret

from kedro_snowflake_mlops.conf import project_config_loader, read_snowflake_conf
from kedro_snowflake_mlops.tracking.config import (
    FUNCTION_KEYS,
    MlflowConfig,
    MlflowConfigError,
    load_mlflow_config,
    sqlite_path,
)


@pytest.fixture(scope="module")
def shipped(demo_project: Path):
    """The `snowflake:` block of a generated project's conf/<env>/snowflake.yml."""

    def read(env: str) -> dict:
        path = demo_project / "conf" / env / "snowflake.yml"
        return yaml.safe_load(path.read_text(encoding="utf-8"))["snowflake"]

    return read


@pytest.fixture
def block(shipped) -> dict:
    return copy.deepcopy(shipped("base"))


def test_the_shipped_base_config_is_valid_and_offline(block):
    config = load_mlflow_config(block)
    assert config.transport == "direct"
    assert config.tracking_uri == "sqlite:///mlflow.db"
    assert config.on_failure == "warn"
    assert config.creates_experiment is True
    assert set(block["mlflow"]["functions"]) == set(FUNCTION_KEYS)


def test_the_shipped_optional_keys_equal_the_schema_defaults(block):
    """conf/base/snowflake.yml documents the defaults; the two must not drift apart."""
    written = block["mlflow"]
    required = {"experiment_name", "stage", "functions"}
    # Optional, but a name of this project's objects (sql/02) rather than a default.
    project_objects = {"artifact_staging_stage"}
    defaults = MlflowConfig.model_validate(
        {key: written[key] for key in required}
    ).model_dump()
    optional = {
        key: value
        for key, value in written.items()
        if key not in required | project_objects
    }
    assert optional == {key: defaults[key] for key in optional}


def test_the_snowflake_env_switches_to_external_functions(block, shipped):
    # Kedro soft-merges conf/snowflake over conf/base; the override is one key.
    override = shipped("snowflake")["mlflow"]
    assert override == {"transport": "external_functions"}
    block["mlflow"].update(override)
    config = load_mlflow_config(block)
    assert config.transport == "external_functions"
    assert config.creates_experiment is False


@pytest.mark.parametrize(
    ("env", "transport"), [("local", "direct"), ("snowflake", "external_functions")]
)
def test_kedro_merges_the_env_over_base(demo_project, env, transport):
    """Through Kedro's own config loader, with the project's settings (soft merge)."""
    block = read_snowflake_conf(project_config_loader(demo_project, env))
    config = load_mlflow_config(block)
    assert config.transport == transport
    assert config.functions.run_create.endswith(".mlflow_run_create")


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_a_missing_function_is_named(block, key):
    del block["mlflow"]["functions"][key]
    with pytest.raises(
        MlflowConfigError, match=rf"snowflake\.mlflow\.functions\.{key} is missing"
    ):
        load_mlflow_config(block)


def test_an_unknown_function_key_is_refused(block):
    block["mlflow"]["functions"]["run_delete"] = "db.schema.mlflow_run_delete"
    with pytest.raises(
        MlflowConfigError, match="functions.run_delete is not a known key"
    ):
        load_mlflow_config(block)


def test_function_names_must_be_fully_qualified(block):
    block["mlflow"]["functions"]["run_create"] = "mlflow_run_create"
    with pytest.raises(MlflowConfigError) as error:
        load_mlflow_config(block)
    message = str(error.value)
    assert "snowflake.mlflow.functions.run_create" in message
    assert "'mlflow_run_create'" in message
    assert "fix:" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("transport", "http"),
        ("on_failure", "ignore"),
        ("stage", "MLFLOW_STAGE"),
        ("artifact_staging_stage", "DEMO_DATA_STAGE"),
        ("experiment_name", "  "),
        ("timeout_seconds", 0),
    ],
)
def test_bad_values_name_the_key_and_the_value(block, key, value):
    block["mlflow"][key] = value
    with pytest.raises(
        MlflowConfigError, match=rf"snowflake\.mlflow\.{key} .*{value!r}"
    ):
        load_mlflow_config(block)


@pytest.mark.parametrize("key", ["stage", "artifact_staging_stage"])
@pytest.mark.parametrize(
    "path", ["/x' OVERWRITE=TRUE", "/a;DROP TABLE t", "/run id", "/x\nPUT"]
)
def test_a_stage_path_that_would_change_the_statement_is_refused(block, key, path):
    # The stage location becomes PUT / COPY FILES text: only [A-Za-z0-9._/-] may follow.
    value = "@DEMO.DEMO.SOME_STAGE" + path
    block["mlflow"][key] = value
    with pytest.raises(MlflowConfigError) as error:
        load_mlflow_config(block)
    message = str(error.value)
    assert f"snowflake.mlflow.{key} " in message
    assert repr(value) in message
    assert "fix:" in message


@pytest.mark.parametrize("key", ["stage", "artifact_staging_stage"])
def test_a_plain_stage_path_is_accepted(block, key):
    block["mlflow"][key] = "@DEMO.DEMO.SOME_STAGE/team-a/mlflow_v1.2/"
    config = load_mlflow_config(block)
    assert getattr(config, key).endswith("/team-a/mlflow_v1.2/")


def test_the_staging_stage_is_the_internal_stage_of_sql_02(block, demo_project):
    sql = (demo_project / "sql" / "02_warehouse_database_schema_stages.sql").read_text()
    (created,) = re.findall(r"^CREATE STAGE IF NOT EXISTS (\S+)$", sql, re.MULTILINE)
    statement = sql[sql.index(created) : sql.index(";", sql.index(created))]
    assert "URL" not in statement  # internal: PUT can upload to it
    assert block["mlflow"]["artifact_staging_stage"] == f"@{created}"


def test_external_functions_need_an_internal_staging_stage(block):
    block["mlflow"]["transport"] = "external_functions"
    assert load_mlflow_config(block).artifact_staging_stage.startswith("@")
    block["mlflow"]["artifact_staging_stage"] = block["mlflow"]["stage"] + "/sub"
    with pytest.raises(MlflowConfigError, match="must be an internal stage"):
        load_mlflow_config(block)
    del block["mlflow"]["artifact_staging_stage"]
    with pytest.raises(
        MlflowConfigError,
        match=r"snowflake\.mlflow\.artifact_staging_stage .*required.*fix: .*sql/02",
    ):
        load_mlflow_config(block)
    block["mlflow"]["transport"] = "direct"
    assert load_mlflow_config(block).artifact_staging_stage is None


def test_external_functions_cannot_create_experiments(block):
    block["mlflow"].update(transport="external_functions", create_experiment=True)
    with pytest.raises(MlflowConfigError, match="mlflow experiments create"):
        load_mlflow_config(block)


def test_a_missing_block_is_explained():
    with pytest.raises(MlflowConfigError, match="snowflake.mlflow is missing"):
        load_mlflow_config({"session": {}})


def test_retry_delays_double_up_to_the_cap(block):
    block["mlflow"]["retry"] = {
        "attempts": 5,
        "backoff_seconds": 1,
        "max_backoff_seconds": 3,
    }
    assert load_mlflow_config(block).retry.delays() == [1, 2, 3, 3]


def test_a_relative_sqlite_store_lives_in_the_project(block, tmp_path):
    config = load_mlflow_config(block)
    assert (
        config.resolved_tracking_uri(tmp_path) == f"sqlite:///{tmp_path / 'mlflow.db'}"
    )
    block["mlflow"]["tracking_uri"] = "http://127.0.0.1:5000"
    assert load_mlflow_config(block).resolved_tracking_uri(tmp_path) == (
        "http://127.0.0.1:5000"
    )


@pytest.mark.parametrize(
    ("where", "key", "suggestion", "known"),
    [
        ((), "tracking_ur", "tracking_uri", "experiment_name, stage, functions"),
        (("retry",), "atempts", "attempts", "attempts, backoff_seconds, max_backoff"),
        (("functions",), "run_creat", "run_create", "experiment_get_by_name, run_c"),
    ],
)
def test_an_unknown_key_at_any_level_is_refused_with_a_suggestion(
    block, where, key, suggestion, known
):
    target = block["mlflow"]
    for part in where:
        target = target.setdefault(part, {})
    target[key] = 1
    with pytest.raises(MlflowConfigError) as error:
        load_mlflow_config(block)
    dotted = ".".join(("snowflake.mlflow", *where, key))
    message = str(error.value)
    assert message.startswith(
        f"{dotted} is not a known key (did you mean `{suggestion}`?); fix: "
        f"remove it or correct its name; the keys here are {known}"
    )


def test_an_unknown_key_is_named_without_its_value(block):
    """A token pasted under a misspelt or invented key must not reach the terminal."""
    token = throwaway_secret("token")
    block["mlflow"]["mlflow_token"] = token
    with pytest.raises(MlflowConfigError) as error:
        load_mlflow_config(block)
    assert "snowflake.mlflow.mlflow_token is not a known key" in str(error.value)
    assert token not in str(error.value)


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("https://mlflow.example.com", True),
        ("http://127.0.0.1:5000", True),  # kedro snowflake run --local
        ("http://mlflow.example.com", False),
        ("sqlite:///mlflow.db", False),
    ],
)
def test_external_access_needs_an_https_server(block, uri, accepted):
    block["mlflow"] |= {"transport": "external_access", "tracking_uri": uri}
    if accepted:
        assert load_mlflow_config(block).tracking_uri == uri
        return
    with pytest.raises(MlflowConfigError) as error:
        load_mlflow_config(block)
    message = str(error.value)
    assert message.startswith(
        "snowflake.mlflow.tracking_uri must be an https URI with transport "
        f"external_access (got {uri!r}); fix: "
    )
    assert "sql/80's network rule allows its host on port 443" in message


def test_a_sqlite_uri_with_a_driver_is_a_local_store_too(block, tmp_path):
    block["mlflow"]["tracking_uri"] = "sqlite+pysqlite:///mlflow.db?timeout=30"
    config = load_mlflow_config(block)
    assert sqlite_path(config.tracking_uri) == "mlflow.db"
    assert config.resolved_tracking_uri(tmp_path) == (
        f"sqlite+pysqlite:///{tmp_path / 'mlflow.db'}?timeout=30"
    )


@pytest.mark.parametrize(
    "uri",
    [
        "sqlite:///mlflow.db",
        "sqlite:////abs/path/mlflow.db",
        "http://127.0.0.1:5000",
        "https://mlflow.example.com/prefix",
        "https://user:pw@mlflow.example.com",
        "postgresql+psycopg2://u:p@db/mlflow",
        "file:///tmp/mlruns",
        "databricks",
    ],
)
def test_tracking_uris_the_mlflow_client_takes_are_accepted(block, uri):
    block["mlflow"]["tracking_uri"] = uri
    assert load_mlflow_config(block).tracking_uri == uri


@pytest.mark.parametrize(
    ("uri", "rule"),
    [
        ("not a uri", "must be a URI without spaces whose scheme is one of"),
        ("mlflow.db", "must be a URI without spaces whose scheme is one of"),
        ("ftp://host/x", "must be a URI without spaces whose scheme is one of"),
        ("sqlite://", "must name a database file: sqlite:///<path>"),
        ("sqlite:/mlflow.db", "must name a database file: sqlite:///<path>"),
        ("http://", "must name a host: http://<host>[:<port>]"),
    ],
)
def test_a_tracking_uri_the_client_cannot_use_is_refused(block, uri, rule):
    block["mlflow"]["tracking_uri"] = uri
    with pytest.raises(MlflowConfigError) as error:
        load_mlflow_config(block)
    assert str(error.value).startswith(f"snowflake.mlflow.tracking_uri {rule}")
    assert f"(got {uri!r}); fix: use e.g. sqlite:///mlflow.db" in str(error.value)


def test_credentials_in_a_refused_uri_are_not_shown(block):
    password = throwaway_secret("uri-password")
    block["mlflow"]["tracking_uri"] = f"https://someone:{password}@"
    with pytest.raises(MlflowConfigError) as error:
        load_mlflow_config(block)
    assert password not in str(error.value)
    assert "(got 'https://***@')" in str(error.value)
