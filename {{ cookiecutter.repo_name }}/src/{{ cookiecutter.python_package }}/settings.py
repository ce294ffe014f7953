"""Project settings: the Snowpark session hook, MLflow tracking and config patterns."""

from omegaconf.resolvers import oc

from {{ cookiecutter.python_package }}.snowflake.hooks import (
    SnowparkSessionHook,
)
from {{ cookiecutter.python_package }}.tracking.hooks import (
    MlflowTrackingHook,
)

# The session hook must run before anything loads a Snowpark table. The tracking hook
# comes after it: pluggy calls the last registered hook first, so the MLflow run is
# ended (through the session, for external functions) before the session closes.
HOOKS = (SnowparkSessionHook(), MlflowTrackingHook())

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "snowflake": ["snowflake*", "snowflake*/**"],
    },
    # conf/snowflake reads the connection from environment variables; oc.env is only
    # enabled for credentials by default.
    "custom_resolvers": {"oc.env": oc.env},
    # `--env snowflake` overrides single keys of the base block instead of replacing it.
    "merge_strategy": {"snowflake": "soft"},
}
