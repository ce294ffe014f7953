"""Raw CSVs into clean Snowflake tables and one model input table, all in Snowpark."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
