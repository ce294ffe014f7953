"""Regenerate every picture of docs/ from a freshly baked demo project.

    python scripts/make_pictures.py            # writes docs/images/*.png
    python scripts/make_pictures.py --task-graph-only   # only task_graph.png (Graphviz)

What it does, the way a user would: bake the template with its default answers, run the
demo offline (`kedro run`), then
  - pipeline.png: the demo's pipelines, drawn from the project's own Kedro pipeline
    objects and catalog (Graphviz `dot`: apt-get install graphviz);
  - task_graph.png: the task graph `kedro snowflake deploy` would create, drawn from the
    demo's real deploy plan (the same grouping and names as `deploy --dry-run`);
  - predicted_vs_actual.png: the plot the run logged to MLflow, downloaded from the run;
  - mlflow_run.png, mlflow_experiment.png: `mlflow ui` over the run's store, photographed
    by headless Chromium (apt-get install chromium; pip install playwright).

Needs the starter's test dependencies in this interpreter: pip install -e ".[test]".
Look at every picture before committing it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The browser helpers are shared with tests/test_mlflow_ui_browser.py.
sys.path.insert(0, str(REPO_ROOT / "tests"))

from support.mlflow_ui import (  # noqa: E402
    CHROMIUM,
    MlflowUi,
    experiment_charts_url,
    headless_chromium,
    run_page_url,
    start_mlflow_ui,
    stop_process_group,
)

RUN_SUMMARY = re.compile(r"MLflow run (?P<run_id>[0-9a-f]{32}):")
# MLflow's UI keeps these choices in the browser's localStorage. Seeded so the pictures
# show the classic-ML sidebar and no assistant panel over the page (a fresh profile
# would open both). Unknown keys are ignored by other MLflow versions.
MLFLOW_UI_PREFERENCES = """
localStorage.setItem('mlflow.workflowType_v1', '"machine_learning"');
localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');
localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');
"""


def quiet_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(
        KEDRO_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="1",
        MLFLOW_DISABLE_TELEMETRY="true",
        COLUMNS="240",
    )
    return env


def bake_and_run(workdir: Path) -> tuple[Path, str]:
    """Bake the template with its defaults and run the demo offline: (project, run id)."""
    subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(REPO_ROOT)],
        cwd=workdir,
        env=quiet_env(),
        check=True,
    )
    (project,) = [p for p in workdir.iterdir() if (p / "pyproject.toml").is_file()]
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run"],
        cwd=project,
        env=quiet_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    summary = RUN_SUMMARY.search(output)
    if result.returncode != 0 or not summary:
        raise SystemExit(f"`kedro run` failed in {project}:\n{output[-6000:]}")
    return project, summary["run_id"]


# --- the pipeline ----------------------------------------------------------------------

STYLES = {
    "file": 'shape=note, style=filled, fillcolor="#EEEEEE", color="#888888"',
    "snowflake": 'shape=cylinder, style=filled, fillcolor="#D4F1FC", color="#29B5E8"',
    "mlflow": 'shape=box, style="rounded,filled,bold", fillcolor="#DDF5E6", color="#2E9E5B"',
    "memory": 'shape=box, style="rounded,dashed", color="#888888"',
    "parameters": 'shape=box, style="rounded,filled", fillcolor="#FFF6D5", color="#C9A227"',
}
CLUSTER_TITLES = {
    "data_processing": "data_processing: Snowpark DataFrames (pushed down to the warehouse)",
    "data_science": "data_science: pandas + scikit-learn",
}


def describe_project(project: Path) -> tuple[dict, dict]:
    """The project's registered pipelines and its catalog configuration, read through
    Kedro itself (so the picture follows any change to the code or conf/)."""
    from kedro.framework.project import pipelines, settings  # noqa: PLC0415
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    bootstrap_project(project)
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(project / settings.CONF_SOURCE),
        env="local",
        **settings.CONFIG_LOADER_ARGS,
    )
    catalog = {k: v for k, v in loader["catalog"].items() if not k.startswith("_")}
    registered = {k: v for k, v in pipelines.items() if k != "__default__"}
    return registered, catalog


def dataset_kind(name: str, catalog: dict) -> tuple[str, str]:
    """(style, second label line) of a dataset, from its catalog entry."""
    if name.startswith("params:"):
        return "parameters", "parameters.yml"
    entry = catalog.get(name)
    if entry is None:
        return "memory", "in memory"
    tracked = (entry.get("metadata") or {}).get("mlflow")
    if tracked:
        return "mlflow", f"MLflow {tracked}: {Path(entry.get('filepath', '')).name}"
    if entry["type"].startswith("snowflake."):
        return (
            "snowflake",
            f"table {entry['database']}.{entry['schema']}.{entry['table_name']}",
        )
    return "file", entry.get("filepath", entry["type"])


def quote(text: str) -> str:
    """A DOT string; `\\n` inside it stays DOT's line break."""
    return '"' + text.replace('"', '\\"') + '"'


def dataset_line(name: str, catalog: dict) -> str:
    style, detail = dataset_kind(name, catalog)
    label = quote(name + "\\n" + detail)
    return f"{quote(name)} [label={label}, {STYLES[style]}];"


def pipeline_dot(registered: dict, catalog: dict) -> str:
    """Each pipeline is a box holding its nodes and the datasets it writes; what it
    only reads (raw files, parameters, the other pipeline's tables) sits outside."""
    lines = [
        "digraph pipeline {",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=13, nodesep=0.2, '
        "ranksep=0.35, pad=0.3, newrank=true, labelloc=b, label=<<br/>"
        "grey: files  ·  blue: Snowflake tables (Snowpark)  ·  "
        "green: logged to MLflow by the tracking hook  ·  dashed: in memory  ·  "
        "bold: Kedro nodes>];",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#666666", arrowsize=0.7];',
    ]
    written: set[str] = set()
    read: set[str] = set()
    for pipeline_name, pipeline in sorted(registered.items()):
        title = CLUSTER_TITLES.get(pipeline_name, pipeline_name)
        lines.append(f"  subgraph cluster_{pipeline_name} {{")
        lines.append(
            f'    label={quote(title)}; style="rounded"; color="#BBBBBB"; fontsize=14;'
        )
        for node in pipeline.nodes:
            lines.append(
                f"    {quote('node:' + node.name)} [label=<<b>{node.name}</b>>, "
                'shape=box, style="filled", fillcolor="#FFFFFF", color="#333333"];'
            )
            read.update(node.inputs)
        outputs = sorted(set(pipeline.all_outputs()))
        lines.extend(f"    {dataset_line(name, catalog)}" for name in outputs)
        written.update(outputs)
        lines.append("  }")
    lines.extend(f"  {dataset_line(name, catalog)}" for name in sorted(read - written))
    for pipeline in registered.values():
        for node in pipeline.nodes:
            target = quote("node:" + node.name)
            lines.extend(f"  {quote(ds)} -> {target};" for ds in node.inputs)
            lines.extend(f"  {target} -> {quote(ds)};" for ds in node.outputs)
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_pipeline(project: Path, target: Path) -> None:
    dot = shutil.which("dot")
    if dot is None:
        raise SystemExit("Graphviz `dot` is missing: apt-get install graphviz")
    source = pipeline_dot(*describe_project(project))
    subprocess.run(
        [dot, "-Tpng", "-Gdpi=110", "-o", str(target)],
        input=source,
        text=True,
        check=True,
    )


# --- the task graph --------------------------------------------------------------------


def task_graph_dot(plan) -> str:
    """Root, one box per task (its nodes listed), finalizer; edges as deploy makes them."""
    root, finalizer = plan.task("ROOT"), plan.task("FINALIZER")
    short = plan.task_prefix.split(".")[-1] + "_"

    def label(name: str) -> str:
        return name.rsplit(".", maxsplit=1)[-1].removeprefix(short)

    lines = [
        "digraph tasks {",
        '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.25, ranksep=0.5, pad=0.3, '
        f"labelloc=b, label=<<br/>task graph {quote(plan.task_prefix)[1:-1]}_*: "
        "every task calls one procedure with its group's name>];",
        '  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded,filled", '
        'fillcolor="#FFFFFF", color="#333333"];',
        '  edge [color="#666666", arrowsize=0.7];',
        f'  {quote(root)} [label=<<b>ROOT</b><br/>starts the MLflow run>, fillcolor="#DDF5E6"];',
        f"  {quote(finalizer)} [label=<<b>FINALIZER</b><br/>always runs: ends the run<br/>"
        'FINISHED or FAILED>, fillcolor="#DDF5E6", style="rounded,filled,dashed"];',
    ]
    for group in plan.groups:
        nodes = "<br/>".join(f"node {n}" for n in group.nodes)
        lines.append(
            f"  {quote(plan.task(group.name))} [label=<<b>{label(plan.task(group.name))}"
            f'</b><br/><font point-size="9">{nodes}</font>>, fillcolor="#D4F1FC"];'
        )
        for before in group.after or ["ROOT"]:
            lines.append(
                f"  {quote(plan.task(before))} -> {quote(plan.task(group.name))};"
            )
    lines.append(
        f'  {quote(root)} -> {quote(finalizer)} [style=dotted, label="FINALIZE"];'
    )
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_task_graph(project: Path, target: Path) -> None:
    from kedro_snowflake_mlops.deploy.plan import make_plan  # noqa: PLC0415

    dot = shutil.which("dot")
    if dot is None:
        raise SystemExit("Graphviz `dot` is missing: apt-get install graphviz")
    source = task_graph_dot(make_plan(project, "snowflake"))
    subprocess.run(
        [dot, "-Tpng", "-Gdpi=110", "-o", str(target)],
        input=source,
        text=True,
        check=True,
    )


def bake_only(workdir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(REPO_ROOT)],
        cwd=workdir,
        env=quiet_env(),
        check=True,
        capture_output=True,
    )
    (project,) = [p for p in workdir.iterdir() if (p / "pyproject.toml").is_file()]
    return project


# --- MLflow -------------------------------------------------------------------------


def download_logged_plot(project: Path, run_id: str, target: Path) -> None:
    """The predicted-against-actual plot as the run logged it (not the local file)."""
    from mlflow.artifacts import download_artifacts  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as scratch:
        path = download_artifacts(
            run_id=run_id,
            artifact_path="predicted_vs_actual.png",
            dst_path=scratch,
            tracking_uri=f"sqlite:///{project / 'mlflow.db'}",
        )
        shutil.copyfile(path, target)


def photograph_mlflow_ui(ui: MlflowUi, run_id: str, images: Path) -> None:
    experiment_id = ui.experiment_id("demo-mlops")
    run_name = ui.run(run_id)["info"]["run_name"]
    with headless_chromium(width=1440, height=920) as browser:
        browser.add_init_script(MLFLOW_UI_PREFERENCES)
        page = browser.new_page()
        page.goto(run_page_url(ui, experiment_id, run_id))
        page.get_by_text("Parameters (").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=images / "mlflow_run.png")

        page.set_viewport_size({"width": 1440, "height": 1180})
        page.goto(experiment_charts_url(ui, experiment_id))
        page.get_by_text(run_name).first.wait_for(timeout=60_000)
        page.get_by_text("rmse", exact=True).first.wait_for(timeout=30_000)
        page.wait_for_timeout(3000)  # the bars are drawn after the chart titles
        page.screenshot(path=images / "mlflow_experiment.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=REPO_ROOT / "docs" / "images")
    parser.add_argument("--task-graph-only", action="store_true")
    args = parser.parse_args()
    if args.task_graph_only:
        with tempfile.TemporaryDirectory(prefix="make-pictures-") as workdir:
            draw_task_graph(bake_only(Path(workdir)), args.images / "task_graph.png")
        print("wrote docs/images/task_graph.png")
        return 0
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    args.images.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="make-pictures-") as workdir:
        project, run_id = bake_and_run(Path(workdir))
        draw_pipeline(project, args.images / "pipeline.png")
        draw_task_graph(project, args.images / "task_graph.png")
        download_logged_plot(project, run_id, args.images / "predicted_vs_actual.png")
        ui = start_mlflow_ui(project)
        try:
            photograph_mlflow_ui(ui, run_id, args.images)
        finally:
            stop_process_group(ui.process)
    for picture in sorted(args.images.glob("*.png")):
        print(f"wrote {picture.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
