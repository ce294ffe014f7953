from kedro.pipeline import Pipeline, node, pipeline

from .nodes import (
    create_model_input_table,
    preprocess_companies,
    preprocess_shuttles,
    summarise_model_input,
    to_snowflake_columns,
)


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                to_snowflake_columns,
                "companies",
                "companies_table",
                name="ingest_companies",
            ),
            node(
                to_snowflake_columns,
                "shuttles",
                "shuttles_table",
                name="ingest_shuttles",
            ),
            node(
                to_snowflake_columns, "reviews", "reviews_table", name="ingest_reviews"
            ),
            node(
                preprocess_companies,
                "companies_table",
                "preprocessed_companies",
                name="preprocess_companies",
            ),
            node(
                preprocess_shuttles,
                "shuttles_table",
                "preprocessed_shuttles",
                name="preprocess_shuttles",
            ),
            node(
                create_model_input_table,
                ["preprocessed_shuttles", "preprocessed_companies", "reviews_table"],
                "model_input_table",
                name="create_model_input_table",
            ),
            node(
                summarise_model_input,
                ["shuttles_table", "model_input_table"],
                "data_quality_metrics",
                name="summarise_model_input",
            ),
        ]
    )
