-- ============================================================================
-- 06_storage_integration_and_stage.sql — MLflow's artifact store as a stage (Azure Blob Storage)
--
-- Role needed : ACCOUNTADMIN (CREATE INTEGRATION is an account privilege), and role
--               {{ cookiecutter.snowflake_role }}, which the script switches to for the stage.
-- Creates     : as ACCOUNTADMIN, storage integration {{ cookiecutter.__storage_integration }} (AZURE)
--               and USAGE on it for role {{ cookiecutter.snowflake_role }}; as {{ cookiecutter.snowflake_role }},
--               external stage {{ cookiecutter.__mlflow_stage[1:] }} on the MLflow artifact store (owned by
--               the project role, so the runs need no grant on it).
-- Expects     : role {{ cookiecutter.snowflake_role }} (01) granted to you, schema {{ cookiecutter.__db }}.{{ cookiecutter.__schema }} with CREATE
--               STAGE for that role (02); on the cloud side: the storage
--               container of MLflow's --artifacts-destination.
--
-- The stage lets SQL read what MLflow stored (LIST {{ cookiecutter.__mlflow_stage }}), and
-- is where the project's artifacts end up (snowflake.mlflow.stage). PUT cannot upload to an
-- external stage: a run PUTs them to the internal stage of 02, then COPY FILES copies
-- them here (the role's READ, WRITE on that stage come from 02; it owns this one).
-- Placeholders in angle brackets must be replaced first (the check below stops the script).
-- IF NOT EXISTS for the integration: re-creating it would change its identity and break
-- the trust set up on the cloud side; use ALTER STORAGE INTEGRATION to change a value.
--
-- After running: DESCRIBE INTEGRATION (last statement) and, on the cloud side:
--   AZURE_CONSENT_URL -> open it as a tenant admin and consent; then give
--   AZURE_MULTI_TENANT_APP_NAME the Storage Blob Data Contributor role on the container.
-- ============================================================================

USE ROLE ACCOUNTADMIN;

EXECUTE IMMEDIATE $$
DECLARE
  placeholder_left EXCEPTION (-20001, 'sql/06_storage_integration_and_stage.sql still holds placeholders (text in angle brackets): replace each with your value (AZURE_TENANT_ID, artifact store URL), or regenerate the project with them set.');
BEGIN
  IF (CONTAINS('{{ cookiecutter.azure_tenant_id or '<AZURE_TENANT_ID>' }}' || '{{ cookiecutter.__artifact_store_url }}', '<')) THEN
    RAISE placeholder_left;
  END IF;
END;
$$;

CREATE STORAGE INTEGRATION IF NOT EXISTS {{ cookiecutter.__storage_integration }}
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'AZURE'
  AZURE_TENANT_ID = '{{ cookiecutter.azure_tenant_id or '<AZURE_TENANT_ID>' }}'
  ENABLED = TRUE
  STORAGE_ALLOWED_LOCATIONS = ('{{ cookiecutter.__artifact_store_url }}')
  COMMENT = 'MLflow artifact store of {{ cookiecutter.project_name }} (sql/README.md)';

-- Creating a stage that names a storage integration takes USAGE on the integration.
GRANT USAGE ON INTEGRATION {{ cookiecutter.__storage_integration }} TO ROLE {{ cookiecutter.snowflake_role }};

-- The project role creates, and so owns, the stage: the runs COPY FILES into it with no
-- further grant, and ACCOUNTADMIN's rights are not needed day to day.
USE ROLE {{ cookiecutter.snowflake_role }};

CREATE OR REPLACE STAGE {{ cookiecutter.__mlflow_stage[1:] }}
  URL = '{{ cookiecutter.__artifact_store_url }}'
  STORAGE_INTEGRATION = {{ cookiecutter.__storage_integration }}
  COMMENT = 'MLflow artifacts of {{ cookiecutter.project_name }}';

-- Back to the integration's owner to show what the cloud side needs (see above).
USE ROLE ACCOUNTADMIN;

DESCRIBE INTEGRATION {{ cookiecutter.__storage_integration }};
