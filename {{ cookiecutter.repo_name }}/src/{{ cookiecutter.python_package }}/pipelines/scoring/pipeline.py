from kedro.pipeline import Pipeline, node, pipeline

from ..data_processing.nodes import to_snowflake_columns
from ..data_processing.pipeline import create_pipeline as data_processing
from .nodes import prepare_shuttles_to_score, score_shuttles


def create_pipeline(**kwargs) -> Pipeline:
    # The operators' table comes from the same nodes as for training, so a scoring run
    # needs nothing a training run left behind but the champion (offline, each run's
    # Snowpark tables live only as long as the run).
    companies = data_processing().only_nodes("ingest_companies", "preprocess_companies")
    return companies + pipeline(
        [
            node(
                to_snowflake_columns,
                "shuttles_to_score",
                "shuttles_to_score_table",
                name="ingest_shuttles_to_score",
            ),
            node(
                prepare_shuttles_to_score,
                ["shuttles_to_score_table", "preprocessed_companies"],
                "scoring_input",
                name="prepare_shuttles_to_score",
            ),
            node(
                score_shuttles,
                ["scoring_input", "scoring_model", "params:model_options"],
                "shuttle_price_predictions",
                name="score_shuttles",
            ),
        ]
    )
