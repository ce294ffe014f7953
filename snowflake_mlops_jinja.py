"""The template's Jinja extension (cookiecutter.json `_extensions`): answers are text.

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

import json
import os
import re
from pathlib import Path

from jinja2.ext import Extension

TEMPLATE = Path(__file__).resolve().parent
PROJECT_FOLDER = "{{ cookiecutter.repo_name }}"
MARKERS = re.compile(r"\{[{%#]")
PLACEHOLDER = re.compile(r"\{\{ cookiecutter\.[A-Za-z_]+ \}\}")


def as_literal(text: str) -> str:
    """`text` as a Jinja string expression that renders to exactly `text`."""
    escaped = text.encode("unicode-escape").decode("ascii").replace("'", "\\'")
    return "{{ '" + escaped + "' }}"


class AnswersAreText(Extension):
    """Renders the template's own templates; any other text is passed through."""

    def __init__(self, environment):
        super().__init__(environment)
        defaults = json.loads((TEMPLATE / "cookiecutter.json").read_text("utf-8"))
        hooks = (path.read_text("utf-8") for path in (TEMPLATE / "hooks").glob("*.py"))
        self.own = {v for v in defaults.values() if isinstance(v, str)} | set(hooks)
        # The placeholders of the template's own file and folder names.
        self.names = {
            found
            for _, folders, files in os.walk(TEMPLATE / PROJECT_FOLDER)
            for name in (*folders, *files)
            for found in PLACEHOLDER.findall(name)
        } | {PROJECT_FOLDER}

    def preprocess(self, source, name, filename=None):
        # Template files come by name (Jinja's loader); strings have none.
        if name is not None or source in self.own:
            return source
        if not MARKERS.search(PLACEHOLDER.sub(self._own_name, source)):
            return source  # plain text, or a path such as src/{{ cookiecutter.x }}/a.py
        return as_literal(source)

    def _own_name(self, found: re.Match) -> str:
        return "" if found[0] in self.names else found[0]
