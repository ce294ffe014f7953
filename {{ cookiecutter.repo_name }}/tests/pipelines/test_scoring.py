"""Scoring nodes on small tables: the listings are prepared like the model input, and
every prediction names the model version that made it."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro_snowflake_mlops.registry import Champion
from sklearn.linear_model import LinearRegression

from {{ cookiecutter.python_package }}.pipelines.scoring.nodes import (
    prepare_shuttles_to_score,
    score_shuttles,
)

OPTIONS = {"features": ["ENGINES", "D_CHECK_COMPLETE", "COMPANY_RATING"]}


@pytest.fixture
def scoring_input(snowpark_session):
    listings = snowpark_session.create_dataframe(
        pd.DataFrame(
            {
                "ID": [1, 2, 3],
                "ENGINES": [1, 2, None],
                "D_CHECK_COMPLETE": ["t", "f", "t"],
                "MOON_CLEARANCE_COMPLETE": ["f", "f", "t"],
                "COMPANY_ID": [10, 20, 10],
            }
        )
    )
    companies = snowpark_session.create_dataframe(
        pd.DataFrame({"ID": [10, 20], "COMPANY_RATING": [0.9, 0.5]})
    )
    return prepare_shuttles_to_score(listings, companies)


def test_listings_get_the_model_input_columns_and_gaps_are_dropped(scoring_input):
    rows = scoring_input.to_pandas().sort_values("ID")
    assert list(rows["ID"]) == [1, 2]
    assert list(rows["D_CHECK_COMPLETE"]) == [True, False]
    assert list(rows["COMPANY_RATING"]) == [0.9, 0.5]


def test_each_prediction_names_the_champion_version(scoring_input):
    model = LinearRegression().fit(
        pd.DataFrame(
            {
                "ENGINES": [1, 2, 3],
                "D_CHECK_COMPLETE": [0, 1, 0],
                "COMPANY_RATING": [0.5, 0.7, 0.9],
            }
        ),
        [100.0, 260.0, 300.0],
    )
    champion = Champion("price", "4", "champion", None, model)
    predictions = score_shuttles(scoring_input, champion, OPTIONS).sort_values("ID")
    assert list(predictions.columns) == [
        "ID",
        "PREDICTED_PRICE",
        "MODEL_NAME",
        "MODEL_VERSION",
    ]
    assert set(predictions["MODEL_VERSION"]) == {"4"}
    assert predictions["PREDICTED_PRICE"].notna().all()
