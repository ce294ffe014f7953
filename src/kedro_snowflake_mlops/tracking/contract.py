"""The names contract between the tracking code and the project's sql/: the five
external functions, and the argument types the tracking code calls them with (in
order). sql/05 must declare exactly these; `kedro snowflake check` compares."""

FUNCTION_SIGNATURES = {
    "experiment_get_by_name": ("VARCHAR",),
    "run_create": ("VARCHAR", "VARCHAR", "NUMBER", "VARIANT"),
    "run_update": ("VARCHAR", "VARCHAR", "NUMBER"),
    "run_log_metric": ("VARCHAR", "VARCHAR", "FLOAT", "NUMBER", "NUMBER"),
    "run_log_parameter": ("VARCHAR", "VARCHAR", "VARCHAR"),
}
FUNCTION_KEYS = tuple(FUNCTION_SIGNATURES)
