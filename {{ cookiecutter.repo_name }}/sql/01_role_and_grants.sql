-- ============================================================================
-- 01_role_and_grants.sql — the project role
--
-- Role needed : ACCOUNTADMIN (or SECURITYADMIN / USERADMIN: CREATE ROLE and MANAGE GRANTS).
-- Creates     : role {{ cookiecutter.snowflake_role }}, granted to SYSADMIN (so admins inherit what the
--               project creates){% if cookiecutter.snowflake_user and not ('.' in cookiecutter.snowflake_user or '@' in cookiecutter.snowflake_user or '-' in cookiecutter.snowflake_user) %} and to user {{ cookiecutter.snowflake_user }}{% endif %}.
-- Expects     : nothing.
--
-- Grants on the warehouse, database and schema follow in 02 (they need the objects);
-- usage on the integrations in 03 and 06. The project role owns what it creates in
-- 04, 05 and 06 (translators, external functions, the MLflow stage), so it needs no
-- grant to use them.
-- ============================================================================

USE ROLE ACCOUNTADMIN;

CREATE ROLE IF NOT EXISTS {{ cookiecutter.snowflake_role }}
  COMMENT = 'Project role of {{ cookiecutter.project_name }} (Kedro + MLflow, see sql/README.md)';

GRANT ROLE {{ cookiecutter.snowflake_role }} TO ROLE SYSADMIN;
{% if cookiecutter.snowflake_user and not ('.' in cookiecutter.snowflake_user or '@' in cookiecutter.snowflake_user or '-' in cookiecutter.snowflake_user) %}
GRANT ROLE {{ cookiecutter.snowflake_role }} TO USER {{ cookiecutter.snowflake_user }};
{% else %}
-- Give the role to the user that runs the project (the name is needed as written in
-- SHOW USERS; quote it if it holds characters such as . @ -):
--   GRANT ROLE {{ cookiecutter.snowflake_role }} TO USER your_user_name;
{% endif %}
