"""Post-generation hook: keep the chosen cloud's SQL, then let the plugin check the new
project and print its Snowflake objects and the next steps.

Runs with the Python of `kedro new` (or `cookiecutter`), in the new project folder.
Answers are read once, as data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
CLOUDS = ("aws", "azure", "gcp")
INSTALL_HINT = """\
snowflake-mlops: the project is generated, but its checks were skipped: this Python
({python}) does not have the kedro-snowflake-mlops plugin, which the project needs too.
Install it, then check the project:
  pip install kedro-snowflake-mlops   (or, from a checkout: pip install <checkout>)
  cd {project} && kedro snowflake check"""


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
    try:
        from kedro_snowflake_mlops.generation import after_generation  # noqa: PLC0415
    except ImportError:
        print(INSTALL_HINT.format(python=sys.executable, project=project.name))
        return 0
    return after_generation(project, ANSWERS)


if __name__ == "__main__":
    raise SystemExit(main())
