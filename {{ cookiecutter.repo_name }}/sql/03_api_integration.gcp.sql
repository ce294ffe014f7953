-- ============================================================================
-- 03_api_integration.sql — the API integration (Google Cloud API Gateway)
--
-- Role needed : ACCOUNTADMIN (CREATE INTEGRATION is an account privilege).
-- Creates     : API integration {{ cookiecutter.__api_integration }} (google_api_gateway),
--               and USAGE on it for role {{ cookiecutter.snowflake_role }}.
-- Expects     : role {{ cookiecutter.snowflake_role }} (01); on the cloud side: an API Gateway
--               whose API config forwards to MLflow and requires a Google-signed JWT.
--
-- Values only you know are written as placeholders in angle brackets; the check below
-- stops the script until every one is replaced (or regenerate the project with them).
-- IF NOT EXISTS, not OR REPLACE: re-creating the integration would give it a new
-- identity and break the trust already set up on the cloud side. To change a value, use
-- ALTER API INTEGRATION (or drop it and redo the cloud side).
--
-- After running: DESCRIBE INTEGRATION (last statement) and copy to the cloud side:
--   API_GCP_SERVICE_ACCOUNT -> x-google-issuer and x-google-jwks_uri of the API config's
--   security definition (x-google-audiences = GOOGLE_AUDIENCE below), then redeploy it.
-- ============================================================================

USE ROLE ACCOUNTADMIN;

EXECUTE IMMEDIATE $$
DECLARE
  placeholder_left EXCEPTION (-20001, 'sql/03_api_integration.sql still holds placeholders (text in angle brackets): replace each with your value (GOOGLE_AUDIENCE, gateway URL), or regenerate the project with them set.');
BEGIN
  IF (CONTAINS('{{ cookiecutter.gcp_audience or '<GCP_AUDIENCE>' }}' || '{{ cookiecutter.__gateway_url.rstrip('/') }}', '<')) THEN
    RAISE placeholder_left;
  END IF;
END;
$$;

CREATE API INTEGRATION IF NOT EXISTS {{ cookiecutter.__api_integration }}
  API_PROVIDER = google_api_gateway
  GOOGLE_AUDIENCE = '{{ cookiecutter.gcp_audience or '<GCP_AUDIENCE>' }}'
  API_ALLOWED_PREFIXES = ('{{ cookiecutter.__gateway_url.rstrip('/') }}')
  ENABLED = TRUE
  COMMENT = 'MLflow gateway of {{ cookiecutter.project_name }} (sql/README.md)';

GRANT USAGE ON INTEGRATION {{ cookiecutter.__api_integration }} TO ROLE {{ cookiecutter.snowflake_role }};

DESCRIBE INTEGRATION {{ cookiecutter.__api_integration }};
