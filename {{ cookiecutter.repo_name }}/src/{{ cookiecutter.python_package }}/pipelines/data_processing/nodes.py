"""Snowpark transformations. Each returns a lazy Snowpark DataFrame: on Snowflake the work
runs in the warehouse when the next table is saved; nothing is pulled into pandas here."""

from __future__ import annotations

import pandas as pd
from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F


def to_snowflake_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """Prepare a raw CSV for upload: upper-case column names, missing cells as NULL.

    Upper case keeps Snowflake identifiers unquoted (`PRICE`, not `"price"`).
    """
    upload = raw.rename(columns=str.upper)
    return upload.astype(object).where(upload.notna(), None)


def is_true(column: str):
    """The raw files say t/f; Snowflake has a BOOLEAN type."""
    return F.col(column) == F.lit("t")


def _percentage(column: str):
    """'91%' -> 0.91"""
    return F.replace(F.col(column), "%", "").cast("double") / 100


def _money(column: str):
    """'$1,325.00' -> 1325.0"""
    return F.replace(F.replace(F.col(column), "$", ""), ",", "").cast("double")


def preprocess_companies(companies: DataFrame) -> DataFrame:
    return companies.with_columns(
        ["IATA_APPROVED", "COMPANY_RATING"],
        [is_true("IATA_APPROVED"), _percentage("COMPANY_RATING")],
    )


def preprocess_shuttles(shuttles: DataFrame) -> DataFrame:
    # One with_columns, then one DISTINCT: each step is a new SELECT, and the local
    # emulator recomputes everything before a step to learn its columns.
    cleaned = shuttles.with_columns(
        ["D_CHECK_COMPLETE", "MOON_CLEARANCE_COMPLETE", "PRICE"],
        [
            is_true("D_CHECK_COMPLETE"),
            is_true("MOON_CLEARANCE_COMPLETE"),
            _money("PRICE"),
        ],
    )
    return cleaned.drop_duplicates()


def create_model_input_table(
    shuttles: DataFrame, companies: DataFrame, reviews: DataFrame
) -> DataFrame:
    """One row per shuttle with its operator and reviews; rows with gaps are dropped."""
    # Equi-joins on a shared column name (`on=`) are what Snowflake (and the local
    # emulator) execute fastest, so the keys are renamed to match first.
    reviews = reviews.with_column_renamed("SHUTTLE_ID", "ID")
    companies = companies.with_column_renamed("ID", "COMPANY_ID")
    joined = shuttles.join(reviews, on="ID").join(companies, on="COMPANY_ID")
    return joined.select(*joined.columns).na.drop()


def summarise_model_input(
    shuttles: DataFrame, model_input_table: DataFrame
) -> dict[str, float]:
    """Data quality figures, logged to MLflow as metrics."""
    # int(): the local emulator returns numpy integers, which JSON cannot hold.
    raw_rows = int(shuttles.count())
    kept_rows = int(model_input_table.count())
    return {
        "raw_shuttle_rows": raw_rows,
        "model_input_rows": kept_rows,
        "dropped_row_share": round(1 - kept_rows / raw_rows, 4) if raw_rows else 0.0,
    }
