-- ============================================================================
-- 80_external_access.sql — the second way to reach MLflow from inside Snowflake:
-- external network access (transport external_access)
--
-- Role needed : role {{ cookiecutter.snowflake_role }} for the network rule and the secret (CREATE
--               NETWORK RULE and CREATE SECRET on the schema, granted below by SYSADMIN),
--               then ACCOUNTADMIN for the integration (CREATE INTEGRATION).
-- Creates     : network rule {{ cookiecutter.__network_rule }} (egress to the MLflow server),
--               secret {{ cookiecutter.__mlflow_secret }} (an MLflow token, GENERIC_STRING), external
--               access integration {{ cookiecutter.__access_integration }} allowing both,
--               and USAGE on it for role {{ cookiecutter.snowflake_role }}.
-- Expects     : 01, 02 and 07; an MLflow server reachable from Snowflake over HTTPS.
--               Not for trial accounts (external network access is not offered there).
--
-- Optional: only for transport external_access (no gateway, no translators: the MLflow
-- client inside the procedure talks to the server). Then set, in
-- conf/snowflake/snowflake.yml: snowflake.mlflow.transport: external_access and
-- tracking_uri: https://<your MLflow host>; snowflake.deploy.external_access_integrations:
-- [{{ cookiecutter.__access_integration }}] and secrets: {mlflow_token: {{ cookiecutter.__mlflow_secret }}}.
--
-- The secret: this script creates it with a stand-in value, so no token is ever written
-- in a file. Set the real one in Snowsight, typed, not saved (sql/README.md):
--   ALTER SECRET {{ cookiecutter.__mlflow_secret }} SET SECRET_STRING = '...';
-- Docs: CREATE NETWORK RULE (https://docs.snowflake.com/en/sql-reference/sql/create-network-rule),
-- CREATE SECRET (https://docs.snowflake.com/en/sql-reference/sql/create-secret),
-- CREATE EXTERNAL ACCESS INTEGRATION
-- (https://docs.snowflake.com/en/sql-reference/sql/create-external-access-integration).
-- ============================================================================

USE ROLE SYSADMIN;

EXECUTE IMMEDIATE $$
DECLARE
  placeholder_left EXCEPTION (-20001, 'sql/80_external_access.sql still holds a placeholder for the MLflow host (text in angle brackets): replace it with the host name of your MLflow server (mlflow.example.com).');
BEGIN
  IF (CONTAINS('<MLFLOW_HOST>', '<')) THEN
    RAISE placeholder_left;
  END IF;
END;
$$;

GRANT CREATE NETWORK RULE, CREATE SECRET ON SCHEMA {{ cookiecutter.__db }}.{{ cookiecutter.__schema }} TO ROLE {{ cookiecutter.snowflake_role }};

USE ROLE {{ cookiecutter.snowflake_role }};

CREATE OR REPLACE NETWORK RULE {{ cookiecutter.__network_rule }}
  MODE = EGRESS
  TYPE = HOST_PORT
  VALUE_LIST = ('<MLFLOW_HOST>:443')
  COMMENT = 'The MLflow server of {{ cookiecutter.project_name }}';

-- IF NOT EXISTS: running the script again keeps the token you set.
CREATE SECRET IF NOT EXISTS {{ cookiecutter.__mlflow_secret }}
  TYPE = GENERIC_STRING
  SECRET_STRING = 'set-me-with-alter-secret'
  COMMENT = 'MLflow token of {{ cookiecutter.project_name }} (set with ALTER SECRET)';

USE ROLE ACCOUNTADMIN;

-- IF NOT EXISTS, as for the other integrations: re-creating it would change its identity.
CREATE EXTERNAL ACCESS INTEGRATION IF NOT EXISTS {{ cookiecutter.__access_integration }}
  ALLOWED_NETWORK_RULES = ({{ cookiecutter.__network_rule }})
  ALLOWED_AUTHENTICATION_SECRETS = ({{ cookiecutter.__mlflow_secret }})
  ENABLED = TRUE
  COMMENT = 'MLflow from procedures of {{ cookiecutter.project_name }}';

GRANT USAGE ON INTEGRATION {{ cookiecutter.__access_integration }} TO ROLE {{ cookiecutter.snowflake_role }};
