"""Project settings: the Snowpark session and MLflow tracking hooks, and config patterns."""

from kedro_snowflake_mlops import MlflowTrackingHook, SnowparkSessionHook

# One Snowpark session per run (opened before any dataset loads, closed last) and one
# MLflow run per `kedro run`. Their order is set by the hooks themselves, not this tuple.
HOOKS = (SnowparkSessionHook(), MlflowTrackingHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "snowflake": ["snowflake*", "snowflake*/**"],
    },
    # `--env snowflake` overrides single keys of the base block instead of replacing it.
    "merge_strategy": {"snowflake": "soft"},
}
