"""The `snowflake:` block of conf/<env>/snowflake.yml, read the way `kedro run` reads it.

Three sections live under `snowflake:`: `session` (the Snowpark session), `mlflow` (MLflow
tracking) and `deploy` (the task graph inside Snowflake). Each is validated by its own
schema; this module finds the block, refuses keys nobody reads, and holds what those
schemas share: the error every command prints as one line, pydantic's problems in our
words, the identifier rules, credentials kept out of URIs and messages.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import click

SECTIONS = ("session", "mlflow", "registry", "deploy")

# One part of a Snowflake name: an unquoted identifier (letters, digits, _ and $). Names
# built from these go into SQL text safely: they cannot end or change a statement.
UNQUOTED_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_$]*"
# database.schema.name
QUALIFIED_NAME = "^" + r"\.".join([UNQUOTED_IDENTIFIER] * 3) + "$"


class UserFacingError(click.ClickException):
    """An error meant for the person who typed the command, with its fix in the message.

    `kedro run` and the `kedro snowflake` commands print it as `Error: <message>` and
    exit 1, without a traceback: click shows every ClickException that way, and Kedro's
    CLI is a click program. In Python (a notebook, a test) it is an ordinary exception.
    """


class ConfigError(UserFacingError, ValueError):
    """A setting in conf/ is missing or invalid. One line per problem, each naming the
    key, the rule and the fix; never a value that could be a secret."""


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """` (did you mean `mlflow`?)` for a near miss, else an empty string."""
    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


@dataclass(frozen=True)
class FieldProblem:
    """One problem pydantic found in a block of conf/, in the words our messages use."""

    key: str  # the full key, e.g. snowflake.mlflow.retry.attempts
    field: str  # the key inside the block, e.g. retry.attempts ("" for the block)
    top: str  # the block's own key it is under, e.g. retry
    kind: str  # pydantic's error type: missing, extra_forbidden, ...
    rule: str  # what pydantic says, without its "Value error, " prefix
    value: Any  # what was given
    known: tuple[str, ...] = ()  # for an unknown key: the keys allowed where it is
    suggestion: str = ""  # for an unknown key: ` (did you mean `x`?)` or ""


def field_problems(
    errors: Iterable[Mapping[str, Any]], where: str, model: Any
) -> list[FieldProblem]:
    """pydantic's `ValidationError.errors()` for `model`, validated from the block at
    `where` (e.g. snowflake.mlflow), as FieldProblems."""
    problems = []
    for error in errors:
        location = tuple(str(part) for part in error["loc"])
        field = ".".join(location)
        known: tuple[str, ...] = ()
        suggestion = ""
        if error["type"] == "extra_forbidden":
            known = _known_keys(model, location[:-1])
            suggestion = did_you_mean(location[-1], known)
        problems.append(
            FieldProblem(
                key=f"{where}.{field}" if field else where,
                field=field,
                top=location[0] if location else "",
                kind=error["type"],
                rule=str(error["msg"]).removeprefix("Value error, "),
                value=error.get("input"),
                known=known,
                suggestion=suggestion,
            )
        )
    return problems


def _known_keys(model: Any, location: tuple[str, ...]) -> tuple[str, ...]:
    """The keys allowed at `location` (a key of `model`, its key, ...) in the schema."""
    for part in location:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return ()
        candidates = [field.annotation, *get_args(field.annotation)]
        model = next((c for c in candidates if hasattr(c, "model_fields")), None)
    fields = getattr(model, "model_fields", {})
    return tuple(field.alias or name for name, field in fields.items())


# `scheme://user:password@host`: the user-info part of any URL in a message.
_URL_USER_INFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'\"]+@")


def without_credentials(text: str) -> str:
    """`text` with the `user:password@` of every URL in it replaced by `***@`: tracking
    URIs may carry credentials, and whatever we print can end up in a CI log."""
    return _URL_USER_INFO.sub(r"\g<scheme>***@", text)


def error_chain(error: BaseException | None) -> Iterator[BaseException]:
    """An error, then what caused it, and so on (each once: a chain may loop)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def read_snowflake_conf(config_loader: Any) -> dict[str, Any]:
    """The merged `snowflake:` mapping, empty when the project has none."""
    try:
        files = config_loader["snowflake"]
    except KeyError:
        return {}
    block = files.get("snowflake") or {}
    if not isinstance(block, dict):
        raise ConfigError(
            f"snowflake: must be a mapping of {', '.join(SECTIONS)} (got a "
            f"{type(block).__name__}). Fix: see conf/base/snowflake.yml"
        )
    unknown = [key for key in block if key not in SECTIONS]
    if unknown:
        raise ConfigError(
            "\n".join(
                f"snowflake.{key} is not a known section{did_you_mean(key, SECTIONS)}. "
                f"Fix: use {', '.join(SECTIONS)}"
                for key in unknown
            )
        )
    return dict(block)


def project_config_loader(project: Path, env: str) -> Any:
    """The project's own config loader for an env, as `kedro run --env <env>` builds it
    (the class and arguments of its settings.py), without creating a Kedro context,
    whose hooks would open a session."""
    import importlib  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from kedro.config import OmegaConfigLoader  # noqa: PLC0415

    metadata = _kedro_metadata(project)
    source = str((project / metadata.get("source_dir", "src")).resolve())
    if source not in sys.path:
        sys.path.insert(0, source)
    settings = importlib.import_module(f"{metadata['package_name']}.settings")
    loader_class = getattr(settings, "CONFIG_LOADER_CLASS", OmegaConfigLoader)
    return loader_class(
        conf_source=str(project / getattr(settings, "CONF_SOURCE", "conf")),
        env=env,
        **getattr(settings, "CONFIG_LOADER_ARGS", {}),
    )


def _kedro_metadata(project: Path) -> dict[str, Any]:
    """[tool.kedro] of the project's pyproject.toml."""
    try:
        import tomllib  # noqa: PLC0415
    except ModuleNotFoundError:  # Python 3.10; Kedro depends on tomli there
        import tomli as tomllib  # noqa: PLC0415

    pyproject = project / "pyproject.toml"
    try:
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["kedro"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(
            f"{pyproject}: no readable [tool.kedro] table ({error}). Fix: run this in "
            "a Kedro project folder"
        ) from None


def first_line(error: BaseException) -> str:
    """The first line of an error (the connector's first line holds no secret)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
