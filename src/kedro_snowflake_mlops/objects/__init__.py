"""The Snowflake objects a project needs: read from its conf/ and sql/, checked offline
(report.py) and on an account (online.py)."""
