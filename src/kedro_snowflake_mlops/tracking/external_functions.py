"""Tracking through the five Snowflake external functions created by sql/.

Values never become SQL text: each call is a Snowpark dataframe of rows (bound literals)
selected through `call_function`, so a quote or semicolon in a key stays data. One
statement carries every metric and param of a batch as rows; the request translator turns
the rows of one run into one `runs/log-batch` request.

Artifacts: the MLflow stage is an EXTERNAL stage (MLflow's artifact store) and PUT only
uploads to internal stages. So log_artifact keeps a copy in a local folder of the run, and
at the end of the run ONE PUT uploads them all to the internal `artifact_staging_stage`
and ONE COPY FILES copies them to `<stage>/<experiment_id>/<run_id>/artifacts/`, where
MLflow's artifact store keeps a run's artifacts.

Repeated calls. Snowflake retries an external function's HTTP call itself after a 429,
a 5xx or a transport error, and the recorder retries a failed statement. Repeating is
harmless for runs/update (the same status), runs/log-batch params (the same value may
be logged again) and metrics (one more point of the same value in the metric's
history). It is not for runs/create: MLflow has no idempotent create, and
  * when Snowflake retries a create that MLflow carried out before the error reached
    Snowflake (a gateway time-out), a second run is made. The header that stays the
    same across Snowflake's retries (sf-external-function-query-batch-id) reaches the
    gateway, but translators cannot read headers, so only a gateway that deduplicates
    on it could prevent this; the proxy integration of sql/README.md does not. The
    orphan is a RUNNING run without params or metrics, tagged kedro.run_key like the
    real one;
  * when the recorder retries the create statement, it cannot look the run key up
    first (none of the five functions searches runs), so it creates again and says so:
    the summary names the key to look for (RunRecorder.notes).
The direct transport has neither gap: it looks the key up before creating again.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from snowflake.snowpark import DataFrame, Session
from snowflake.snowpark.functions import call_function, col
from snowflake.snowpark.types import (
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    VariantType,
)

from .config import FunctionNames
from .transport import (
    ExperimentNotFoundError,
    RunInfo,
    TrackingError,
    TrackingTransport,
    is_transient,
)
from .values import Metric

logger = logging.getLogger(__name__)

_START = StructType(
    [
        StructField("EXPERIMENT_NAME", StringType()),
        StructField("RUN_NAME", StringType()),
        StructField("START_TIME_MS", LongType()),
        StructField("TAGS", VariantType()),
    ]
)
_METRICS = StructType(
    [
        StructField("RUN_ID", StringType()),
        StructField("KEY", StringType()),
        StructField("VALUE", DoubleType()),
        StructField("STEP", LongType()),
        StructField("TIMESTAMP_MS", LongType()),
    ]
)
_PARAMS = StructType(
    [
        StructField("RUN_ID", StringType()),
        StructField("KEY", StringType()),
        StructField("VALUE", StringType()),
    ]
)
_UPDATE = StructType(
    [
        StructField("RUN_ID", StringType()),
        StructField("STATUS", StringType()),
        StructField("END_TIME_MS", LongType()),
    ]
)


# Stage paths are SQL text (PUT and COPY FILES take no bind variables): only names that
# cannot change the statement's meaning go into them.
_PATH_RULES = {
    "experiment_id": (re.compile(r"[0-9]+"), "digits only"),
    "run_id": (re.compile(r"[0-9a-fA-F]+"), "hexadecimal digits only"),
    "artifact file name": (
        re.compile(r"(?!\.+$)[A-Za-z0-9._-]+"),
        "letters, digits, '.', '_' and '-' only ([A-Za-z0-9._-]+, not only dots)",
    ),
}


def safe_path_part(field: str, value: str, fix: str) -> str:
    """`value` if it may go into a stage path; otherwise a TrackingError naming it."""
    pattern, rule = _PATH_RULES[field]
    if not pattern.fullmatch(value):
        raise TrackingError(
            f"{field} {value!r} cannot go into a stage path: it must be {rule}; fix: {fix}"
        )
    return value


def variant(value: Any) -> Any:
    """VARIANT results arrive as JSON text from Snowflake (and its local emulator)."""
    if isinstance(value, str):
        return json.loads(value)
    return value


def _warn_if_moved(run: RunInfo, copied_to: str) -> None:
    """The copy goes to `<experiment_id>/<run_id>/artifacts/` of the stage; say so when
    the run's artifact_uri from run_create points elsewhere (MLflow looks there)."""
    expected_end = f"/{run.experiment_id}/{run.run_id}/artifacts"
    if run.artifact_uri and not run.artifact_uri.rstrip("/").endswith(expected_end):
        logger.warning(
            "MLflow expects the artifacts of run %s at %s, but they were copied to %s; "
            "point snowflake.mlflow.stage at the artifact root of the MLflow server "
            "so that the UI shows them.",
            run.run_id,
            run.artifact_uri,
            copied_to,
        )


def frame_columns(frame: DataFrame) -> list:
    return [col(name) for name in frame.columns]


class ExternalFunctionTransport(TrackingTransport):
    """Counts every statement it issues in `statements` (PUT and COPY FILES too)."""

    uploads_artifacts_at_end = True

    def __init__(
        self,
        session: Session,
        functions: FunctionNames,
        stage: str,
        staging_stage: str,
    ) -> None:
        self.session = session
        self.functions = functions
        self.stage = stage.rstrip("/")
        self.staging_stage = staging_stage.rstrip("/")
        self.statements = 0
        # run_id -> local folder holding copies of the run's artifacts until the end.
        self._kept: dict[str, tempfile.TemporaryDirectory] = {}

    def collect(self, frame: DataFrame) -> list:
        # One collect() = one statement here. On a real account Snowpark turns a
        # create_dataframe of rows x columns >= 512 (ARRAY_BIND_THRESHOLD, e.g. more than
        # 102 metrics of 5 columns) into a temporary table plus a bound INSERT: a few
        # statements more that this count does not see.
        self.statements += 1
        return frame.collect()

    def start_run(
        self,
        experiment_name: str,
        run_name: str,
        start_time_ms: int,
        tags: dict[str, str],
        create_experiment: bool,
    ) -> RunInfo:
        # One statement: look the experiment up and create the run inside it.
        request = self.session.create_dataframe(
            [[experiment_name, run_name, start_time_ms, tags]], schema=_START
        )
        looked_up = request.select(
            call_function(
                self.functions.experiment_get_by_name, col("EXPERIMENT_NAME")
            ).alias("EXPERIMENT"),
            col("RUN_NAME"),
            col("START_TIME_MS"),
            col("TAGS"),
        )
        started = looked_up.select(
            col("EXPERIMENT"),
            call_function(
                self.functions.run_create,
                col("EXPERIMENT")["experiment_id"].cast(StringType()),
                col("RUN_NAME"),
                col("START_TIME_MS"),
                col("TAGS"),
            ).alias("RUN"),
        )
        try:
            row = self.collect(started)[0]
        except Exception as error:
            if not is_transient(error) and self._experiment(experiment_name) is None:
                raise ExperimentNotFoundError(experiment_name, self._where()) from None
            raise
        experiment, run = variant(row["EXPERIMENT"]), variant(row["RUN"])
        if experiment is None:
            raise ExperimentNotFoundError(experiment_name, self._where())
        if not isinstance(run, dict) or not run.get("run_id"):
            raise TrackingError(
                f"{self.functions.run_create} returned no run_id (got {run!r}); check "
                "its response translator in sql/"
            )
        return RunInfo(
            run_id=str(run["run_id"]),
            experiment_id=str(run.get("experiment_id") or experiment["experiment_id"]),
            artifact_uri=run.get("artifact_uri"),
        )

    def _experiment(self, experiment_name: str) -> Any:
        """Only used to explain a failed start: is the experiment missing?"""
        request = self.session.create_dataframe(
            [[experiment_name]], schema=StructType([_START.fields[0]])
        )
        lookup = request.select(
            call_function(
                self.functions.experiment_get_by_name, col("EXPERIMENT_NAME")
            ).alias("EXPERIMENT")
        )
        try:
            return variant(self.collect(lookup)[0]["EXPERIMENT"])
        except Exception:
            return {}  # unknown: let the original error speak

    def _where(self) -> str:
        return f"the MLflow server behind {self.functions.experiment_get_by_name}"

    def log_batch(
        self,
        run: RunInfo,
        metrics: list[Metric],
        params: dict[str, str],
        timestamp_ms: int,
    ) -> None:
        frames = []
        if metrics:
            rows = [
                [run.run_id, metric.key, metric.value, metric.step, timestamp_ms]
                for metric in metrics
            ]
            frame = self.session.create_dataframe(rows, schema=_METRICS)
            frames.append(
                frame.select(
                    call_function(
                        self.functions.run_log_metric, *frame_columns(frame)
                    ).alias("RESULT")
                )
            )
        if params:
            rows = [[run.run_id, key, value] for key, value in params.items()]
            frame = self.session.create_dataframe(rows, schema=_PARAMS)
            frames.append(
                frame.select(
                    call_function(
                        self.functions.run_log_parameter, *frame_columns(frame)
                    ).alias("RESULT")
                )
            )
        if not frames:
            return
        # Metrics and params in ONE statement: a UNION ALL of the two calls.
        combined = frames[0]
        for frame in frames[1:]:
            combined = combined.union_all(frame)
        results = self.collect(combined)
        if len(results) != len(metrics) + len(params):
            raise TrackingError(
                f"logged {len(results)} of {len(metrics) + len(params)} values to run "
                f"{run.run_id}; check the external functions' translators in sql/"
            )

    def _run_path(self, run: RunInfo) -> str:
        """`<experiment_id>/<run_id>/artifacts/`: where MLflow keeps a run's artifacts."""
        translators = f"the response translators of {self.functions.run_create} in sql/"
        experiment_id = safe_path_part(
            "experiment_id", run.experiment_id, f"check {translators}"
        )
        run_id = safe_path_part("run_id", run.run_id, f"check {translators}")
        return f"{experiment_id}/{run_id}/artifacts/"

    def log_artifact(self, run: RunInfo, local_path: Path) -> str:
        """Keep a copy (the file may change before the run ends); no statement yet."""
        name = safe_path_part(
            "artifact file name",
            local_path.name,
            "rename the file (the dataset's filepath in conf/<env>/catalog.yml)",
        )
        target = f"{self.stage}/{self._run_path(run)}"
        if run.run_id not in self._kept:
            self._kept[run.run_id] = tempfile.TemporaryDirectory(
                prefix="mlflow-artifacts-"
            )
        shutil.copyfile(local_path, Path(self._kept[run.run_id].name) / name)
        return target + name

    def flush_artifacts(self, run: RunInfo) -> None:
        """Two statements for all of the run's artifacts: PUT to the internal staging
        stage, then COPY FILES to the MLflow stage. Nothing when there are none."""
        kept = self._kept.get(run.run_id)
        if kept is None:
            return
        folder = Path(kept.name)
        names = sorted(path.name for path in folder.iterdir())
        run_path = self._run_path(run)
        staged = f"{self.staging_stage}/mlflow/{run_path}"
        self.statements += 1
        self.session.file.put(
            f"{folder.as_posix()}/*", staged, auto_compress=False, overwrite=True
        )
        self.statements += 1
        copied = self.session.file.copy_files(staged, f"{self.stage}/{run_path}")
        missing = set(names) - {
            str(path).rstrip("/").rsplit("/", 1)[-1] for path in copied
        }
        if missing:
            raise TrackingError(
                f"COPY FILES from {staged} to {self.stage}/{run_path} did not copy "
                f"{', '.join(sorted(missing))}; check the stages' grants in sql/"
            )
        self._kept.pop(run.run_id).cleanup()
        _warn_if_moved(run, f"{self.stage}/{run_path}")

    def close(self) -> None:
        for kept in self._kept.values():
            kept.cleanup()
        self._kept.clear()

    def end_run(self, run: RunInfo, status: str, end_time_ms: int) -> None:
        request = self.session.create_dataframe(
            [[run.run_id, status, end_time_ms]], schema=_UPDATE
        )
        self.collect(
            request.select(
                call_function(self.functions.run_update, *frame_columns(request)).alias(
                    "RUN"
                )
            )
        )

    def how_to_open(self, run: RunInfo) -> str:
        return (
            f"open it in the MLflow UI behind your gateway (experiment "
            f"{run.experiment_id}, run {run.run_id}); artifacts are on {self.stage}"
        )
