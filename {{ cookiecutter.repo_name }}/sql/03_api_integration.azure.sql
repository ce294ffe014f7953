-- ============================================================================
-- 03_api_integration.sql — the API integration (Azure API Management)
--
-- Role needed : ACCOUNTADMIN (CREATE INTEGRATION is an account privilege).
-- Creates     : API integration {{ cookiecutter.__api_integration }} (azure_api_management),
--               and USAGE on it for role {{ cookiecutter.snowflake_role }}.
-- Expects     : role {{ cookiecutter.snowflake_role }} (01); on the cloud side: an API Management
--               instance forwarding to MLflow and an Entra ID app registration that protects it.
--
-- Values only you know are written as placeholders in angle brackets; the check below
-- stops the script until every one is replaced (or regenerate the project with them).
-- IF NOT EXISTS, not OR REPLACE: re-creating the integration would give it a new
-- identity and break the trust already set up on the cloud side. To change a value, use
-- ALTER API INTEGRATION (or drop it and redo the cloud side).
--
-- After running: DESCRIBE INTEGRATION (last statement) and copy to the cloud side:
--   AZURE_CONSENT_URL -> open it as a tenant admin and consent;
--   AZURE_MULTI_TENANT_APP_NAME -> the service principal allowed by the validate-jwt
--   policy of the API (audience = the app's Application ID URI).
-- ============================================================================

USE ROLE ACCOUNTADMIN;

EXECUTE IMMEDIATE $$
DECLARE
  placeholder_left EXCEPTION (-20001, 'sql/03_api_integration.sql still holds placeholders (text in angle brackets): replace each with your value (AZURE_TENANT_ID, AZURE_AD_APPLICATION_ID, gateway URL), or regenerate the project with them set.');
BEGIN
  IF (CONTAINS('{{ cookiecutter.azure_tenant_id or '<AZURE_TENANT_ID>' }}' || '{{ cookiecutter.azure_ad_application_id or '<AZURE_AD_APPLICATION_ID>' }}' || '{{ cookiecutter.__gateway_url.rstrip('/') }}', '<')) THEN
    RAISE placeholder_left;
  END IF;
END;
$$;

CREATE API INTEGRATION IF NOT EXISTS {{ cookiecutter.__api_integration }}
  API_PROVIDER = azure_api_management
  AZURE_TENANT_ID = '{{ cookiecutter.azure_tenant_id or '<AZURE_TENANT_ID>' }}'
  AZURE_AD_APPLICATION_ID = '{{ cookiecutter.azure_ad_application_id or '<AZURE_AD_APPLICATION_ID>' }}'
  API_ALLOWED_PREFIXES = ('{{ cookiecutter.__gateway_url.rstrip('/') }}')
  ENABLED = TRUE
  COMMENT = 'MLflow gateway of {{ cookiecutter.project_name }} (sql/README.md)';

GRANT USAGE ON INTEGRATION {{ cookiecutter.__api_integration }} TO ROLE {{ cookiecutter.snowflake_role }};

DESCRIBE INTEGRATION {{ cookiecutter.__api_integration }};
