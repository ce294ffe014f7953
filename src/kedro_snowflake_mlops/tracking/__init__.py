"""MLflow tracking of every `kedro run`: config schema, transports and the Kedro hook.

`transport: direct` (offline default) uses the MLflow client against a local store;
`transport: external_functions` calls the five Snowflake external functions created by
the project's sql/ through the run's Snowpark session.

Import from the modules (`.hook`, `.config`, ...): this file imports nothing, so reading
the config does not pull in Snowpark or MLflow.
"""
