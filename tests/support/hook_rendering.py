"""Render a hook the way cookiecutter does and import the result as a module."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path
from types import ModuleType

import yaml
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config
from cookiecutter.utils import create_env_with_context

REPO = Path(__file__).resolve().parents[2]
# The template's root, as cookiecutter puts it on the path for the template's Jinja
# extension and as the pre-generation hook does for its rules (answer_rules.py).
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))
import answer_rules as RULES  # noqa: E402, N812

_counter = itertools.count()


def hook_context(**answers: object) -> dict:
    """The context cookiecutter hands to hooks: rendered answers under `cookiecutter`,
    the answers as given under `_cookiecutter`."""
    context = generate_context(
        context_file=str(REPO / "cookiecutter.json"), extra_context=answers
    )
    given = {k: v for k, v in context["cookiecutter"].items() if not k.startswith("_")}
    context["cookiecutter"] = dict(prompt_for_config(context, no_input=True))
    context["cookiecutter"]["_repo_dir"] = str(REPO)
    context["cookiecutter"]["_output_dir"] = str(REPO.parent)
    context["_cookiecutter"] = given
    return context


def render_hook(name: str, directory: Path, **answers: object) -> ModuleType:
    """hooks/<name>.py rendered with the answers (as cookiecutter would), imported."""
    context = hook_context(**answers)
    environment = create_env_with_context(context)
    source = (REPO / "hooks" / f"{name}.py").read_text(encoding="utf-8")
    rendered = environment.from_string(source).render(**context)
    path = directory / f"{name}_{next(_counter)}.py"
    path.write_text(rendered, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PROMPTS = REPO / "prompts.yml"
PROMPTS_HEADER = """\
# Asked by `kedro new --starter=snowflake-mlops`; titles and texts are written here.
# regex_validator and error_message are made from the rule table of answer_rules.py,
# which the pre-generation hook applies to `--config` files and plain cookiecutter.
# After changing that table, rewrite them with
#   python tests/support/hook_rendering.py
"""


def prompts_yaml(rules: ModuleType, prompts: dict) -> str:
    """prompts.yml as it must be: each prompt's title and text as written, its
    regex_validator and error_message from the rules of that field."""
    lines = [PROMPTS_HEADER.rstrip("\n")]
    for field, prompt in prompts.items():
        lines += ["", f"{field}:", f"  title: {json.dumps(prompt['title'])}"]
        lines += block("text", prompt["text"])
        lines.append(f"  regex_validator: {json.dumps(rules.prompt_regex(field))}")
        lines += block("error_message", rules.prompt_error_message(field))
    return "\n".join(lines) + "\n"


def block(key: str, text: str) -> list[str]:
    """A YAML literal block (`key: |`) holding text that ends with one newline."""
    return [f"  {key}: |", *(f"    {line}" for line in text.splitlines())]


def write_prompts() -> None:
    """Rewrite prompts.yml from the rule table of answer_rules.py (titles and texts
    kept)."""
    prompts = yaml.safe_load(PROMPTS.read_text(encoding="utf-8"))
    PROMPTS.write_text(prompts_yaml(RULES, prompts), encoding="utf-8")


if __name__ == "__main__":
    write_prompts()
