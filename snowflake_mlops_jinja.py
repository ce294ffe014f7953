"""The template's Jinja extension (cookiecutter.json `_extensions`): answers are text, and
the names cookiecutter.json derives from them are made by the functions the
pre-generation hook checks them with.

Cookiecutter renders every answer as a Jinja template before any hook runs. An answer
such as `{{ 7*7 }}` would become `49` unseen, and one that Jinja cannot render
(`{% raw %}x`, `{{ x`, `{% if %}`, `{{ undefined }}`) would stop cookiecutter with a
Jinja error that names no answer. With this extension only the template's own
templates are rendered: the values of cookiecutter.json, the hooks, and file and folder
names made of `{{ cookiecutter.<name> }}`. Anything else cookiecutter is handed to render
(an answer, from a prompt or a --config file) stays the text it is, so the pre-generation
hook sees it as typed and refuses it naming its field, like every other bad answer.

Cookiecutter imports this module from the template's folder (its local extensions), with
Jinja's own Extension class: nothing of the plugin is needed to generate a project.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

from jinja2 import Undefined
from jinja2.ext import Extension

import answer_rules

TEMPLATE = Path(__file__).resolve().parent
PROJECT_FOLDER = "{{ cookiecutter.repo_name }}"
MARKERS = re.compile(r"\{[{%#]")
PLACEHOLDER = re.compile(r"\{\{ cookiecutter\.[A-Za-z_]+ \}\}")


def as_literal(text: str) -> str:
    """`text` as a Jinja string expression that renders to exactly `text`."""
    escaped = text.encode("unicode-escape").decode("ascii").replace("'", "\\'")
    return "{{ '" + escaped + "' }}"


@functools.cache
def own_templates() -> tuple[frozenset[str], frozenset[str]]:
    """(the template's own template texts, the placeholders of its file names)."""
    defaults = json.loads((TEMPLATE / "cookiecutter.json").read_text("utf-8"))
    hooks = (path.read_text("utf-8") for path in (TEMPLATE / "hooks").glob("*.py"))
    texts = {v for v in defaults.values() if isinstance(v, str)} | set(hooks)
    names = {
        found
        for _, folders, files in os.walk(TEMPLATE / PROJECT_FOLDER)
        for name in (*folders, *files)
        for found in PLACEHOLDER.findall(name)
    }
    return frozenset(texts), frozenset(names | {PROJECT_FOLDER})


def text(answer: object) -> str:
    """An answer as text. A YAML config may give a number, a list, a mapping (which
    cookiecutter reads only after the names are made) or nothing, which the
    pre-generation hook refuses; until it runs, the names must still be made."""
    return "" if answer is None or isinstance(answer, Undefined) else str(answer)


def folder_name(project_name: object) -> str:
    """`Snowflake MLOps Demo` -> `snowflake-mlops-demo`."""
    name = text(project_name).strip() or "unnamed project"
    return name.replace(" ", "-").replace("_", "-").lower()


def package_name(project_name: object) -> str:
    """`Snowflake MLOps Demo` -> `snowflake_mlops_demo`."""
    name = text(project_name).strip() or "unnamed project"
    return name.replace(" ", "_").replace("-", "_").lower()


def artifact_store_url(answer: object, cloud: object) -> str:
    """The answer, or the cloud's placeholder when it was left empty."""
    placeholder = answer_rules.STORE_PLACEHOLDERS.get(
        text(cloud), "<ARTIFACT_STORE_URL>"
    )
    return text(answer) or placeholder


FILTERS = {
    "folder_name": folder_name,
    "package_name": package_name,
    "upper_name": lambda answer: text(answer).upper(),
    "gateway_url": lambda answer: text(answer) or answer_rules.GATEWAY_PLACEHOLDER,
    "artifact_store_url": artifact_store_url,
    "omegaconf_text": lambda answer: answer_rules.omegaconf_text(text(answer)),
}


class StarterTemplate(Extension):
    """Renders the template's own templates (any other text is passed through) and
    gives cookiecutter.json the filters that derive names from the answers."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(FILTERS)

    def preprocess(self, source, name, filename=None):
        # Template files come by name (Jinja's loader); strings have none.
        texts, names = own_templates()
        if name is not None or source in texts:
            return source
        own_name = lambda found: "" if found[0] in names else found[0]  # noqa: E731
        if not MARKERS.search(PLACEHOLDER.sub(own_name, source)):
            return source  # plain text, or a path such as src/{{ cookiecutter.x }}/a.py
        return as_literal(source)
