-- ============================================================================
-- 04_translators.sql — request and response translators for the MLflow REST API
--
-- Role needed : {{ cookiecutter.snowflake_role }} (CREATE FUNCTION on schema {{ cookiecutter.__db }}.{{ cookiecutter.__schema }}, granted in 02).
-- Creates     : ten JavaScript UDFs, a request and a response translator for each of
--               the five external functions of 05_external_functions.sql.
-- Expects     : database {{ cookiecutter.__db }} and schema {{ cookiecutter.__db }}.{{ cookiecutter.__schema }} (02).
--
-- Why translators: an external function can only POST Snowflake's batch format
-- ({"data": [[row_number, arg, ...], ...]}) to one URL. A request translator turns a
-- batch into the body of one MLflow call and picks the endpoint with urlSuffix (appended
-- to the URL of the function's AS clause); the response translator turns MLflow's answer
-- back into one value per row, for the same rows in the same order (the row numbers
-- travel in translatorData). Rules enforced here because MLflow does not enforce them:
--   * runs/update answers 200 and ignores an unknown status: the status is checked here;
--   * a bare NaN/Infinity in JSON is stored as 0: non-finite metric values (as numbers,
--     or as strings such as Snowflake's 'NaN', 'inf', '-inf', in any case) are sent as
--     the strings "NaN", "Infinity" and "-Infinity";
--   * param values over 6000 characters are truncated silently: they are refused here;
--   * runs/log-batch takes one run, at most 1000 metrics or 100 params, and no key twice.
-- An error thrown here fails the SQL statement with the message shown.
-- ============================================================================

-- The project role owns what this script creates (so it can call it without grants).
USE ROLE {{ cookiecutter.snowflake_role }};

-- experiment_get_by_name(experiment_name) -> experiments/search (MLflow's get-by-name is
-- GET only, and external functions always POST). One row per batch (MAX_BATCH_ROWS = 1).
CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}experiment_get_by_name_request_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Request translator of {{ cookiecutter.__fn_prefix }}experiment_get_by_name (MLflow experiments/search)'
AS
$$
var fn = "{{ cookiecutter.__fn_prefix }}experiment_get_by_name";
var rows = EVENT.body.data;
if (rows.length !== 1) {
  throw new Error(fn + ": got a batch of " + rows.length + " rows, expected 1 (MAX_BATCH_ROWS = 1); re-run sql/05_external_functions.sql");
}
var name = rows[0][1];
if (typeof name !== "string" || name.length === 0) {
  throw new Error(fn + ": experiment_name is " + JSON.stringify(name) + "; it must be a non-empty string (set snowflake.mlflow.experiment_name)");
}
// MLflow's filter grammar has no escape for the quote that delimits the value, so the
// value is delimited by the quote it does not contain.
var quote = name.indexOf("'") < 0 ? "'" : (name.indexOf('"') < 0 ? '"' : null);
if (quote === null || name.charAt(name.length - 1) === "\\") {
  throw new Error(fn + ": experiment_name " + JSON.stringify(name) + " cannot be searched in MLflow (it holds both quote kinds or ends with a backslash); rename the experiment");
}
return {
  body: {filter: "name = " + quote + name + quote, max_results: 1},
  urlSuffix: "/api/2.0/mlflow/experiments/search",
  translatorData: {rows: [rows[0][0]]}
};
$$;

CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}experiment_get_by_name_response_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Response translator of {{ cookiecutter.__fn_prefix }}experiment_get_by_name: the experiment, or NULL'
AS
$$
// experiments/search answers {} when nothing matches: that is NULL, not an error.
var found = (EVENT.body && EVENT.body.experiments) || [];
return {body: {data: [[EVENT.translatorData.rows[0], found.length > 0 ? found[0] : null]]}};
$$;

-- run_create(experiment_id, run_name, start_time_ms, tags) -> runs/create, one run per call.
CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_create_request_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Request translator of {{ cookiecutter.__fn_prefix }}run_create (MLflow runs/create)'
AS
$$
var fn = "{{ cookiecutter.__fn_prefix }}run_create";
var rows = EVENT.body.data;
if (rows.length !== 1) {
  throw new Error(fn + ": got a batch of " + rows.length + " rows, expected 1 (MAX_BATCH_ROWS = 1); re-run sql/05_external_functions.sql");
}
var row = rows[0];
var experimentId = row[1], runName = row[2], startTime = row[3], tags = row[4];
if (experimentId === null || experimentId === undefined || String(experimentId).length === 0) {
  throw new Error(fn + ": experiment_id is empty; pass the experiment_id returned by {{ cookiecutter.__fn_prefix }}experiment_get_by_name");
}
// Without start_time MLflow stores 0 (1970); default to now.
var start = (startTime === null || startTime === undefined) ? Date.now() : Number(startTime);
if (!Number.isInteger(start) || start < 0) {
  throw new Error(fn + ": start_time_ms " + JSON.stringify(startTime) + " is not a non-negative integer (milliseconds since 1970)");
}
var tagList = [];
if (tags !== null && tags !== undefined) {
  if (typeof tags !== "object" || Array.isArray(tags)) {
    throw new Error(fn + ": tags must be an OBJECT of key -> value (or NULL), got " + JSON.stringify(tags));
  }
  Object.keys(tags).forEach(function (key) {
    var value = tags[key];
    tagList.push({key: key, value: typeof value === "string" ? value : JSON.stringify(value)});
  });
}
var body = {experiment_id: String(experimentId), start_time: start, tags: tagList};
if (runName !== null && runName !== undefined) {
  body.run_name = String(runName);
}
return {body: body, urlSuffix: "/api/2.0/mlflow/runs/create", translatorData: {rows: [row[0]]}};
$$;

CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_create_response_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Response translator of {{ cookiecutter.__fn_prefix }}run_create: the run info (run_id, artifact_uri, ...)'
AS
$$
if (!EVENT.body || !EVENT.body.run || !EVENT.body.run.info) {
  throw new Error("{{ cookiecutter.__fn_prefix }}run_create: MLflow runs/create answered without run.info: " + JSON.stringify(EVENT.body).slice(0, 500));
}
return {body: {data: [[EVENT.translatorData.rows[0], EVENT.body.run.info]]}};
$$;

-- run_update(run_id, status, end_time_ms) -> runs/update, one run per call.
CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_update_request_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Request translator of {{ cookiecutter.__fn_prefix }}run_update (MLflow runs/update)'
AS
$$
var fn = "{{ cookiecutter.__fn_prefix }}run_update";
var statuses = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];
var rows = EVENT.body.data;
if (rows.length !== 1) {
  throw new Error(fn + ": got a batch of " + rows.length + " rows, expected 1 (MAX_BATCH_ROWS = 1); re-run sql/05_external_functions.sql");
}
var row = rows[0];
var runId = row[1], status = row[2], endTime = row[3];
if (typeof runId !== "string" || runId.length === 0) {
  throw new Error(fn + ": run_id is " + JSON.stringify(runId) + "; pass the run_id returned by {{ cookiecutter.__fn_prefix }}run_create");
}
// MLflow answers 200 to an unknown status and changes nothing: refuse it here.
if (statuses.indexOf(status) < 0) {
  throw new Error(fn + ": status " + JSON.stringify(status) + " is not an MLflow run status; use one of " + statuses.join(", "));
}
var body = {run_id: runId, status: status};
if (endTime !== null && endTime !== undefined) {
  body.end_time = Number(endTime);
} else if (status !== "RUNNING" && status !== "SCHEDULED") {
  body.end_time = Date.now();
}
if (body.end_time !== undefined && (!Number.isInteger(body.end_time) || body.end_time < 0)) {
  throw new Error(fn + ": end_time_ms " + JSON.stringify(endTime) + " is not a non-negative integer (milliseconds since 1970)");
}
return {body: body, urlSuffix: "/api/2.0/mlflow/runs/update", translatorData: {rows: [row[0]]}};
$$;

CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_update_response_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Response translator of {{ cookiecutter.__fn_prefix }}run_update: the updated run info'
AS
$$
if (!EVENT.body || !EVENT.body.run_info) {
  throw new Error("{{ cookiecutter.__fn_prefix }}run_update: MLflow runs/update answered without run_info: " + JSON.stringify(EVENT.body).slice(0, 500));
}
return {body: {data: [[EVENT.translatorData.rows[0], EVENT.body.run_info]]}};
$$;

-- run_log_metric(run_id, key, value, step, timestamp_ms) -> ONE runs/log-batch per batch.
CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_log_metric_request_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Request translator of {{ cookiecutter.__fn_prefix }}run_log_metric (MLflow runs/log-batch, metrics)'
AS
$$
var fn = "{{ cookiecutter.__fn_prefix }}run_log_metric";
var limit = 1000;  // MLflow's runs/log-batch limit for metrics
var rows = EVENT.body.data;
if (rows.length > limit) {
  throw new Error(fn + ": a batch of " + rows.length + " rows is over MLflow's limit of " + limit + " metrics per runs/log-batch; set MAX_BATCH_ROWS <= " + limit + " (sql/05_external_functions.sql)");
}
var runId = rows[0][1];
if (typeof runId !== "string" || runId.length === 0) {
  throw new Error(fn + ": run_id is " + JSON.stringify(runId) + " (row " + rows[0][0] + "); pass the run_id returned by {{ cookiecutter.__fn_prefix }}run_create");
}
// Snowflake spells FLOAT specials 'NaN', 'inf' and '-inf', and does not document how
// they reach a translator (JSON numbers cannot hold them): every usual spelling is read,
// in any case, as well as the JavaScript numbers themselves.
var specials = {
  "nan": NaN, "inf": Infinity, "+inf": Infinity, "-inf": -Infinity,
  "infinity": Infinity, "+infinity": Infinity, "-infinity": -Infinity
};
var metrics = [], logged = [], now = Date.now();
rows.forEach(function (row) {
  var where = " (row " + row[0] + ")";
  if (row[1] !== runId) {
    throw new Error(fn + ": one statement must log to one run, got run_id " + JSON.stringify(runId) + " and " + JSON.stringify(row[1]) + where + "; log each run in its own statement");
  }
  var key = row[2], value = row[3], step = row[4], timestamp = row[5];
  if (typeof key !== "string" || key.length === 0 || key.length > 250) {
    throw new Error(fn + ": metric key " + JSON.stringify(key) + where + " must be a string of 1 to 250 characters");
  }
  if (typeof value === "string" && Object.prototype.hasOwnProperty.call(specials, value.toLowerCase())) {
    value = specials[value.toLowerCase()];
  }
  if (typeof value !== "number") {
    throw new Error(fn + ": value of metric " + JSON.stringify(key) + " is " + JSON.stringify(value) + where + "; it must be a number (NaN and +-Infinity are allowed)");
  }
  step = (step === null || step === undefined) ? 0 : Number(step);
  timestamp = (timestamp === null || timestamp === undefined) ? now : Number(timestamp);
  if (!Number.isInteger(step) || !Number.isInteger(timestamp) || timestamp < 0) {
    throw new Error(fn + ": step " + JSON.stringify(row[4]) + " and timestamp_ms " + JSON.stringify(row[5]) + " of metric " + JSON.stringify(key) + where + " must be integers");
  }
  // JSON has no NaN/Infinity (JSON.stringify writes null, MLflow would store 0);
  // MLflow's protobuf JSON parser reads these strings as the IEEE values.
  var wire = isFinite(value) ? value : (isNaN(value) ? "NaN" : (value > 0 ? "Infinity" : "-Infinity"));
  metrics.push({key: key, value: wire, step: step, timestamp: timestamp});
  logged.push([row[0], key, step, timestamp]);
});
return {
  body: {run_id: runId, metrics: metrics},
  urlSuffix: "/api/2.0/mlflow/runs/log-batch",
  translatorData: {run_id: runId, logged: logged}
};
$$;

CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_log_metric_response_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Response translator of {{ cookiecutter.__fn_prefix }}run_log_metric: one {run_id, key, step, timestamp} per row'
AS
$$
var runId = EVENT.translatorData.run_id;
return {body: {data: EVENT.translatorData.logged.map(function (item) {
  return [item[0], {run_id: runId, key: item[1], step: item[2], timestamp: item[3]}];
})}};
$$;

-- run_log_parameter(run_id, key, value) -> ONE runs/log-batch per batch.
CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_log_parameter_request_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Request translator of {{ cookiecutter.__fn_prefix }}run_log_parameter (MLflow runs/log-batch, params)'
AS
$$
var fn = "{{ cookiecutter.__fn_prefix }}run_log_parameter";
var limit = 100;  // MLflow's runs/log-batch limit for params
var maxValue = 6000;  // longer values would be truncated by MLflow without an error
var rows = EVENT.body.data;
if (rows.length > limit) {
  throw new Error(fn + ": a batch of " + rows.length + " rows is over MLflow's limit of " + limit + " params per runs/log-batch; set MAX_BATCH_ROWS <= " + limit + " (sql/05_external_functions.sql)");
}
var runId = rows[0][1];
if (typeof runId !== "string" || runId.length === 0) {
  throw new Error(fn + ": run_id is " + JSON.stringify(runId) + " (row " + rows[0][0] + "); pass the run_id returned by {{ cookiecutter.__fn_prefix }}run_create");
}
var params = [], seen = {}, logged = [];
rows.forEach(function (row) {
  var where = " (row " + row[0] + ")";
  if (row[1] !== runId) {
    throw new Error(fn + ": one statement must log to one run, got run_id " + JSON.stringify(runId) + " and " + JSON.stringify(row[1]) + where + "; log each run in its own statement");
  }
  var key = row[2], value = row[3];
  if (typeof key !== "string" || key.length === 0 || key.length > 250) {
    throw new Error(fn + ": param key " + JSON.stringify(key) + where + " must be a string of 1 to 250 characters");
  }
  if (value === null || value === undefined) {
    throw new Error(fn + ": value of param " + JSON.stringify(key) + where + " is NULL; pass a string (for example 'None')");
  }
  value = String(value);
  if (value.length > maxValue) {
    throw new Error(fn + ": value of param " + JSON.stringify(key) + where + " has " + value.length + " characters, over MLflow's limit of " + maxValue + "; log it as an artifact instead");
  }
  // MLflow refuses a key twice in one request, even with the same value.
  if (Object.prototype.hasOwnProperty.call(seen, key)) {
    if (seen[key] !== value) {
      throw new Error(fn + ": param " + JSON.stringify(key) + " is given twice with different values" + where + "; a param has one value per run");
    }
  } else {
    seen[key] = value;
    params.push({key: key, value: value});
  }
  logged.push([row[0], key]);
});
return {
  body: {run_id: runId, params: params},
  urlSuffix: "/api/2.0/mlflow/runs/log-batch",
  translatorData: {run_id: runId, logged: logged}
};
$$;

CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_log_parameter_response_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Response translator of {{ cookiecutter.__fn_prefix }}run_log_parameter: one {run_id, key} per row'
AS
$$
var runId = EVENT.translatorData.run_id;
return {body: {data: EVENT.translatorData.logged.map(function (item) {
  return [item[0], {run_id: runId, key: item[1]}];
})}};
$$;
