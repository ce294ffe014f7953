"""A stand-in for Kedro's spaceflights-pandas starter, built on this machine.

The issue that set our targets compares the demo with Kedro's official spaceflights-pandas
starter. `kedro new --starter=spaceflights-pandas` clones github.com/kedro-org/kedro-starters,
which this machine cannot reach. So the benchmarks build a project of the same shape
offline and measure against it:

- the template is Kedro's own project template (as installed with kedro) plus three
  pipelines written here, of the shape spaceflights-pandas has: data_processing
  (clean companies and shuttles, join them with reviews), data_science (split, train a
  linear regression, evaluate) and reporting (one matplotlib chart);
- its data are the demo's own three raw files, the shuttles as an Excel workbook as in
  spaceflights (read with openpyxl), intermediate tables as Parquet, the model a pickle.

Same machine, same Kedro, same data, pandas instead of Snowpark and no MLflow: the cost
of our additions is what the ratios show. What this stand-in cannot reproduce is the
GitHub clone that the official alias does on every `kedro new`, so the bake ratio against
it is stricter than against the real starter.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import kedro
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
RAW_DATA = REPO_ROOT / "{{ cookiecutter.repo_name }}" / "data" / "01_raw"
PACKAGE = "{{ cookiecutter.python_package }}"

CATALOG = """\
companies:
  type: pandas.CSVDataset
  filepath: data/01_raw/companies.csv

reviews:
  type: pandas.CSVDataset
  filepath: data/01_raw/reviews.csv

shuttles:
  type: pandas.ExcelDataset
  filepath: data/01_raw/shuttles.xlsx

preprocessed_companies:
  type: pandas.ParquetDataset
  filepath: data/02_intermediate/preprocessed_companies.parquet

preprocessed_shuttles:
  type: pandas.ParquetDataset
  filepath: data/02_intermediate/preprocessed_shuttles.parquet

model_input_table:
  type: pandas.ParquetDataset
  filepath: data/03_primary/model_input_table.parquet

regressor:
  type: pickle.PickleDataset
  filepath: data/06_models/regressor.pickle

price_chart:
  type: matplotlib.MatplotlibDataset
  filepath: data/08_reporting/price_by_engines.png
"""

PARAMETERS = """\
model_options:
  test_size: 0.2
  random_state: 3
  features:
    - engines
    - passenger_capacity
    - crew
    - d_check_complete
    - moon_clearance_complete
    - iata_approved
    - company_rating
    - review_scores_rating
"""

DATA_PROCESSING = """\
import pandas as pd
from kedro.pipeline import Pipeline, node, pipeline


def preprocess_companies(companies: pd.DataFrame) -> pd.DataFrame:
    companies["iata_approved"] = companies["iata_approved"] == "t"
    companies["company_rating"] = (
        companies["company_rating"].str.replace("%", "").astype(float) / 100
    )
    return companies


def preprocess_shuttles(shuttles: pd.DataFrame) -> pd.DataFrame:
    shuttles = shuttles.drop_duplicates()
    for column in ("d_check_complete", "moon_clearance_complete"):
        shuttles[column] = shuttles[column] == "t"
    shuttles["price"] = (
        shuttles["price"].str.replace("$", "").str.replace(",", "").astype(float)
    )
    return shuttles


def create_model_input_table(shuttles, companies, reviews) -> pd.DataFrame:
    rated = shuttles.merge(reviews, left_on="id", right_on="shuttle_id")
    table = rated.merge(companies, left_on="company_id", right_on="id")
    return table.dropna()


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(preprocess_companies, "companies", "preprocessed_companies"),
            node(preprocess_shuttles, "shuttles", "preprocessed_shuttles"),
            node(
                create_model_input_table,
                ["preprocessed_shuttles", "preprocessed_companies", "reviews"],
                "model_input_table",
            ),
        ]
    )
"""

DATA_SCIENCE = """\
import logging

import pandas as pd
from kedro.pipeline import Pipeline, node, pipeline
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split


def split_data(data: pd.DataFrame, options: dict):
    features = data[options["features"]].astype(float)
    return train_test_split(
        features,
        data["price"],
        test_size=options["test_size"],
        random_state=options["random_state"],
    )


def train_model(X_train, y_train) -> LinearRegression:
    return LinearRegression().fit(X_train, y_train)


def evaluate_model(regressor, X_test, y_test) -> None:
    score = r2_score(y_test, regressor.predict(X_test))
    logging.getLogger(__name__).info("Model has a coefficient R^2 of %.3f.", score)


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                split_data,
                ["model_input_table", "params:model_options"],
                ["X_train", "X_test", "y_train", "y_test"],
            ),
            node(train_model, ["X_train", "y_train"], "regressor"),
            node(evaluate_model, ["regressor", "X_test", "y_test"], None),
        ]
    )
"""

REPORTING = """\
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from kedro.pipeline import Pipeline, node, pipeline  # noqa: E402


def price_by_engines(data: pd.DataFrame):
    figure, axes = plt.subplots()
    data.groupby("engines")["price"].mean().plot.bar(ax=axes)
    return figure


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline([node(price_by_engines, "model_input_table", "price_chart")])
"""

# Like spaceflights-pandas' hook: Kedro's tool set-up, which does nothing when the
# project comes from a starter (kedro passes tools "['None']" then).
POST_GEN_HOOK = """\
from kedro.templates.project.hooks import utils

if __name__ == "__main__" and "{{ cookiecutter.tools }}" != "['None']":
    raise SystemExit("this stand-in is generated with --starter only")
"""

PIPELINES = {
    "data_processing": DATA_PROCESSING,
    "data_science": DATA_SCIENCE,
    "reporting": REPORTING,
}


def build_template(folder: Path) -> Path:
    """A cookiecutter template like spaceflights-pandas, in `folder`/template."""
    template = folder / "template"
    shutil.copytree(
        Path(kedro.__file__).parent / "templates" / "project",
        template,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (template / "hooks" / "post_gen_project.py").write_text(
        POST_GEN_HOOK, encoding="utf-8"
    )
    project = template / "{{ cookiecutter.repo_name }}"
    (project / "conf" / "base" / "catalog.yml").write_text(CATALOG, encoding="utf-8")
    (project / "conf" / "base" / "parameters.yml").write_text(
        PARAMETERS, encoding="utf-8"
    )
    raw = project / "data" / "01_raw"
    for name in ("companies.csv", "reviews.csv"):
        shutil.copy(RAW_DATA / name, raw / name)
    pd.read_csv(RAW_DATA / "shuttles.csv").to_excel(raw / "shuttles.xlsx", index=False)
    for name, source in PIPELINES.items():
        package = project / "src" / PACKAGE / "pipelines" / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(
            "from .pipeline import create_pipeline\n", encoding="utf-8"
        )
        (package / "pipeline.py").write_text(source, encoding="utf-8")
    return template
