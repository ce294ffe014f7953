"""The translators of the rendered sql/, run in a real JavaScript engine (V8, mini-racer)
against a real `mlflow server` on 127.0.0.1, for every external function. Only
Snowflake's own part (batching, row numbers, the body's compression, the HTTP POST) is
emulated, by support/external_functions.py, because no Snowflake account exists here.
Every write is read back over MLflow's REST API."""

from __future__ import annotations

import math
import re
import shutil
import sys
import uuid
from decimal import Decimal

import pytest
import yaml
from support.baking import bake
from support.external_functions import (
    ExternalFunctionEmulator,
    ExternalFunctionError,
    _as_sql_type,
)

HOSTILE_VALUES = [
    "it's",
    'say "hi"',
    "x'; DROP TABLE runs; --",
    "semi;colon",
    "back\\slash",
    "line\nbreak",
    "température ☃ 日本語 🚀",
    "$$ {{ not jinja }} $$",
    "5" * 5000,
]


class Functions:
    """The five functions by their conf/ names, called through the emulator."""

    def __init__(self, project, server, cloud: str) -> None:
        conf = yaml.safe_load((project.path / "conf/base/snowflake.yml").read_text())
        self.names = conf["snowflake"]["mlflow"]["functions"]
        self.emulator = ExternalFunctionEmulator(project.path / "sql", server.url)
        self.server = server
        self.project = project
        self.cloud = cloud

    def __call__(self, short: str, rows: list[list]) -> list:
        return self.emulator.call(self.names[short], rows)

    def batch(self, short: str, rows: list[list]) -> list:
        """One batch, whatever MAX_BATCH_ROWS says (to test the translators' limits)."""
        return self.emulator.call_batch(self.names[short], rows)

    @property
    def requests(self) -> int:
        return self.emulator.requests_sent

    def new_experiment(self, prefix: str = "exp") -> tuple[str, str]:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        return name, self.server.post("experiments/create", {"name": name})[
            "experiment_id"
        ]

    def new_run(self) -> str:
        _, experiment_id = self.new_experiment()
        [info] = self("run_create", [[experiment_id, "test-run", None, None]])
        return info["run_id"]

    def run(self, run_id: str) -> dict:
        return self.server.get("runs/get", run_id=run_id)["run"]


@pytest.fixture(scope="module", params=["aws", "azure", "gcp"])
def functions(request, cookies_session, mlflow_server) -> Functions:
    project = bake(cookies_session, cloud_provider=request.param)
    return Functions(project, mlflow_server, request.param)


# --- the request body on the wire: COMPRESSION ---------------------------------------


def with_compression(functions, tmp_path, compression: str | None) -> Functions:
    """The same project, its five functions given `COMPRESSION = <compression>`
    (None: no clause, Snowflake's default AUTO). Edits a copy of the rendered sql/."""
    copy = tmp_path / "project"
    shutil.copytree(functions.project.path / "sql", copy / "sql")
    shutil.copytree(functions.project.path / "conf", copy / "conf")
    script = copy / "sql" / "05_external_functions.sql"
    text = re.sub(r"(?m)^\s*COMPRESSION\s*=.*\n", "", script.read_text())
    if compression is not None:
        text = text.replace(
            "  REQUEST_TRANSLATOR",
            f"  COMPRESSION = {compression}\n  REQUEST_TRANSLATOR",
        )
    script.write_text(text)
    baked = type(functions.project)(path=copy, context=functions.project.context)
    return Functions(baked, functions.server, functions.cloud)


def call_each_function(functions) -> dict[str, object]:
    """Call each of the five functions once with valid rows: the result, or the error."""
    name, experiment_id = functions.new_experiment("compression")
    run_id = functions.server.post(
        "runs/create", {"experiment_id": experiment_id, "start_time": 1}
    )["run"]["info"]["run_id"]
    calls = {
        "experiment_get_by_name": [[name]],
        "run_create": [[experiment_id, "compressed", None, None]],
        "run_log_metric": [[run_id, "m", 1.0, 0, None]],
        "run_log_parameter": [[run_id, "p", "v"]],
        "run_update": [[run_id, "FINISHED", None]],
    }
    outcome: dict[str, object] = {}
    for short, rows in calls.items():
        try:
            outcome[short] = functions(short, rows)
        except ExternalFunctionError as error:
            outcome[short] = error
    return outcome


def test_the_functions_send_uncompressed_json(functions):
    """MLflow's server does not decode a compressed body, so every function says
    COMPRESSION = NONE: the emulator, which compresses as Snowflake would, sends plain
    JSON with no Content-Encoding on every cloud, and MLflow stores what was sent."""
    for short, name in functions.names.items():
        assert functions.emulator.compression(functions.emulator.function(name)) == (
            "NONE"
        ), short
    before = len(functions.emulator.sent)
    outcome = call_each_function(functions)
    failed = {k: v for k, v in outcome.items() if isinstance(v, Exception)}
    assert not failed, failed
    sent = functions.emulator.sent[before:]
    assert len(sent) == len(outcome)
    assert {r.content_encoding for r in sent} == {None}


def test_snowflakes_default_compression_fails_against_mlflow_on_aws_only(
    functions, tmp_path
):
    """Without the clause Snowflake uses AUTO: GZIP on AWS, NONE on Azure and GCP
    (CREATE EXTERNAL FUNCTION docs). The real MLflow server refuses the gzip bodies."""
    default = with_compression(functions, tmp_path, None)
    before = len(default.emulator.sent)
    outcome = call_each_function(default)
    if functions.cloud == "aws":
        assert all(isinstance(v, ExternalFunctionError) for v in outcome.values()), (
            outcome
        )
        assert all(v.status in (400, 500) for v in outcome.values())
        sent = default.emulator.sent[before:]
        assert [r.content_encoding for r in sent] == ["gzip"] * len(outcome)
    else:
        assert not any(isinstance(v, Exception) for v in outcome.values()), outcome


@pytest.mark.parametrize(
    ("compression", "encoding"), [("GZIP", "gzip"), ("DEFLATE", "deflate")]
)
def test_explicit_compression_fails_against_mlflow_on_every_cloud(
    functions, tmp_path, compression, encoding
):
    compressed = with_compression(functions, tmp_path, compression)
    outcome = call_each_function(compressed)
    assert all(isinstance(v, ExternalFunctionError) for v in outcome.values()), outcome
    assert {r.content_encoding for r in compressed.emulator.sent} == {encoding}


def test_a_compression_snowflake_does_not_know_is_refused(functions, tmp_path):
    unknown = with_compression(functions, tmp_path, "BROTLI")
    with pytest.raises(ExternalFunctionError, match="Snowflake refuses"):
        unknown("experiment_get_by_name", [["any"]])
    assert unknown.requests == 0


@pytest.mark.parametrize(
    ("data", "refused"),
    [
        ([[0]], "row 0 must be"),  # no value
        ([[0, {}, "extra"]], "row 0 must be"),
        (["not a row"], "row 0 must be"),
        ([[True, {}]], "row 0 must be"),  # a row number is an integer
        ([[1, {}]], r"rows \[0\] in order"),
        ({"rows": []}, '"data"'),
    ],
)
def test_the_emulator_refuses_a_response_row_snowflake_refuses(
    functions, data, refused
):
    """Snowflake needs exactly one [row_number, value] per row of the batch."""
    function = functions.emulator.function(functions.names["experiment_get_by_name"])
    answer = data if isinstance(data, dict) else {"data": data}
    with pytest.raises(ExternalFunctionError, match=refused):
        functions.emulator._rows_of(function, answer, [0])


def test_the_emulator_refuses_an_empty_200_body(functions, monkeypatch):
    """Snowflake parses the remote service's body as JSON: an empty one fails the query."""
    monkeypatch.setattr(
        functions.emulator, "_post", lambda function, url, body: (200, "")
    )
    with pytest.raises(ExternalFunctionError, match="non-JSON"):
        functions("experiment_get_by_name", [["any"]])


@pytest.mark.parametrize(
    ("value", "sql_type", "cast"),
    [
        (2.5, "NUMBER", 3),  # half away from zero, not half to even
        (-2.5, "NUMBER", -3),
        (0.5, "NUMBER", 1),
        (1.25, "NUMBER(10, 1)", Decimal("1.3")),
        (True, "VARCHAR", "true"),
        (False, "VARCHAR", "false"),
    ],
)
def test_the_emulator_casts_arguments_as_snowflake(value, sql_type, cast):
    assert _as_sql_type(value, sql_type, "where") == cast


# --- experiment_get_by_name -> experiments/search -----------------------------------


def test_experiment_is_found_by_name(functions):
    name, experiment_id = functions.new_experiment()
    [experiment] = functions("experiment_get_by_name", [[name]])
    assert experiment["experiment_id"] == experiment_id
    assert experiment["name"] == name


def test_unknown_experiment_is_null(functions):
    assert functions("experiment_get_by_name", [[f"missing-{uuid.uuid4()}"]]) == [None]


@pytest.mark.parametrize("prefix", ["it's", 'say "hi"', "back\\slash", "semi;colon"])
def test_experiment_names_with_quotes_are_found_exactly(functions, prefix):
    name, experiment_id = functions.new_experiment(prefix)
    # A look-alike must not match: `=` in MLflow's filter is exact.
    functions.new_experiment(prefix.upper() + "x")
    [experiment] = functions("experiment_get_by_name", [[name]])
    assert experiment["experiment_id"] == experiment_id


def test_experiment_name_with_both_quotes_is_refused_clearly(functions):
    with pytest.raises(ExternalFunctionError, match="both quote kinds"):
        functions("experiment_get_by_name", [['it\'s "both"']])


def test_lookups_of_several_rows_keep_their_order(functions):
    first, first_id = functions.new_experiment()
    second, second_id = functions.new_experiment()
    before = functions.requests
    found = functions(
        "experiment_get_by_name", [[second], [f"missing-{uuid.uuid4()}"], [first]]
    )
    assert [e and e["experiment_id"] for e in found] == [second_id, None, first_id]
    assert functions.requests - before == 3  # MAX_BATCH_ROWS = 1: one search per row


# --- run_create / run_update ------------------------------------------------------


def test_run_create_returns_the_run_info_and_stores_tags(functions):
    _, experiment_id = functions.new_experiment()
    start = 1_700_000_000_123
    tags = {"team": "ml; 'quoted'", "kedro.env": "snowflake", "count": 3}
    [info] = functions("run_create", [[experiment_id, "my run", start, tags]])
    assert info["run_id"] and info["artifact_uri"]
    assert info["status"] == "RUNNING"
    run = functions.run(info["run_id"])
    assert run["info"]["experiment_id"] == experiment_id
    assert run["info"]["run_name"] == "my run"
    assert int(run["info"]["start_time"]) == start
    stored = {tag["key"]: tag["value"] for tag in run["data"]["tags"]}
    assert stored["team"] == "ml; 'quoted'"
    assert stored["count"] == "3"


def test_run_create_defaults_start_time_to_now(functions):
    _, experiment_id = functions.new_experiment()
    [info] = functions("run_create", [[experiment_id, None, None, None]])
    assert int(functions.run(info["run_id"])["info"]["start_time"]) > 1_600_000_000_000


def test_run_create_rows_keep_their_order(functions):
    _, experiment_id = functions.new_experiment()
    names = ["first", "second", "third"]
    infos = functions("run_create", [[experiment_id, n, None, None] for n in names])
    assert [info["run_name"] for info in infos] == names
    assert len({info["run_id"] for info in infos}) == len(names)
    for info, name in zip(infos, names, strict=True):
        assert functions.run(info["run_id"])["info"]["run_name"] == name


def test_run_create_without_experiment_is_refused_clearly(functions):
    with pytest.raises(ExternalFunctionError, match="experiment_id is empty"):
        functions("run_create", [[None, "orphan", None, None]])


def test_run_update_finishes_the_run(functions):
    run_id = functions.new_run()
    end = 1_800_000_000_000
    [info] = functions("run_update", [[run_id, "FINISHED", end]])
    assert info["run_id"] == run_id and info["status"] == "FINISHED"
    stored = functions.run(run_id)["info"]
    assert stored["status"] == "FINISHED"
    assert int(stored["end_time"]) == end


def test_invalid_run_status_is_refused_and_changes_nothing(functions):
    run_id = functions.new_run()
    before = functions.requests
    with pytest.raises(ExternalFunctionError, match=r'status "DONE".*FINISHED'):
        functions("run_update", [[run_id, "DONE", None]])
    assert functions.requests == before  # refused before anything was sent
    assert functions.run(run_id)["info"]["status"] == "RUNNING"


def test_unknown_run_is_an_mlflow_error(functions):
    with pytest.raises(ExternalFunctionError) as error:
        functions("run_update", [["0" * 32, "FINISHED", None]])
    assert error.value.status != 200


# --- run_log_metric -> runs/log-batch ---------------------------------------------


def metric_history(functions, run_id: str, key: str) -> list[dict]:
    answer = functions.server.get("metrics/get-history", run_id=run_id, metric_key=key)
    return sorted(answer.get("metrics", []), key=lambda m: int(m.get("step", 0)))


def test_metrics_of_one_statement_go_in_one_request_and_arrive(functions):
    run_id = functions.new_run()
    rows = [
        [run_id, "loss", 1.0 / (step + 1), step, 1_700_000_000_000 + step]
        for step in range(5)
    ]
    rows.append([run_id, "r2", 0.75, 0, None])
    before = functions.requests
    results = functions("run_log_metric", rows)
    assert functions.requests - before == 1
    assert [(r["key"], r["step"]) for r in results] == [
        (row[1], row[3]) for row in rows
    ]
    assert all(r["run_id"] == run_id for r in results)
    history = metric_history(functions, run_id, "loss")
    assert [float(m["value"]) for m in history] == [row[2] for row in rows[:5]]
    assert [int(m["timestamp"]) for m in history] == [row[4] for row in rows[:5]]
    assert [float(m["value"]) for m in metric_history(functions, run_id, "r2")] == [
        0.75
    ]


def test_nan_and_infinities_arrive_as_such(functions):
    run_id = functions.new_run()
    values = {"nan": math.nan, "pos_inf": math.inf, "neg_inf": -math.inf, "one": 1.0}
    functions("run_log_metric", [[run_id, k, v, 0, None] for k, v in values.items()])
    stored = {k: metric_history(functions, run_id, k)[0]["value"] for k in values}
    # A bare JSON NaN would be stored as 0; sent as strings they stay NaN/+-Infinity
    # (MLflow's sqlite store clamps infinities to the largest double).
    assert math.isnan(float(stored["nan"]))
    assert float(stored["pos_inf"]) >= sys.float_info.max
    assert float(stored["neg_inf"]) <= -sys.float_info.max
    assert float(stored["one"]) == 1.0


def test_numbers_arriving_as_strings_are_read_the_same(functions):
    """How Snowflake writes NUMBER and a non-finite FLOAT into EVENT is not verified
    (no account here); the translator accepts numbers and their string forms alike."""
    run_id = functions.new_run()
    rows = [
        [run_id, "as_text", "NaN", "3", "1700000000000"],
        [run_id, "as_text", "-Infinity", "4", "1700000000001"],
    ]
    functions.batch("run_log_metric", rows)
    history = metric_history(functions, run_id, "as_text")
    assert [int(m["step"]) for m in history] == [3, 4]
    assert int(history[0]["timestamp"]) == 1_700_000_000_000
    assert math.isnan(float(history[0]["value"]))
    assert float(history[1]["value"]) <= -sys.float_info.max


# Snowflake spells FLOAT specials 'NaN', 'inf' and '-inf'; how they reach a translator is
# not documented (numbers travel as JSON numbers, which cannot hold them), so every common
# spelling must be read, in any case, and sent to MLflow in the form its parser reads.
FLOAT_SPECIALS = {
    **dict.fromkeys(["NaN", "nan", "NAN", "nAn"], "NaN"),
    **dict.fromkeys(
        ["inf", "Inf", "INF", "+inf", "+INF", "infinity", "Infinity", "INFINITY"]
        + ["+infinity", "+Infinity", "+INFINITY", "iNfInItY"],
        "Infinity",
    ),
    **dict.fromkeys(
        ["-inf", "-Inf", "-INF", "-infinity", "-Infinity", "-INFINITY"], "-Infinity"
    ),
}


def test_every_spelling_of_float_specials_arrives_as_such(functions):
    """Strings in every spelling, and the JavaScript numbers NaN and +-Infinity, go
    through the translator in one batch (call_batch skips the emulator's FLOAT cast, so
    the strings reach the JavaScript as strings) and are read back over REST."""
    run_id = functions.new_run()
    values = [*FLOAT_SPECIALS, math.nan, math.inf, -math.inf]
    wire = [*FLOAT_SPECIALS.values(), "NaN", "Infinity", "-Infinity"]
    rows = [[run_id, f"special_{i}", value, 0, None] for i, value in enumerate(values)]
    functions.batch("run_log_metric", rows)
    # What MLflow was sent: the strings its protobuf JSON parser reads as IEEE values
    # (a bare JSON NaN token would be stored as 0).
    sent = {m["key"]: m["value"] for m in functions.emulator.sent[-1].body["metrics"]}
    assert [sent[row[1]] for row in rows] == wire
    for row, expected in zip(rows, wire, strict=True):
        [stored] = metric_history(functions, run_id, row[1])
        number = float(stored["value"])
        if expected == "NaN":
            assert math.isnan(number), (row[2], stored)
        elif expected == "Infinity":  # sqlite clamps to the largest double
            assert number >= sys.float_info.max, (row[2], stored)
        else:
            assert number <= -sys.float_info.max, (row[2], stored)


@pytest.mark.parametrize("text", ["infinite", "NaN ", "-nan", "1.5", ""])
def test_other_strings_are_not_metric_values(functions, text):
    run_id = functions.new_run()
    before = functions.requests
    with pytest.raises(ExternalFunctionError, match="it must be a number"):
        functions.batch("run_log_metric", [[run_id, "m", text, 0, None]])
    assert functions.requests == before


def test_more_metrics_than_one_batch_are_split_by_max_batch_rows(functions):
    run_id = functions.new_run()
    rows = [[run_id, "curve", float(step), step, None] for step in range(1500)]
    before = functions.requests
    results = functions("run_log_metric", rows)
    assert functions.requests - before == 2  # 1000 + 500
    assert [r["step"] for r in results] == list(range(1500))
    history = metric_history(functions, run_id, "curve")
    assert [float(m["value"]) for m in history] == [float(s) for s in range(1500)]


def test_a_batch_over_mlflows_metric_limit_is_refused_clearly(functions):
    run_id = functions.new_run()
    rows = [[run_id, "m", 0.0, step, None] for step in range(1001)]
    with pytest.raises(ExternalFunctionError, match="over MLflow's limit of 1000"):
        functions.batch("run_log_metric", rows)


def test_a_batch_mixing_runs_is_refused_clearly(functions):
    first, second = functions.new_run(), functions.new_run()
    rows = [[first, "m", 1.0, 0, None], [second, "m", 2.0, 0, None]]
    with pytest.raises(
        ExternalFunctionError, match="one statement must log to one run"
    ):
        functions("run_log_metric", rows)
    assert metric_history(functions, first, "m") == []


def test_metric_with_no_value_is_refused_clearly(functions):
    run_id = functions.new_run()
    with pytest.raises(ExternalFunctionError, match=r'value of metric "m" is null'):
        functions("run_log_metric", [[run_id, "m", None, 0, None]])


@pytest.mark.parametrize("key", ["it's", "semi;colon", 'a"b'])
def test_metric_keys_mlflow_refuses_fail_the_call_with_its_message(functions, key):
    run_id = functions.new_run()
    with pytest.raises(ExternalFunctionError) as error:
        functions("run_log_metric", [[run_id, key, 1.0, 0, None]])
    assert error.value.status == 400
    assert "INVALID_PARAMETER_VALUE" in error.value.body


def test_a_10_kb_metric_key_is_refused_clearly(functions):
    run_id = functions.new_run()
    with pytest.raises(ExternalFunctionError, match="1 to 250 characters"):
        functions("run_log_metric", [[run_id, "k" * 10_000, 1.0, 0, None]])


def test_unicode_metric_key_arrives_verbatim(functions):
    run_id = functions.new_run()
    functions("run_log_metric", [[run_id, "température/été", 2.5, 0, None]])
    assert (
        float(metric_history(functions, run_id, "température/été")[0]["value"]) == 2.5
    )


# --- run_log_parameter -> runs/log-batch ------------------------------------------


def stored_params(functions, run_id: str) -> dict[str, str]:
    data = functions.run(run_id)["data"]
    return {param["key"]: param["value"] for param in data.get("params", [])}


def test_hostile_param_values_arrive_verbatim_in_one_request(functions):
    run_id = functions.new_run()
    rows = [[run_id, f"p{i}", value] for i, value in enumerate(HOSTILE_VALUES)]
    before = functions.requests
    results = functions("run_log_parameter", rows)
    assert functions.requests - before == 1
    assert [r["key"] for r in results] == [row[1] for row in rows]
    assert stored_params(functions, run_id) == {row[1]: row[2] for row in rows}


def test_more_params_than_one_batch_are_split_by_max_batch_rows(functions):
    run_id = functions.new_run()
    rows = [[run_id, f"param_{i:03d}", str(i)] for i in range(150)]
    before = functions.requests
    functions("run_log_parameter", rows)
    assert functions.requests - before == 2  # 100 + 50
    assert stored_params(functions, run_id) == {row[1]: row[2] for row in rows}


def test_a_batch_over_mlflows_param_limit_is_refused_clearly(functions):
    run_id = functions.new_run()
    rows = [[run_id, f"p{i}", "v"] for i in range(101)]
    with pytest.raises(ExternalFunctionError, match="over MLflow's limit of 100"):
        functions.batch("run_log_parameter", rows)


def test_a_10_kb_param_value_is_refused_instead_of_truncated(functions):
    run_id = functions.new_run()
    with pytest.raises(ExternalFunctionError, match="over MLflow's limit of 6000"):
        functions("run_log_parameter", [[run_id, "big", "x" * 10_000]])
    assert stored_params(functions, run_id) == {}


def test_a_10_kb_param_key_is_refused_clearly(functions):
    run_id = functions.new_run()
    with pytest.raises(ExternalFunctionError, match="1 to 250 characters"):
        functions("run_log_parameter", [[run_id, "k" * 10_000, "v"]])


def test_a_repeated_param_is_sent_once_and_a_conflict_is_refused(functions):
    run_id = functions.new_run()
    results = functions("run_log_parameter", [[run_id, "a", "1"], [run_id, "a", "1"]])
    assert [r["key"] for r in results] == ["a", "a"]
    assert stored_params(functions, run_id) == {"a": "1"}
    with pytest.raises(ExternalFunctionError, match="twice with different values"):
        functions("run_log_parameter", [[run_id, "b", "1"], [run_id, "b", "2"]])


def test_null_param_value_is_refused_clearly(functions):
    run_id = functions.new_run()
    with pytest.raises(ExternalFunctionError, match=r'param "p".*is NULL'):
        functions("run_log_parameter", [[run_id, "p", None]])


@pytest.mark.parametrize("key", ["it's", "semi;colon"])
def test_param_keys_mlflow_refuses_fail_the_call_with_its_message(functions, key):
    run_id = functions.new_run()
    with pytest.raises(ExternalFunctionError) as error:
        functions("run_log_parameter", [[run_id, key, "v"]])
    assert error.value.status == 400
    assert "INVALID_PARAMETER_VALUE" in error.value.body


# --- run_set_tag (sql/07) -> runs/log-batch with tags ----------------------------------


def set_tag(functions, rows: list[list], one_batch: bool = False) -> list:
    conf = yaml.safe_load(
        (functions.project.path / "conf/base/snowflake.yml").read_text()
    )
    name = conf["snowflake"]["deploy"]["tag_function"]
    call = functions.emulator.call_batch if one_batch else functions.emulator.call
    return call(name, rows)


def stored_tags(functions, run_id: str) -> dict[str, str]:
    data = functions.run(run_id)["data"]
    return {tag["key"]: tag["value"] for tag in data.get("tags", [])}


def test_tags_of_one_statement_go_in_one_request_and_arrive_verbatim(functions):
    run_id = functions.new_run()
    values = [v for v in HOSTILE_VALUES if len(v) <= 8000]
    rows = [[run_id, f"kedro.t{i}", value] for i, value in enumerate(values)]
    before = functions.requests
    assert set_tag(functions, rows) == [True] * len(rows)
    assert functions.requests - before == 1
    tags = stored_tags(functions, run_id)
    assert {row[1]: tags[row[1]] for row in rows} == {row[1]: row[2] for row in rows}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            lambda r: [[r, f"t{i}", "v"] for i in range(101)],
            "1 to 100 tags per request",
        ),
        (
            lambda r: [[r, "a", "1"], ["0" * 32, "b", "2"]],
            "one batch holds tags of runs",
        ),
        (lambda r: [[r, "a", "1"], [r, "a", "1"]], "appears twice in one batch"),
        (lambda r: [[r, "big", "x" * 8001]], "MLflow keeps at most 8000"),
    ],
    ids=["over-100", "mixed-runs", "repeated-key", "over-8000"],
)
def test_tag_batches_mlflow_would_refuse_are_refused_clearly(functions, rows, message):
    run_id = functions.new_run()
    with pytest.raises(ExternalFunctionError, match=message):
        set_tag(functions, rows(run_id), one_batch=True)
    assert not any(
        k.startswith(("t", "a", "b", "big")) for k in stored_tags(functions, run_id)
    )
