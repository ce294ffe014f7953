"""Post-generation hook: drop the files of options that are off, then check the result.

Runs with kedro's (or cookiecutter's) Python in the new project folder. Answers are read
once, as data, and never spliced into code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
CLOUDS = ("aws", "azure", "gcp")


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


def main() -> int:
    project = Path.cwd()
    keep_cloud_variants(project, ANSWERS["cloud_provider"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
