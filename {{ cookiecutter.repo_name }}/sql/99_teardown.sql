-- ============================================================================
-- 99_teardown.sql — drop everything 01-06 created
--
-- Role needed : ACCOUNTADMIN (it owns the integrations and the project role, and inherits
--               SYSADMIN, which owns the database and the warehouse).
-- Drops       : the external access integration (80), the storage integration (06)
--               and the API integration (03); database
--               {{ cookiecutter.__db }} (02) and with it everything inside it: schema {{ cookiecutter.__db }}.{{ cookiecutter.__schema }} and its
--               tables, the data stage (02), the translators (04), the external
--               functions (05), the MLflow stage (06), the code stage, the tag function
--               and whatever `kedro snowflake deploy` created (07: procedure, tasks,
--               runs table), the network rule and the secret (80); the warehouse (02);
--               the role (01), whose EXECUTE TASK grant (07) goes with it.
-- Expects     : nothing. Every DROP says IF EXISTS, so the script can be run again, and
--               after a setup that stopped half-way.
--
-- WARNING: this drops database {{ cookiecutter.__db }} with every table in it, and the
-- warehouse {{ cookiecutter.snowflake_warehouse }}. If they existed before this project, delete those DROP
-- statements first. MLflow's runs and the files in its artifact store are not touched.
-- ============================================================================

USE ROLE ACCOUNTADMIN;

-- The integrations first: they are account objects that DROP DATABASE leaves behind, and
-- dropping them first cuts Snowflake off from the gateway and the bucket at once, even if
-- a later statement fails.
DROP INTEGRATION IF EXISTS {{ cookiecutter.__access_integration }};
DROP STORAGE INTEGRATION IF EXISTS {{ cookiecutter.__storage_integration }};
DROP API INTEGRATION IF EXISTS {{ cookiecutter.__api_integration }};

-- The database drops every object in it (schema, stages, translators, external
-- functions), so they are not dropped one by one.
DROP DATABASE IF EXISTS {{ cookiecutter.__db }};

DROP WAREHOUSE IF EXISTS {{ cookiecutter.snowflake_warehouse }};

-- The role last: by now the database, and with it everything the role owned, is gone.
DROP ROLE IF EXISTS {{ cookiecutter.snowflake_role }};
