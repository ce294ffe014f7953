"""Helpers shared by the template's tests (imported from tests/conftest.py)."""
