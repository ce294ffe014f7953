"""The `snowflake.registry` block (registry/config.py), validated like `mlflow:`."""

from __future__ import annotations

import pytest

from kedro_snowflake_mlops.registry.config import (
    RegistryConfigError,
    load_registry_config,
    transport_problem,
)


def test_defaults_and_no_block():
    assert load_registry_config({}) is None
    config = load_registry_config({"registry": {"model_name": "spaceflights price"}})
    assert (config.alias, config.challenger_alias, config.target) == (
        "champion",
        "challenger",
        "mlflow",
    )
    # An MLflow model name is free text: data, not an identifier.
    assert config.model_name == "spaceflights price"


def test_unknown_keys_are_named_with_did_you_mean_one_line_each():
    with pytest.raises(RegistryConfigError) as error:
        load_registry_config(
            {"registry": {"model_name": "m", "alais": "x", "target": "s3"}}
        )
    lines = str(error.value).splitlines()
    assert len(lines) == 2
    assert any(
        line.startswith("snowflake.registry.alais is not a known key (did you mean")
        for line in lines
    )
    assert any(
        line.startswith("snowflake.registry.target ") and "use mlflow" in line
        for line in lines
    )


def test_snowflake_needs_an_identifier_and_a_schema():
    with pytest.raises(RegistryConfigError) as error:
        load_registry_config(
            {"registry": {"model_name": "price model", "target": "snowflake"}}
        )
    text = str(error.value)
    assert "must be an unquoted identifier with target snowflake" in text
    assert "schema is required as database.schema" in text
    config = load_registry_config(
        {"registry": {"model_name": "PRICE", "target": "both", "schema": "DEMO.DEMO"}}
    )
    assert config.uses_mlflow and config.uses_snowflake


@pytest.mark.parametrize("alias", ["latest", "v3", "DEFAULT", "two words", ""])
def test_an_alias_the_registries_keep_or_refuse_is_refused(alias):
    with pytest.raises(RegistryConfigError, match="snowflake.registry"):
        load_registry_config({"registry": {"model_name": "m", "alias": alias}})


def test_target_mlflow_is_refused_with_external_functions_saying_what_works():
    config = load_registry_config({"registry": {"model_name": "m"}})
    problem = transport_problem(config, "external_functions", "snowflake")
    assert "only to GET requests, which external functions cannot send" in problem
    assert "Fix: transport: external_access (sql/80) in this env" in problem
    assert "or registry: null" in problem
    assert transport_problem(config, "direct", "local") == ""
    assert transport_problem(config, "external_access", "snowflake") == ""


def test_target_snowflake_is_refused_until_it_is_supported():
    snowflake = load_registry_config(
        {"registry": {"model_name": "M", "target": "snowflake", "schema": "D.S"}}
    )
    problem = transport_problem(snowflake, "direct", "local")
    assert problem.startswith("snowflake.registry.target is snowflake in env local")
    assert "Fix: target: mlflow, or registry: null in this env" in problem
