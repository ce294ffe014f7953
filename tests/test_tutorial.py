"""docs/tutorial.md, followed by a newcomer: its offline commands run exactly as written,
in a fresh folder, and what the text says they print is checked.

The commands are read from the Markdown at test time, between the comments
`<!-- tutorial-test: begin -->` and `<!-- tutorial-test: end -->`:
- every ```bash block runs, in order, in one shell state (the folder and the exported
  variables carry over from block to block, as in the reader's terminal); it gets Enter
  keypresses on standard input, as the reader who accepts every default of `kedro new`;
- a ```text block is the output promised for the bash block before it: each non-empty
  line must appear in that output, in order, where `<...>` stands for any text and runs
  of spaces for any spacing (log lines carry timestamps and source names around them);
- a comment `<!-- tutorial-test: ... background ... http://host:port -->` after a block
  says it is a long-running server: it runs in the background until that URL answers.

The one thing the test arranges around the text: the tutorial starts in the folder that
holds the reader's checkout of the repository (`snowflake-mlops/`), so the reader's folder
gets a `snowflake-mlops` link to this checkout.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.baking import REPO_ROOT, clean_env
from support.mlflow_ui import stop_process_group, wait_until_healthy

pytestmark = pytest.mark.slow

TUTORIAL = REPO_ROOT / "docs" / "tutorial.md"
TESTED_REGION = re.compile(
    r"<!-- tutorial-test: begin -->(.*?)<!-- tutorial-test: end -->", re.S
)
FENCE_OR_DIRECTIVE = re.compile(
    r"^```(?P<lang>\w+)\n(?P<body>.*?)^```$|<!-- tutorial-test: (?P<directive>.*?) -->",
    re.S | re.M,
)
PLACEHOLDER = re.compile(r"<[^<>]*>")
RUN_SUMMARY = re.compile(
    r"MLflow run (?P<run_id>[0-9a-f]{32}): (?P<metrics>\d+) metrics, (?P<params>\d+) params"
)
# Enough Enter keypresses for every prompt of `kedro new`, and then end of input.
KEYPRESSES = "\n" * 40
STEP_TIMEOUT = 1200


@dataclass
class Step:
    commands: str
    expected: list[str] = field(default_factory=list)
    server_url: str | None = None


def tutorial_steps(markdown: str) -> list[Step]:
    """The bash blocks of the tested regions, with their promised output."""
    steps: list[Step] = []
    for region in TESTED_REGION.findall(markdown):
        for match in FENCE_OR_DIRECTIVE.finditer(region):
            if match["directive"]:
                url = re.search(r"https?://[\w.:]+", match["directive"])
                if "background" in match["directive"] and url and steps:
                    steps[-1].server_url = url.group(0)
            elif match["lang"] == "bash":
                steps.append(Step(commands=match["body"]))
            elif match["lang"] == "text" and steps:
                steps[-1].expected += [
                    line for line in match["body"].splitlines() if line.strip()
                ]
    return steps


def line_pattern(expected: str) -> re.Pattern:
    """One promised line: `<...>` is any text, a run of spaces is any spacing."""
    parts = PLACEHOLDER.split(expected.strip())
    return re.compile(
        ".*?".join(r"\s+".join(map(re.escape, part.split())) for part in parts)
    )


def missing_lines(expected: list[str], output: str) -> list[str]:
    """The promised lines not found in the output (in order, one output line each)."""
    lines = output.splitlines()
    position, missing = 0, []
    for promised in expected:
        pattern = line_pattern(promised)
        for index in range(position, len(lines)):
            if pattern.search(lines[index]):
                position = index + 1
                break
        else:
            missing.append(promised)
    return missing


class Reader:
    """A terminal that runs the tutorial's blocks one after the other."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.cwd = folder
        self.env = env
        self.state = folder.parent / "shell-state"
        self.state.mkdir()
        self.servers: list[subprocess.Popen] = []

    def script(self, commands: str, save_state: bool) -> str:
        lines = ["set -euo pipefail", f"cd {shlex.quote(str(self.cwd))}", commands]
        if save_state:
            lines += [
                f"pwd > {shlex.quote(str(self.state / 'cwd'))}",
                f"env -0 > {shlex.quote(str(self.state / 'env'))}",
            ]
        return "\n".join(lines) + "\n"

    def run(self, step: Step) -> str:
        result = subprocess.run(
            ["bash", "-c", self.script(step.commands, save_state=True)],
            env=self.env,
            input=KEYPRESSES,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, (
            f"tutorial block failed (exit {result.returncode}):\n{step.commands}\n"
            f"--- output ---\n{output[-8000:]}"
        )
        self.cwd = Path((self.state / "cwd").read_text().strip())
        entries = (self.state / "env").read_text().split("\0")
        self.env = dict(entry.split("=", 1) for entry in entries if "=" in entry)
        return output

    def start_server(self, step: Step) -> str:
        host, port = step.server_url.split("//")[1].split(":")
        with socket.socket() as probe:
            if probe.connect_ex((host, int(port))) == 0:
                pytest.fail(
                    f"{step.server_url} is already taken by another program; the "
                    "tutorial's server needs it (stop the other program and rerun)"
                )
        log = self.state.parent / "server.log"
        with log.open("w") as log_file:
            process = subprocess.Popen(
                ["bash", "-c", self.script(step.commands, save_state=False)],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.servers.append(process)
        wait_until_healthy(step.server_url, process, log, timeout=180)
        return log.read_text()

    def stop_servers(self) -> None:
        for process in self.servers:
            stop_process_group(process)


def test_tutorial_steps_are_found():
    """The markers are in place and the offline part is what the test runs."""
    steps = tutorial_steps(TUTORIAL.read_text(encoding="utf-8"))
    commands = "\n".join(step.commands for step in steps)
    for promised in ("pip install ../snowflake-mlops", "kedro new", "kedro run"):
        assert promised in commands
    assert "--env snowflake" not in commands, "the tested part must stay offline"
    assert [step.server_url for step in steps if step.server_url] == [
        "http://127.0.0.1:5000"
    ]


def test_promised_lines_are_matched_loosely_but_not_blindly():
    output = "09:06:52 INFO    MLflow run 0a1b: 6 metrics, 4 params; open it with"
    assert missing_lines(["MLflow run <run id>: 6 metrics, 4 params"], output) == []
    assert missing_lines(["MLflow run <run id>: 7 metrics"], output) == [
        "MLflow run <run id>: 7 metrics"
    ]
    assert missing_lines(["b", "a"], "a\nb") == ["a"], "order matters"


def test_offline_part_runs_as_written(tmp_path):
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / "snowflake-mlops").symlink_to(REPO_ROOT, target_is_directory=True)
    reader = Reader(folder, clean_env())

    outputs: list[str] = []
    try:
        for step in tutorial_steps(TUTORIAL.read_text(encoding="utf-8")):
            if step.server_url:
                output = reader.start_server(step)
                check_tracked_run(step.server_url, outputs)
            else:
                output = reader.run(step)
            outputs.append(output)
            missing = missing_lines(step.expected, output)
            assert not missing, (
                f"the tutorial promises these lines after\n{step.commands}\n"
                f"but they are missing: {missing}\n--- output ---\n{output[-8000:]}"
            )
    finally:
        reader.stop_servers()

    project = folder / "snowflake-mlops-tutorial" / "snowflake-mlops-demo"
    assert (project / "mlflow.db").is_file()
    assert (project / "data/08_reporting/predicted_vs_actual.png").stat().st_size > 0


def check_tracked_run(url: str, outputs: list[str]) -> None:
    """What the text says the MLflow UI shows: experiment demo-mlops holding the run that
    `kedro run` named, finished, with the 6 metrics (r2 among them) and 7 parameters."""
    summary = RUN_SUMMARY.search("\n".join(outputs))
    assert summary, "no `kedro run` summary line before the MLflow step"
    with urllib.request.urlopen(
        f"{url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=demo-mlops",
        timeout=30,
    ) as response:
        experiment = json.load(response)["experiment"]
    request = urllib.request.Request(
        f"{url}/api/2.0/mlflow/runs/search",
        data=json.dumps({"experiment_ids": [experiment["experiment_id"]]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        runs = json.load(response)["runs"]
    assert [run["info"]["run_id"] for run in runs] == [summary["run_id"]]
    (run,) = runs
    assert run["info"]["status"] == "FINISHED"
    assert run["info"]["run_name"].startswith("__default__ ")
    metrics = {metric["key"] for metric in run["data"]["metrics"]}
    assert len(metrics) == int(summary["metrics"]) == 6
    assert {"r2", "mae", "rmse"} <= metrics
    assert len(run["data"]["params"]) == int(summary["params"]) == 7
