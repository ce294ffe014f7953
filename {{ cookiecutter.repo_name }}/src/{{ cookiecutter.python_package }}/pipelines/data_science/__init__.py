"""Split the model input, train a regressor, evaluate it."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
