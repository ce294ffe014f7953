"""A Snowflake table as a Kedro dataset, read and written through the run's session;
and the registry's champion model as one (ChampionModelDataset, at the end).

    companies_table:
      type: kedro_snowflake_mlops.datasets.SnowflakeTableDataset
      database: DEMO
      schema: DEMO
      table_name: COMPANIES

It holds no credentials: SnowparkSessionHook opens one session per run (offline, the
local testing emulator; with `--env snowflake`, your account; inside a Snowflake
procedure, the procedure's own session) and every table uses that session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kedro.io import AbstractDataset, DatasetError

from .registry.current import NoRegistryError, current_champion
from .registry.lifecycle import NoChampionError
from .session.current import NoSessionError, run_session

if TYPE_CHECKING:
    import pandas as pd
    from snowflake.snowpark import DataFrame, Session


def active_session() -> Session:
    """The run's session, or a DatasetError that says where it should come from."""
    try:
        return run_session()
    except NoSessionError as error:
        raise DatasetError(str(error)) from None


class SnowflakeTableDataset(AbstractDataset["pd.DataFrame | DataFrame", "DataFrame"]):
    """Loads a table as a lazy Snowpark DataFrame; saves a Snowpark or pandas DataFrame
    (pandas rows are uploaded first) with `save_as_table`, mode `overwrite` by default."""

    def __init__(  # noqa: PLR0913 (the catalog entry's keys)
        self,
        *,
        table_name: str,
        database: str,
        schema: str,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        for key, value in (
            ("table_name", table_name),
            ("database", database),
            ("schema", schema),
        ):
            if not isinstance(value, str) or not value.strip():
                raise DatasetError(
                    f"SnowflakeTableDataset: {key} must be a non-empty name "
                    f"(got {value!r})"
                )
        self._name = [database, schema, table_name]
        self._save_args = {"mode": "overwrite", **(save_args or {})}
        self.metadata = metadata

    def load(self) -> DataFrame:
        return active_session().table(self._name)

    def save(self, data: pd.DataFrame | DataFrame) -> None:
        from snowflake.snowpark import DataFrame  # noqa: PLC0415

        session = active_session()
        if not isinstance(data, DataFrame):
            data = session.create_dataframe(data)
        data.write.save_as_table(self._name, **self._save_args)

    def _exists(self) -> bool:
        try:
            active_session().table(self._name).limit(0).collect()
        except Exception:  # noqa: BLE001 (any failure means: cannot be read)
            return False
        return True

    def _describe(self) -> dict[str, Any]:
        return {"table": ".".join(self._name), "save_args": self._save_args}


class ChampionModelDataset(AbstractDataset[None, Any]):
    """Read-only: the model version the registry's alias (`champion`) points at, as a
    `registry.lifecycle.Champion` (name, version, model), or None before the first
    training run has made one. Which model and which alias come from the
    snowflake.registry block:

        champion_model:          # the quality gate's: None before the first champion
          type: kedro_snowflake_mlops.datasets.ChampionModelDataset
        scoring_model:           # scoring's: no champion stops the run, one line
          type: kedro_snowflake_mlops.datasets.ChampionModelDataset
          required: true

    `kedro snowflake deploy` refuses a graph that requires the champion in an env
    without a registry.
    """

    def __init__(
        self, *, required: bool = False, metadata: dict[str, Any] | None = None
    ) -> None:
        self.required = required
        self.metadata = metadata

    def load(self) -> Any:
        try:
            champion = current_champion()
        except NoRegistryError as error:
            raise DatasetError(str(error)) from None
        if champion is None and self.required:
            raise NoChampionError
        return champion

    def save(self, data: None) -> None:
        raise DatasetError(
            "ChampionModelDataset is read-only: a new model becomes champion through "
            "the quality gate (an output with metadata mlflow: candidate)"
        )

    def _describe(self) -> dict[str, Any]:
        return {"alias": "snowflake.registry.alias", "required": self.required}
