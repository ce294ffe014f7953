"""kedro-snowflake-mlops: Snowpark sessions, MLflow tracking and Snowflake objects for
Kedro projects, and the `snowflake-mlops` starter.

Register the hooks in your project's settings.py:

    from kedro_snowflake_mlops import MlflowTrackingHook, SnowparkSessionHook

    HOOKS = (SnowparkSessionHook(), MlflowTrackingHook())
"""

import warnings

__version__ = "0.2.0"

# Kedro 1.7 registers its config resolvers through an OmegaConf call that OmegaConf 2.4
# deprecates, and every `kedro run` would print the same 15-line warning four times.
# Only Kedro's own calls are silenced: there is nothing in your project to change for
# them. Your own code calling register_new_resolver() still gets the warning.
warnings.filterwarnings(
    "ignore",
    message=r"register_new_resolver\(\) is deprecated",
    category=UserWarning,
    module=r"kedro\.",
)

__all__ = ["MlflowTrackingHook", "SnowparkSessionHook", "__version__"]


def show_info_messages() -> None:
    """Like Kedro's own messages, ours (the session opened, the MLflow run summary) are
    INFO; a project's logging config that names this logger decides, otherwise INFO
    shows. Called where a run or a command starts, not on import: `kedro new` and the
    post-generation hook import this package and need no logging."""
    import logging  # noqa: PLC0415

    if logging.getLogger(__name__).level == logging.NOTSET:
        logging.getLogger(__name__).setLevel(logging.INFO)


def __getattr__(name: str):
    """The hooks are imported when asked for, so that `kedro_snowflake_mlops.starters`
    (read by every `kedro new`) and the post-generation hook stay quick."""
    if name in ("SnowparkSessionHook", "MlflowTrackingHook"):
        show_info_messages()
    if name == "SnowparkSessionHook":
        from .session.hook import SnowparkSessionHook  # noqa: PLC0415

        return SnowparkSessionHook
    if name == "MlflowTrackingHook":
        from .tracking.hook import MlflowTrackingHook  # noqa: PLC0415

        return MlflowTrackingHook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
