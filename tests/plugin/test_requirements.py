"""Every requirement on a library names a version that has what the code calls."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from snowflake.snowpark.file_operation import FileOperation

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[2]
# session.file.copy_files (artifacts to the external MLflow stage) arrived in 1.38.0.
FIRST_SNOWPARK_WITH_COPY_FILES = "1.38.0"
OLDER_SNOWPARKS = ("1.30.0", "1.37.0", "1.37.9")


def requirements(pyproject: Path) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    listed = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        listed += extra
    return [Requirement(text) for text in listed]


@pytest.fixture(params=["plugin", "generated project"])
def pyproject(request, demo_project) -> Path:
    if request.param == "plugin":
        return REPO_ROOT / "pyproject.toml"
    return demo_project / "pyproject.toml"


def test_no_requirement_allows_a_snowpark_without_copy_files(pyproject):
    snowpark = [
        r for r in requirements(pyproject) if r.name == "snowflake-snowpark-python"
    ]
    assert snowpark, f"{pyproject} does not name Snowpark"
    for requirement in snowpark:
        assert requirement.specifier.contains(FIRST_SNOWPARK_WITH_COPY_FILES)
        for older in OLDER_SNOWPARKS:
            assert not requirement.specifier.contains(older), (requirement, older)


def test_the_installed_snowpark_has_copy_files():
    assert hasattr(FileOperation, "copy_files")
