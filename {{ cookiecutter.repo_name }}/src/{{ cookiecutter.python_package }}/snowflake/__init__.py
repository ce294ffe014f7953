"""Snowflake side of the project: the Snowpark session and checks of Snowflake objects."""
