"""Price new shuttles with the champion model: `kedro run --pipeline scoring`."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
