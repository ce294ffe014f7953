"""Split the model input, train a regressor, evaluate it, and judge it against the
champion (the quality gate)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
