"""Scoring: the champion model (the registry's version that last passed the quality
gate) prices shuttles listed since the training run."""

from __future__ import annotations

from typing import Any

import pandas as pd
from kedro_snowflake_mlops.registry import Champion
from snowflake.snowpark import DataFrame

from ..data_processing.nodes import is_true


def prepare_shuttles_to_score(
    shuttles_to_score: DataFrame, companies: DataFrame
) -> DataFrame:
    """The new listings with the columns the model was trained on: t/f as booleans and
    the operator's rating and approval joined in, as create_model_input_table does."""
    listings = shuttles_to_score.with_columns(
        ["D_CHECK_COMPLETE", "MOON_CLEARANCE_COMPLETE"],
        [is_true("D_CHECK_COMPLETE"), is_true("MOON_CLEARANCE_COMPLETE")],
    )
    companies = companies.with_column_renamed("ID", "COMPANY_ID")
    joined = listings.join(companies, on="COMPANY_ID")
    return joined.select(*joined.columns).na.drop()


def score_shuttles(
    scoring_input: DataFrame,
    champion: Champion,
    model_options: dict[str, Any],
) -> pd.DataFrame:
    """One predicted price per shuttle, with the model's name and version beside it,
    so every prediction says which model made it. (With no champion yet, the catalog's
    scoring_model stops the run before this node, saying to train first.)"""
    features = model_options["features"]
    rows = scoring_input.select("ID", *features).to_pandas()
    return pd.DataFrame(
        {
            "ID": rows["ID"],
            "PREDICTED_PRICE": champion.model.predict(rows[features].astype(float)),
            "MODEL_NAME": champion.name,
            "MODEL_VERSION": champion.version,
        }
    )
