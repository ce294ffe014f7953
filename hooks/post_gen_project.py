"""Post-generation hook: drop the files of options that are off, then check the result.

Runs with kedro's (or cookiecutter's) Python in the new project folder. Answers are read
once, as data, and never spliced into code. The checks are the new project's own
validation module (src/<package>/snowflake/validation.py, stdlib + PyYAML), so
`kedro snowflake check` later says exactly what this hook says now.

Generation fails only when the generated files contradict each other (a bug in the
starter); Snowflake objects that do not exist yet are expected at this point.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
CLOUDS = ("aws", "azure", "gcp")
ONLINE_CHECK_VARIABLE = "SNOWFLAKE_MLOPS_ONLINE_CHECK"
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*>")
# `kedro snowflake check --online` imports these; the Python that generates the project
# (kedro new, cookiecutter) usually has only kedro, cookiecutter and PyYAML.
ONLINE_CHECK_MODULES = ("snowflake.snowpark", "pydantic")


def keep_cloud_variants(project: Path, cloud: str) -> None:
    """`sql/NN_name.<cloud>.sql` files are per-cloud variants: keep the chosen one as
    `sql/NN_name.sql` and delete the others."""
    for variant in sorted((project / "sql").glob("*.sql")):
        stem, _, suffix = variant.stem.rpartition(".")
        if suffix not in CLOUDS:
            continue
        if suffix == cloud:
            variant.rename(variant.with_name(f"{stem}.sql"))
        else:
            variant.unlink()


def load_validation(project: Path, package: str):
    """The generated project's validation module, imported from its src/ folder."""
    sys.dont_write_bytecode = True  # leave no __pycache__ behind in the new project
    sys.path.insert(0, str(project / "src"))
    try:
        return importlib.import_module(f"{package}.snowflake.validation")
    finally:
        sys.path.remove(str(project / "src"))


def wants_online_check(answers: dict, environ: dict) -> bool:
    """Opt-in only: the `online_check` answer or SNOWFLAKE_MLOPS_ONLINE_CHECK=1."""
    answer = answers.get("online_check")
    answered = answer is True or str(answer).strip().lower() == "yes"
    variable = environ.get(ONLINE_CHECK_VARIABLE, "").strip().lower()
    return answered or variable in ("1", "yes", "true")


def placeholders(project: Path) -> list[str]:
    """The `<...>` values in sql/ that only the user can fill in."""
    found: dict[str, None] = {}
    for script in sorted((project / "sql").glob("*.sql")):
        for token in PLACEHOLDER.findall(script.read_text(encoding="utf-8")):
            found.setdefault(token)
    return list(found)


def next_steps(project: Path, answers: dict) -> str:
    """What to do after generation, in order."""
    lines = [
        "Next steps:",
        f"  cd {project.name}",
        '  pip install -e ".[dev]"',
        "  kedro run                          # offline: Snowpark local testing + mlflow.db",
        "  Snowflake: read sql/README.md and run the scripts in order",
    ]
    todo = placeholders(project)
    if todo:
        lines.append(f"    fill in first: {', '.join(todo)}")
    if not answers.get("snowflake_account"):
        lines.append("  export SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and one credential")
    lines += [
        "  kedro snowflake check --online     # are the objects there and usable?",
        "  kedro run --env snowflake",
    ]
    return "\n".join(lines)


def missing_modules(names: tuple[str, ...]) -> list[str]:
    """The modules of `names` this Python cannot import (found without importing them,
    except for the parent packages of dotted names)."""
    missing = []
    for name in names:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:  # the parent package (e.g. `snowflake`) is not there
            found = False
        if not found:
            missing.append(name)
    return missing


def run_online_check(project: Path) -> None:
    """Report what `kedro snowflake check --online` says; never fail generation."""
    command = [sys.executable, "-m", "kedro", "snowflake", "check", "--online"]
    print("\nOnline check (you opted in; this only reports):")
    missing = missing_modules(ONLINE_CHECK_MODULES)
    if missing:
        print(
            f"  skipped: this Python lacks the project's dependencies "
            f"({', '.join(missing)}); install the project (`pip install -e .`), then "
            "run `kedro snowflake check --online` in it."
        )
        return
    try:
        result = subprocess.run(
            command,
            cwd=project,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        print(f"  could not run it here ({error}); run it later in the project.")
        return
    print((result.stdout + result.stderr).rstrip() or "  (no output)")
    if result.returncode != 0:
        print("  Not everything is in place yet; run the command again after setup.")


def main() -> int:
    project = Path.cwd()
    keep_cloud_variants(project, ANSWERS["cloud_provider"])
    validation = load_validation(project, ANSWERS["python_package"])
    report = validation.check_project(project)
    if not report.ok:
        print(
            "snowflake-mlops: the generated project is inconsistent (a bug in the "
            "starter, please report it):",
            file=sys.stderr,
        )
        for finding in report.findings:
            print(f"  {finding}", file=sys.stderr)
        return 1
    print("\nSnowflake objects this project expects (create them with sql/):")
    print(report.inventory_table())
    print()
    print(next_steps(project, ANSWERS))
    if wants_online_check(ANSWERS, dict(os.environ)):
        run_online_check(project)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
