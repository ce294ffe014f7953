-- ============================================================================
-- 03_api_integration.sql — the API integration (AWS API Gateway)
--
-- Role needed : ACCOUNTADMIN (CREATE INTEGRATION is an account privilege).
-- Creates     : API integration {{ cookiecutter.__api_integration }} (aws_api_gateway),
--               and USAGE on it for role {{ cookiecutter.snowflake_role }}.
-- Expects     : role {{ cookiecutter.snowflake_role }} (01); on the cloud side: an API Gateway REST API
--               with a regional endpoint forwarding to MLflow, AWS_IAM authorization on
--               its method, and an IAM role its resource policy allows to invoke it
--               (step by step in sql/README.md).
--
-- Values only you know are written as placeholders in angle brackets; the check below
-- stops the script until every one is replaced (or regenerate the project with them).
-- IF NOT EXISTS, not OR REPLACE: re-creating the integration would give it a new
-- identity and break the trust already set up on the cloud side. To change a value, use
-- ALTER API INTEGRATION (or drop it and redo the cloud side).
--
-- After running: DESCRIBE INTEGRATION (last statement) and copy to the cloud side:
--   API_AWS_IAM_USER_ARN and API_AWS_EXTERNAL_ID -> the trust policy of the IAM role
--   ({{ cookiecutter.aws_api_role_arn or 'API_AWS_ROLE_ARN' }}): Principal.AWS and sts:ExternalId.
-- ============================================================================

USE ROLE ACCOUNTADMIN;

EXECUTE IMMEDIATE $$
DECLARE
  placeholder_left EXCEPTION (-20001, 'sql/03_api_integration.sql still holds placeholders (text in angle brackets): replace each with your value (API_AWS_ROLE_ARN, gateway URL), or regenerate the project with them set.');
BEGIN
  IF (CONTAINS('{{ cookiecutter.aws_api_role_arn or '<AWS_API_ROLE_ARN>' }}' || '{{ cookiecutter.__gateway_url.rstrip('/') }}', '<')) THEN
    RAISE placeholder_left;
  END IF;
END;
$$;

-- aws_api_gateway is for a regional endpoint; for a private one, write
-- aws_private_api_gateway (sql/README.md). Edge-optimized endpoints and custom domain
-- names are not supported: API_ALLOWED_PREFIXES is the URL AWS generated (execute-api).
CREATE API INTEGRATION IF NOT EXISTS {{ cookiecutter.__api_integration }}
  API_PROVIDER = aws_api_gateway
  API_AWS_ROLE_ARN = '{{ cookiecutter.aws_api_role_arn or '<AWS_API_ROLE_ARN>' }}'
  API_ALLOWED_PREFIXES = ('{{ cookiecutter.__gateway_url.rstrip('/') }}')
  ENABLED = TRUE
  COMMENT = 'MLflow gateway of {{ cookiecutter.project_name }} (sql/README.md)';

GRANT USAGE ON INTEGRATION {{ cookiecutter.__api_integration }} TO ROLE {{ cookiecutter.snowflake_role }};

DESCRIBE INTEGRATION {{ cookiecutter.__api_integration }};
