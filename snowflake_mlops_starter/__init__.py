"""Registers the ``snowflake-mlops`` alias for ``kedro new --starter``."""

from __future__ import annotations

from pathlib import Path

from kedro.framework.cli.starters import KedroStarterSpec

__version__ = "0.1.0"


def template_path() -> Path:
    """The cookiecutter template: inside the wheel, or the repository root when editable."""
    packaged = Path(__file__).parent / "template"
    if (packaged / "cookiecutter.json").is_file():
        return packaged
    return Path(__file__).resolve().parent.parent


# kedro.starters entry points must point at a LIST of specs; a single spec breaks kedro new.
starters = [
    KedroStarterSpec(alias="snowflake-mlops", template_path=str(template_path()))
]
