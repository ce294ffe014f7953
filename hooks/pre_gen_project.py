"""Pre-generation hook: refuse answers that would make a broken or unsafe project.

Runs with kedro's (or cookiecutter's) Python before any file is written. Answers are
read once, as JSON data, and never spliced into code; the rules they must pass are
answer_rules.py, beside cookiecutter.json (a hook cannot import from its own folder, so
it imports from the template's).
"""

import json
import sys

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
RAW_ANSWERS = json.loads(r"""{{ _cookiecutter | default({}) | tojson }}""")

if ANSWERS["_repo_dir"] not in sys.path:
    sys.path.insert(0, ANSWERS["_repo_dir"])
import answer_rules  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(answer_rules.main(ANSWERS, RAW_ANSWERS))
