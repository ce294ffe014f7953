"""MLflow tracking of every `kedro run`: config schema, transports and the Kedro hook.

`transport: direct` (offline default) uses the MLflow client against a local store, in a
worker process of its own (worker.py, background.py) so that MLflow costs the pipeline
almost nothing; `transport: external_functions` calls the five Snowflake external
functions created by the project's sql/ through the run's Snowpark session. Either way a
RunRecorder (recorder.py) applies the retries and the failure policy.

Import from the modules (`.hook`, `.config`, ...): this file imports nothing, so reading
the config does not pull in Snowpark or MLflow.
"""
