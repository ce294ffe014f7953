"""The outcome of one run of the task graph, told in a few lines."""

from __future__ import annotations

import json
from typing import Any

import click

from ..conf import without_credentials


def report(
    finalizer: dict, failed: list[dict], plan: Any, output: str, code: int
) -> None:
    """The graph run's outcome in a few lines; exit 1 naming the failed node."""
    outcome = json.loads(finalizer.get("value") or "{}") if finalizer else {}
    run = outcome.get("run") or {}
    if run:
        click.echo(
            f"MLflow run {run['run_id']}: {outcome.get('status')}; {how_to_open(plan, run)}"
        )
    elif outcome:
        click.echo(
            "MLflow: nothing tracked (the root could not create the run; its log says why)"
        )
    if finalizer.get("state") == "FAILED" and not failed:
        raise click.ClickException(
            f"every group of nodes succeeded, but the finalizer failed, so the MLflow run "
            f"may still say RUNNING: {finalizer.get('error', '')}"
        )
    if failed or code != 0 or outcome.get("status") != "FINISHED":
        first = failed[0] if failed else {}
        node = outcome.get("failed_node") or first.get("task", "?")
        error = outcome.get("error") or first.get("error") or output.strip()[-2000:]
        raise click.ClickException(f"the graph failed at node {node}: {error}")


def how_to_open(plan: Any, run: dict) -> str:
    """Where to see the run; a URI's user and password are never shown."""
    uri = without_credentials(plan.mlflow.tracking_uri.rstrip("/"))
    if plan.mlflow.transport == "direct" and uri.startswith("sqlite:"):
        return f"open it with: mlflow ui --backend-store-uri {uri}"
    if uri.startswith(("http://", "https://")):
        return f"open it at {uri}/#/experiments/{run['experiment_id']}/runs/{run['run_id']}"
    return f"open it in the MLflow UI (experiment {run['experiment_id']})"
