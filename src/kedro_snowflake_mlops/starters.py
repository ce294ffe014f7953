"""The `snowflake-mlops` alias for `kedro new --starter` (entry point `kedro.starters`)."""

from __future__ import annotations

from pathlib import Path

from kedro.framework.cli.starters import KedroStarterSpec


def template_path() -> Path:
    """The cookiecutter template: inside the wheel, or the repository root when the
    package is installed in editable mode from a checkout."""
    packaged = Path(__file__).parent / "template"
    if (packaged / "cookiecutter.json").is_file():
        return packaged
    return Path(__file__).resolve().parents[2]


# kedro.starters entry points must point at a LIST of specs; a single spec breaks kedro new.
starters = [
    KedroStarterSpec(alias="snowflake-mlops", template_path=str(template_path()))
]
