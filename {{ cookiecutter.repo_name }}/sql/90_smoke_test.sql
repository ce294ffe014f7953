-- ============================================================================
-- 90_smoke_test.sql — one MLflow run through the five external functions
--
-- Role needed : {{ cookiecutter.snowflake_role }}.
-- Creates     : no Snowflake object; in MLflow, one run named sql-smoke-test in
--               experiment {{ cookiecutter.mlflow_experiment_name }} with one metric, one param and one tag, FINISHED.
-- Expects     : everything from 01-07, the cloud side of 03 done, the MLflow server
--               reachable through the gateway, and the experiment created in MLflow
--               (for example: mlflow experiments create -n <name>, with MLFLOW_TRACKING_URI set).
--
-- Run it statement by statement the first time: a failure shows which hop is broken.
-- experiment_id is NULL -> the experiment does not exist in MLflow (run_create then
-- fails with "experiment_id is empty"). HTTP 403 -> the cloud side of 03. HTTP 404 or
-- 502 -> the gateway's route to MLflow, or MLflow's --allowed-hosts (sql/README.md).
-- Each run of this script creates a new run in MLflow.
-- ============================================================================

USE ROLE {{ cookiecutter.snowflake_role }};
USE WAREHOUSE {{ cookiecutter.snowflake_warehouse }};

SET experiment_id = (
  SELECT {{ cookiecutter.__fn_prefix }}experiment_get_by_name('{{ cookiecutter.mlflow_experiment_name | replace("\\", "\\\\") | replace("'", "''") }}'):experiment_id::VARCHAR
);

SET run_id = (
  SELECT {{ cookiecutter.__fn_prefix }}run_create(
    $experiment_id,
    'sql-smoke-test',
    DATE_PART(EPOCH_MILLISECOND, CURRENT_TIMESTAMP()),
    OBJECT_CONSTRUCT('mlflow.source.name', 'sql/90_smoke_test.sql')
  ):run_id::VARCHAR
);

SELECT {{ cookiecutter.__fn_prefix }}run_log_metric($run_id, 'smoke_metric', 1.0, 0, DATE_PART(EPOCH_MILLISECOND, CURRENT_TIMESTAMP())) AS logged_metric;

SELECT {{ cookiecutter.__fn_prefix }}run_log_parameter($run_id, 'smoke_param', 'ok') AS logged_param;

-- The tag function of 07 (the task graph's finalizer tags a FAILED run with it).
SELECT {{ cookiecutter.__fn_prefix }}run_set_tag($run_id, 'smoke_tag', 'ok') AS tagged;

-- The result: the run info with status FINISHED; open the run in the MLflow UI by its run_id.
SELECT
  $experiment_id AS experiment_id,
  $run_id AS run_id,
  {{ cookiecutter.__fn_prefix }}run_update($run_id, 'FINISHED', DATE_PART(EPOCH_MILLISECOND, CURRENT_TIMESTAMP())) AS run_info;
