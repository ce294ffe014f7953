-- ============================================================================
-- 07_task_graph.sql — what `kedro snowflake deploy` needs to run the pipeline inside
-- Snowflake as a task graph
--
-- Role needed : ACCOUNTADMIN (EXECUTE TASK is an account privilege), then role
--               {{ cookiecutter.snowflake_role }}, which the script switches to.
-- Creates     : as ACCOUNTADMIN, the grants of EXECUTE TASK and of the database role
--               SNOWFLAKE.ANACONDA_REPOSITORY_USER to role {{ cookiecutter.snowflake_role }};
--               as SYSADMIN, CREATE TASK on schema {{ cookiecutter.__db }}.{{ cookiecutter.__schema }} for that role;
--               as {{ cookiecutter.snowflake_role }}, the code stage {{ cookiecutter.__code_stage[1:] }} (where deploy
--               uploads the project and the libraries the procedure imports), the
--               translator pair and the external function
--               {{ cookiecutter.__fn_prefix }}run_set_tag (the finalizer tags a FAILED run with
--               the node that failed).
-- Expects     : 01-05 (the role, the schema with CREATE PROCEDURE for the role, the
--               API integration and its gateway).
--
-- deploy itself then creates, as the project role: the procedure, the tasks and the
-- runs table (snowflake.deploy in conf/base/snowflake.yml names them); `kedro
-- snowflake destroy` drops them. Docs: CREATE TASK
-- (https://docs.snowflake.com/en/sql-reference/sql/create-task), EXECUTE TASK
-- (https://docs.snowflake.com/en/sql-reference/sql/execute-task: the role needs the
-- EXECUTE TASK account privilege and ownership or OPERATE on the task).
-- ============================================================================

USE ROLE ACCOUNTADMIN;

EXECUTE IMMEDIATE $$
DECLARE
  placeholder_left EXCEPTION (-20001, 'sql/07_task_graph.sql still holds a placeholder for the gateway URL (text in angle brackets): replace every one in this file with your gateway URL (https://...), or regenerate the project with mlflow_gateway_url set.');
BEGIN
  IF (CONTAINS('{{ cookiecutter.__gateway_url.rstrip('/') }}', '<')) THEN
    RAISE placeholder_left;
  END IF;
END;
$$;

GRANT EXECUTE TASK ON ACCOUNT TO ROLE {{ cookiecutter.snowflake_role }};

-- The procedure's PACKAGES come from the shared Anaconda repository
-- (snowflake.deploy.artifact_repository). Creating or running a procedure that uses it
-- needs this database role; Snowflake grants it to PUBLIC by default, so this matters
-- where PUBLIC's grants were revoked (docs: release-notes/bcr-bundles/2026_06/bcr-2379).
-- With artifact_repository snowflake.snowpark.pypi_shared_repository, grant
-- SNOWFLAKE.PYPI_REPOSITORY_USER instead.
GRANT DATABASE ROLE SNOWFLAKE.ANACONDA_REPOSITORY_USER TO ROLE {{ cookiecutter.snowflake_role }};

USE ROLE SYSADMIN;

GRANT CREATE TASK ON SCHEMA {{ cookiecutter.__db }}.{{ cookiecutter.__schema }} TO ROLE {{ cookiecutter.snowflake_role }};

USE ROLE {{ cookiecutter.snowflake_role }};

-- Internal stage: the procedure's IMPORTS are read from it (only pure-Python code can
-- come from a stage; compiled libraries come from PACKAGES).
CREATE STAGE IF NOT EXISTS {{ cookiecutter.__code_stage[1:] }}
  COMMENT = 'Code of {{ cookiecutter.project_name }} for its task graph (kedro snowflake deploy)';

-- run_set_tag(run_id, key, value) -> runs/log-batch with tags: the rows of a batch (one
-- run) become one request, like run_log_parameter.
CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_set_tag_request_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Request translator of {{ cookiecutter.__fn_prefix }}run_set_tag (MLflow runs/log-batch, tags)'
AS
$$
var fn = "{{ cookiecutter.__fn_prefix }}run_set_tag";
var rows = EVENT.body.data;
if (rows.length === 0 || rows.length > 100) {
  throw new Error(fn + ": got a batch of " + rows.length + " rows; MLflow takes 1 to 100 tags per request (MAX_BATCH_ROWS = 100)");
}
var runId = rows[0][1];
var tags = [];
var seen = {};
for (var i = 0; i < rows.length; i++) {
  var row = rows[i];
  if (row[1] !== runId) {
    throw new Error(fn + ": one batch holds tags of runs " + JSON.stringify(runId) + " and " + JSON.stringify(row[1]) + "; log one run per statement");
  }
  if (typeof row[2] !== "string" || row[2].length === 0) {
    throw new Error(fn + ": tag key " + JSON.stringify(row[2]) + " must be a non-empty string");
  }
  if (seen[row[2]]) {
    throw new Error(fn + ": tag " + JSON.stringify(row[2]) + " appears twice in one batch");
  }
  seen[row[2]] = true;
  var value = row[3] === null || row[3] === undefined ? "" : String(row[3]);
  if (value.length > 8000) {
    throw new Error(fn + ": the value of tag " + JSON.stringify(row[2]) + " has " + value.length + " characters; MLflow keeps at most 8000");
  }
  tags.push({key: row[2], value: value});
}
return {
  body: {run_id: runId, tags: tags},
  urlSuffix: "/api/2.0/mlflow/runs/log-batch",
  translatorData: {rows: rows.map(function (r) { return r[0]; })}
};
$$;

CREATE OR REPLACE FUNCTION {{ cookiecutter.__fn_prefix }}run_set_tag_response_translator(EVENT OBJECT)
  RETURNS OBJECT
  LANGUAGE JAVASCRIPT
  COMMENT = 'Response translator of {{ cookiecutter.__fn_prefix }}run_set_tag: true for each row'
AS
$$
return {body: {data: EVENT.translatorData.rows.map(function (n) { return [n, true]; })}};
$$;

CREATE OR REPLACE EXTERNAL FUNCTION {{ cookiecutter.__fn_prefix }}run_set_tag(run_id VARCHAR, key VARCHAR, value VARCHAR)
  RETURNS VARIANT
  VOLATILE
  COMMENT = 'Set tags of one MLflow run; the rows of a batch become one runs/log-batch'
  API_INTEGRATION = {{ cookiecutter.__api_integration }}
  MAX_BATCH_ROWS = 100
  COMPRESSION = NONE
  REQUEST_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_set_tag_request_translator
  RESPONSE_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_set_tag_response_translator
  AS '{{ cookiecutter.__gateway_url.rstrip('/') }}';
