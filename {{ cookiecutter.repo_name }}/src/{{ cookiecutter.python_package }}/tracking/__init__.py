"""MLflow tracking of every `kedro run`: config schema, transports and the Kedro hook.

`transport: direct` (offline default) uses the MLflow client against a local store;
`transport: external_functions` calls the five Snowflake external functions created by
sql/ through the project's Snowpark session.
"""

from {{ cookiecutter.python_package }}.tracking.config import (
    MlflowConfig,
    MlflowConfigError,
    load_mlflow_config,
)
from {{ cookiecutter.python_package }}.tracking.hooks import (
    MlflowTrackingHook,
)

__all__ = [
    "MlflowConfig",
    "MlflowConfigError",
    "MlflowTrackingHook",
    "load_mlflow_config",
]
