-- ============================================================================
-- 02_warehouse_database_schema_stages.sql — compute, storage and the data stage
--
-- Role needed : SYSADMIN (or ACCOUNTADMIN): CREATE WAREHOUSE, CREATE DATABASE.
-- Creates     : warehouse {{ cookiecutter.snowflake_warehouse }}, database {{ cookiecutter.__db }}, schema {{ cookiecutter.__db }}.{{ cookiecutter.__schema }},
--               internal stage {{ cookiecutter.__data_stage[1:] }} (project files, and where runs PUT
--               MLflow artifacts before COPY FILES to the external stage of 06);
--               and the grants that let role {{ cookiecutter.snowflake_role }} use them and create the
--               project's tables, stages and functions in the schema.
-- Expects     : role {{ cookiecutter.snowflake_role }} (01).
--
-- IF NOT EXISTS: re-running keeps existing objects and their data. The MLflow stage is
-- an external stage and needs the storage integration: it is created in 06.
-- ============================================================================

USE ROLE SYSADMIN;

CREATE WAREHOUSE IF NOT EXISTS {{ cookiecutter.snowflake_warehouse }}
  WAREHOUSE_SIZE = XSMALL
  AUTO_SUSPEND = 60
  AUTO_RESUME = TRUE
  INITIALLY_SUSPENDED = TRUE
  COMMENT = 'Compute of {{ cookiecutter.project_name }}';

CREATE DATABASE IF NOT EXISTS {{ cookiecutter.__db }}
  COMMENT = 'Data of {{ cookiecutter.project_name }}';

CREATE SCHEMA IF NOT EXISTS {{ cookiecutter.__db }}.{{ cookiecutter.__schema }};

CREATE STAGE IF NOT EXISTS {{ cookiecutter.__data_stage[1:] }}
  COMMENT = 'Files of {{ cookiecutter.project_name }}';

GRANT USAGE, OPERATE ON WAREHOUSE {{ cookiecutter.snowflake_warehouse }} TO ROLE {{ cookiecutter.snowflake_role }};
GRANT USAGE ON DATABASE {{ cookiecutter.__db }} TO ROLE {{ cookiecutter.snowflake_role }};
GRANT USAGE, CREATE TABLE, CREATE VIEW, CREATE STAGE, CREATE FUNCTION, CREATE PROCEDURE
  ON SCHEMA {{ cookiecutter.__db }}.{{ cookiecutter.__schema }} TO ROLE {{ cookiecutter.snowflake_role }};
GRANT READ, WRITE ON STAGE {{ cookiecutter.__data_stage[1:] }} TO ROLE {{ cookiecutter.snowflake_role }};
