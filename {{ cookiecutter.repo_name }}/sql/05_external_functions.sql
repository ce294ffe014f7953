-- ============================================================================
-- 05_external_functions.sql — the five MLflow external functions
--
-- Role needed : {{ cookiecutter.snowflake_role }} (CREATE FUNCTION on the schema, granted in 02, and USAGE on
--               integration {{ cookiecutter.__api_integration }}, granted in 03).
-- Creates     : the functions named in conf/base/snowflake.yml (snowflake.mlflow.functions).
-- Expects     : API integration {{ cookiecutter.__api_integration }} (03, and its cloud side done),
--               the ten translators of 04_translators.sql.
--
-- Every function POSTs to the gateway URL below; the request translator appends the
-- MLflow path (urlSuffix, for example /api/2.0/mlflow/runs/create), so the gateway must
-- forward every path under this URL to the MLflow server (see sql/README.md).
-- VOLATILE: each call changes MLflow, so Snowflake must never cache or reuse a result.
-- MAX_BATCH_ROWS: lookups, creates and updates are one MLflow call per row; metrics and
-- params of one run go as one runs/log-batch, whose limits are 1000 metrics and 100 params.
-- COMPRESSION = NONE: without it Snowflake uses AUTO, which on AWS means GZIP (NONE on
-- Azure and GCP; see CREATE EXTERNAL FUNCTION in Snowflake's docs) and sends the body with
-- Content-Encoding: gzip. The gateway passes it on to MLflow, whose tracking server does
-- not decode compressed bodies and answers 400 or 500, so every call would fail.
-- ============================================================================

-- The project role owns what this script creates (so it can call it without grants).
USE ROLE {{ cookiecutter.snowflake_role }};

EXECUTE IMMEDIATE $$
DECLARE
  placeholder_left EXCEPTION (-20001, 'sql/05_external_functions.sql still holds a placeholder for the gateway URL (text in angle brackets): replace every one in this file with your gateway URL (https://...), or regenerate the project with mlflow_gateway_url set.');
BEGIN
  IF (CONTAINS('{{ cookiecutter.__gateway_url.rstrip('/') }}', '<')) THEN
    RAISE placeholder_left;
  END IF;
END;
$$;

CREATE OR REPLACE EXTERNAL FUNCTION {{ cookiecutter.__fn_prefix }}experiment_get_by_name(experiment_name VARCHAR)
  RETURNS VARIANT
  VOLATILE
  COMMENT = 'MLflow experiment by name (experiments/search), NULL if there is none'
  API_INTEGRATION = {{ cookiecutter.__api_integration }}
  MAX_BATCH_ROWS = 1
  COMPRESSION = NONE
  REQUEST_TRANSLATOR = {{ cookiecutter.__fn_prefix }}experiment_get_by_name_request_translator
  RESPONSE_TRANSLATOR = {{ cookiecutter.__fn_prefix }}experiment_get_by_name_response_translator
  AS '{{ cookiecutter.__gateway_url.rstrip('/') }}';

CREATE OR REPLACE EXTERNAL FUNCTION {{ cookiecutter.__fn_prefix }}run_create(experiment_id VARCHAR, run_name VARCHAR, start_time_ms NUMBER, tags VARIANT)
  RETURNS VARIANT
  VOLATILE
  COMMENT = 'Create an MLflow run (runs/create); returns the run info (run_id, artifact_uri, ...)'
  API_INTEGRATION = {{ cookiecutter.__api_integration }}
  MAX_BATCH_ROWS = 1
  COMPRESSION = NONE
  REQUEST_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_create_request_translator
  RESPONSE_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_create_response_translator
  AS '{{ cookiecutter.__gateway_url.rstrip('/') }}';

CREATE OR REPLACE EXTERNAL FUNCTION {{ cookiecutter.__fn_prefix }}run_update(run_id VARCHAR, status VARCHAR, end_time_ms NUMBER)
  RETURNS VARIANT
  VOLATILE
  COMMENT = 'Set the status (and end time) of an MLflow run (runs/update); returns the run info'
  API_INTEGRATION = {{ cookiecutter.__api_integration }}
  MAX_BATCH_ROWS = 1
  COMPRESSION = NONE
  REQUEST_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_update_request_translator
  RESPONSE_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_update_response_translator
  AS '{{ cookiecutter.__gateway_url.rstrip('/') }}';

CREATE OR REPLACE EXTERNAL FUNCTION {{ cookiecutter.__fn_prefix }}run_log_metric(run_id VARCHAR, key VARCHAR, value FLOAT, step NUMBER, timestamp_ms NUMBER)
  RETURNS VARIANT
  VOLATILE
  COMMENT = 'Log metrics of one MLflow run; the rows of a batch become one runs/log-batch'
  API_INTEGRATION = {{ cookiecutter.__api_integration }}
  MAX_BATCH_ROWS = 1000
  COMPRESSION = NONE
  REQUEST_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_log_metric_request_translator
  RESPONSE_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_log_metric_response_translator
  AS '{{ cookiecutter.__gateway_url.rstrip('/') }}';

CREATE OR REPLACE EXTERNAL FUNCTION {{ cookiecutter.__fn_prefix }}run_log_parameter(run_id VARCHAR, key VARCHAR, value VARCHAR)
  RETURNS VARIANT
  VOLATILE
  COMMENT = 'Log params of one MLflow run; the rows of a batch become one runs/log-batch'
  API_INTEGRATION = {{ cookiecutter.__api_integration }}
  MAX_BATCH_ROWS = 100
  COMPRESSION = NONE
  REQUEST_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_log_parameter_request_translator
  RESPONSE_TRANSLATOR = {{ cookiecutter.__fn_prefix }}run_log_parameter_response_translator
  AS '{{ cookiecutter.__gateway_url.rstrip('/') }}';
