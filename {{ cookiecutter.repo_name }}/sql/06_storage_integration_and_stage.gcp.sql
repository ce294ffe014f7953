-- ============================================================================
-- 06_storage_integration_and_stage.sql — MLflow's artifact store as a stage (Google Cloud Storage)
--
-- Role needed : ACCOUNTADMIN (CREATE INTEGRATION is an account privilege).
-- Creates     : storage integration {{ cookiecutter.__storage_integration }} (GCS),
--               external stage {{ cookiecutter.__mlflow_stage[1:] }} on the MLflow artifact store,
--               USAGE on both for role {{ cookiecutter.snowflake_role }}.
-- Expects     : schema {{ cookiecutter.__db }}.{{ cookiecutter.__schema }} (02); on the cloud side: the GCS bucket of
--               MLflow's --artifacts-destination.
--
-- The stage lets SQL read what MLflow stored (LIST {{ cookiecutter.__mlflow_stage }}), and
-- is where the project's artifacts end up (snowflake.mlflow.stage). PUT cannot upload to an
-- external stage: a run PUTs them to the internal stage of 02, then COPY FILES copies
-- them here (the role's READ, WRITE on that stage come from 02, USAGE on this one below).
-- Placeholders in angle brackets must be replaced first (the check below stops the script).
-- IF NOT EXISTS for the integration: re-creating it would change its identity and break
-- the trust set up on the cloud side; use ALTER STORAGE INTEGRATION to change a value.
--
-- After running: DESCRIBE INTEGRATION (last statement) and, on the cloud side:
--   STORAGE_GCP_SERVICE_ACCOUNT -> give it a role with storage.objects.get/list/create/delete
--   on the bucket (for example Storage Object Admin).
-- ============================================================================

USE ROLE ACCOUNTADMIN;

EXECUTE IMMEDIATE $$
DECLARE
  placeholder_left EXCEPTION (-20001, 'sql/06_storage_integration_and_stage.sql still holds placeholders (text in angle brackets): replace each with your value (artifact store URL), or regenerate the project with them set.');
BEGIN
  IF (CONTAINS('{{ cookiecutter.__artifact_store_url }}', '<')) THEN
    RAISE placeholder_left;
  END IF;
END;
$$;

CREATE STORAGE INTEGRATION IF NOT EXISTS {{ cookiecutter.__storage_integration }}
  TYPE = EXTERNAL_STAGE
  STORAGE_PROVIDER = 'GCS'
  ENABLED = TRUE
  STORAGE_ALLOWED_LOCATIONS = ('{{ cookiecutter.__artifact_store_url }}')
  COMMENT = 'MLflow artifact store of {{ cookiecutter.project_name }} (sql/README.md)';

GRANT USAGE ON INTEGRATION {{ cookiecutter.__storage_integration }} TO ROLE {{ cookiecutter.snowflake_role }};

CREATE OR REPLACE STAGE {{ cookiecutter.__mlflow_stage[1:] }}
  URL = '{{ cookiecutter.__artifact_store_url }}'
  STORAGE_INTEGRATION = {{ cookiecutter.__storage_integration }}
  COMMENT = 'MLflow artifacts of {{ cookiecutter.project_name }}';

GRANT USAGE ON STAGE {{ cookiecutter.__mlflow_stage[1:] }} TO ROLE {{ cookiecutter.snowflake_role }};

DESCRIBE INTEGRATION {{ cookiecutter.__storage_integration }};
