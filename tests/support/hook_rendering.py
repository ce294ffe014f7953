"""Render a hook the way cookiecutter does and import the result as a module."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from types import ModuleType

from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config
from cookiecutter.utils import create_env_with_context

REPO = Path(__file__).resolve().parents[2]
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
