"""The Snowpark cleaning steps on a handful of hand-written rows."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.python_package }}.pipelines.data_processing.nodes import (
    create_model_input_table,
    preprocess_companies,
    preprocess_shuttles,
    summarise_model_input,
    to_snowflake_columns,
)


@pytest.fixture
def companies(snowpark_session):
    raw = pd.DataFrame(
        {
            "id": [1, 2],
            "company_rating": ["91%", None],
            "company_location": ["Niue", "Iceland"],
            "total_fleet_count": [3, 4],
            "iata_approved": ["t", "f"],
        }
    )
    return snowpark_session.create_dataframe(to_snowflake_columns(raw))


@pytest.fixture
def shuttles(snowpark_session):
    raw = pd.DataFrame(
        {
            "id": [10, 11, 11, 12],
            "engines": [2, 3, 3, 1],
            "d_check_complete": ["t", "f", "f", "t"],
            "moon_clearance_complete": ["f", "t", "t", "f"],
            "price": ["$1,325.50", "$980.00", "$980.00", "$2,001.00"],
            "company_id": [1, 1, 1, 2],
        }
    )
    return snowpark_session.create_dataframe(to_snowflake_columns(raw))


@pytest.fixture
def reviews(snowpark_session):
    raw = pd.DataFrame(
        {"shuttle_id": [10, 11, 12], "review_scores_rating": [90.0, 80.0, 70.0]}
    )
    return snowpark_session.create_dataframe(to_snowflake_columns(raw))


def test_upload_columns_are_upper_case_and_missing_cells_null():
    raw = pd.DataFrame({"price": ["$1.00", float("nan")]})
    upload = to_snowflake_columns(raw)
    assert list(upload.columns) == ["PRICE"]
    assert upload["PRICE"].tolist() == ["$1.00", None]


def test_companies_rating_becomes_a_fraction_and_approval_a_boolean(companies):
    result = preprocess_companies(companies).sort("ID").to_pandas()
    assert result["COMPANY_RATING"].iloc[0] == pytest.approx(0.91)
    assert pd.isna(result["COMPANY_RATING"].iloc[1])
    assert result["IATA_APPROVED"].tolist() == [True, False]


def test_shuttles_prices_are_numbers_and_duplicates_are_dropped(shuttles):
    result = preprocess_shuttles(shuttles).sort("ID").to_pandas()
    assert result["ID"].tolist() == [10, 11, 12]
    assert result["PRICE"].tolist() == [1325.5, 980.0, 2001.0]
    assert result["D_CHECK_COMPLETE"].tolist() == [True, False, True]


def test_model_input_joins_everything_and_drops_incomplete_rows(
    companies, shuttles, reviews
):
    model_input = create_model_input_table(
        preprocess_shuttles(shuttles), preprocess_companies(companies), reviews
    )
    result = model_input.sort("ID").to_pandas()
    # Shuttle 12 belongs to company 2, whose rating is missing: dropped.
    assert result["ID"].tolist() == [10, 11]
    assert {"PRICE", "COMPANY_RATING", "REVIEW_SCORES_RATING"} <= set(result.columns)

    summary = summarise_model_input(shuttles, model_input)
    assert summary == {
        "raw_shuttle_rows": 4,
        "model_input_rows": 2,
        "dropped_row_share": 0.5,
    }
