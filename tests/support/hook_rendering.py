"""Render a hook the way cookiecutter does and import the result as a module."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import yaml
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config
from cookiecutter.utils import create_env_with_context

REPO = Path(__file__).resolve().parents[2]
_counter = itertools.count()


def hook_context(**answers: object) -> dict:
    """The context cookiecutter hands to hooks: rendered answers under `cookiecutter`,
    the answers as given under `_cookiecutter`."""
    # Cookiecutter imports a template's Jinja extensions from the template's folder.
    if str(REPO) not in sys.path:
        sys.path.append(str(REPO))
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
# regex_validator and error_message are made from the rule table of
# hooks/pre_gen_project.py, which applies the same rules to `--config` files and plain
# cookiecutter. After changing that table, rewrite them with
#   python tests/support/hook_rendering.py
"""


def prompts_yaml(hook: ModuleType, prompts: dict) -> str:
    """prompts.yml as it must be: each prompt's title and text as written, its
    regex_validator and error_message from the hook's rules for that field."""
    lines = [PROMPTS_HEADER.rstrip("\n")]
    for field, prompt in prompts.items():
        lines += ["", f"{field}:", f"  title: {json.dumps(prompt['title'])}"]
        lines += block("text", prompt["text"])
        lines.append(f"  regex_validator: {json.dumps(hook.prompt_regex(field))}")
        lines += block("error_message", hook.prompt_error_message(field))
    return "\n".join(lines) + "\n"


def block(key: str, text: str) -> list[str]:
    """A YAML literal block (`key: |`) holding text that ends with one newline."""
    return [f"  {key}: |", *(f"    {line}" for line in text.splitlines())]


def write_prompts() -> None:
    """Rewrite prompts.yml from the hook's rule table (titles and texts kept)."""
    with tempfile.TemporaryDirectory() as directory:
        hook = render_hook("pre_gen_project", Path(directory))
        prompts = yaml.safe_load(PROMPTS.read_text(encoding="utf-8"))
        PROMPTS.write_text(prompts_yaml(hook, prompts), encoding="utf-8")


if __name__ == "__main__":
    write_prompts()
