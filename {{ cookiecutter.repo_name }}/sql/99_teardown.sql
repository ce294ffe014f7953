-- ============================================================================
-- 99_teardown.sql — drop everything 01-06 created, in reverse order
--
-- Role needed : ACCOUNTADMIN (it owns the integrations and inherits the project role
--               through SYSADMIN, so it can drop the project's objects too).
-- Drops       : the MLflow stage and storage integration (06), the external functions
--               (05), the translators (04), the API integration (03), the data stage,
--               schema, database and warehouse (02), and the role (01).
-- Expects     : nothing (IF EXISTS everywhere), so it can be re-run.
--
-- WARNING: this drops database {{ cookiecutter.__db }} with every table in it, and the
-- warehouse {{ cookiecutter.snowflake_warehouse }}. If they existed before this project, delete those DROP
-- statements first. MLflow's runs and artifacts are not touched.
-- ============================================================================

USE ROLE ACCOUNTADMIN;

-- 06: the MLflow stage, then its storage integration
DROP STAGE IF EXISTS {{ cookiecutter.__mlflow_stage[1:] }};
DROP STORAGE INTEGRATION IF EXISTS {{ cookiecutter.__storage_integration }};

-- 05: external functions (dropped by signature)
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_log_parameter(VARCHAR, VARCHAR, VARCHAR);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_log_metric(VARCHAR, VARCHAR, FLOAT, NUMBER, NUMBER);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_update(VARCHAR, VARCHAR, NUMBER);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_create(VARCHAR, VARCHAR, NUMBER, VARIANT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}experiment_get_by_name(VARCHAR);

-- 04: translators
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_log_parameter_response_translator(OBJECT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_log_parameter_request_translator(OBJECT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_log_metric_response_translator(OBJECT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_log_metric_request_translator(OBJECT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_update_response_translator(OBJECT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_update_request_translator(OBJECT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_create_response_translator(OBJECT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}run_create_request_translator(OBJECT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}experiment_get_by_name_response_translator(OBJECT);
DROP FUNCTION IF EXISTS {{ cookiecutter.__fn_prefix }}experiment_get_by_name_request_translator(OBJECT);

-- 03: the API integration
DROP API INTEGRATION IF EXISTS {{ cookiecutter.__api_integration }};

-- 02: data stage, schema, database, warehouse
DROP STAGE IF EXISTS {{ cookiecutter.__data_stage[1:] }};
DROP SCHEMA IF EXISTS {{ cookiecutter.__db }}.{{ cookiecutter.__schema }};
DROP DATABASE IF EXISTS {{ cookiecutter.__db }};
DROP WAREHOUSE IF EXISTS {{ cookiecutter.snowflake_warehouse }};

-- 01: the role
DROP ROLE IF EXISTS {{ cookiecutter.snowflake_role }};
