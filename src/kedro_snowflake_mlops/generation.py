"""What the starter's post-generation hook asks of the plugin: check the new project's
sql/, print its Snowflake objects and the next steps, and (opted in) check an account.

Generation fails only when the generated scripts contradict each other; objects that do
not exist yet in Snowflake are expected at this point. conf/ is held against sql/ by
`kedro snowflake check` (the first thing `check --online` does), not here: both were
rendered from the same answers a moment ago, and reading conf/ the way Kedro does means
importing Kedro's config loader and the project's settings.py, which would make
`kedro new` about 40% slower.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .objects.report import OfflineReport, check_sql

ONLINE_CHECK_VARIABLE = "SNOWFLAKE_MLOPS_ONLINE_CHECK"
SECRET_CHOICES = (
    "SNOWFLAKE_PASSWORD=... (or SNOWFLAKE_TOKEN, or SNOWFLAKE_PRIVATE_KEY_FILE)"
)


def wants_online_check(answers: Mapping, environ: Mapping) -> bool:
    """Opt-in only: the `online_check` answer or SNOWFLAKE_MLOPS_ONLINE_CHECK=1."""
    answer = answers.get("online_check")
    answered = answer is True or str(answer).strip().lower() == "yes"
    variable = str(environ.get(ONLINE_CHECK_VARIABLE, "")).strip().lower()
    return answered or variable in ("1", "yes", "true")


def next_steps(project: Path, answers: Mapping, report: OfflineReport) -> str:
    """What to do after generation, in order."""
    lines = [
        "Next steps:",
        f"  cd {project.name}",
        '  pip install -e ".[dev]"',
        "  kedro run                          # offline: Snowpark local testing + mlflow.db",
        "  Snowflake: read sql/README.md and run the scripts in order",
    ]
    todo = dict.fromkeys(placeholder.name for placeholder in report.placeholders)
    if todo:
        lines.append(f"    fill in first: {', '.join(todo)}")
    who = [
        f"SNOWFLAKE_{key.upper()}=..."
        for key in ("account", "user")
        if not answers.get(f"snowflake_{key}")
    ]
    lines += [
        f"  export {' '.join([*who, SECRET_CHOICES])}",
        "  kedro snowflake check --online     # are the objects there and usable?",
        "  kedro run --env snowflake",
    ]
    return "\n".join(lines)


def run_online_check(project: Path) -> None:
    """Report what `kedro snowflake check --online` says; never fail generation."""
    print("\nOnline check (you opted in; this only reports):")
    import subprocess  # noqa: PLC0415 (only when asked for)

    command = [sys.executable, "-m", "kedro", "snowflake", "check", "--online"]
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


def after_generation(project: Path, answers: Mapping) -> int:
    """The post-generation hook's work; returns its exit code."""
    report = check_sql(project)
    if not report.ok:
        print(
            "snowflake-mlops: the generated project is inconsistent; please report "
            "this at the starter's issue tracker with these lines:",
            file=sys.stderr,
        )
        for finding in report.findings:
            print(f"  {finding}", file=sys.stderr)
        return 1
    print("\nSnowflake objects this project expects (create them with sql/):")
    print(report.inventory_table())
    print()
    print(next_steps(project, answers, report))
    if wants_online_check(answers, os.environ):
        run_online_check(project)
    return 0
