"""{{ cookiecutter.project_name }}: a Kedro project on Snowpark, tracked in MLflow."""

__version__ = "0.1"
