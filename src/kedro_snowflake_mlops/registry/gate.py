"""The quality gate: does a new model take the champion's alias?

Its rules live in the project's parameters.yml (`quality_gate:`), where a team edits
them:

    quality_gate:
      thresholds:                 # the new model's test metrics must meet these
        r2: ">= 0.8"
      no_worse_than_champion:     # and lose at most this much to the champion,
        r2: 0.02                  # measured on the same test rows

A metric's threshold says which way is better (`>=`: higher, `<=`: lower), so the
champion comparison needs no second rule. The first model, with no champion, is judged
on the thresholds alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..conf import ConfigError

RULE = re.compile(r"^\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$")
RULE_EXAMPLE = "r2: '>= 0.8' or mae: '<= 1500'"
NO_CHAMPION_REASON = "no champion yet: judged on the thresholds alone"


class GateConfigError(ConfigError):
    """parameters.yml's quality_gate is invalid."""


@dataclass(frozen=True)
class Threshold:
    metric: str
    operator: str
    bound: float

    @property
    def higher_is_better(self) -> bool:
        return self.operator.startswith(">")

    def met_by(self, value: float) -> bool:
        return {
            ">=": value >= self.bound,
            ">": value > self.bound,
            "<=": value <= self.bound,
            "<": value < self.bound,
        }[self.operator]


@dataclass(frozen=True)
class GateRules:
    thresholds: tuple[Threshold, ...]
    tolerances: Mapping[str, float]


@dataclass
class Decision:
    """What the gate decided, and why (one reason per rule it checked)."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    champion_metrics: dict[str, float] | None = None
    champion_version: str | None = None

    def line(self, model: str) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"Quality gate {verdict} for {model}: " + "; ".join(self.reasons)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": self.reasons,
            "metrics": self.metrics,
            "champion_version": self.champion_version,
            "champion_metrics": self.champion_metrics,
        }


def parse_rules(block: Any) -> GateRules:
    """parameters.yml's quality_gate, checked: every problem on one line each."""
    where = "parameters quality_gate"
    if not isinstance(block, Mapping):
        raise GateConfigError(
            f"{where} must be a mapping with thresholds (got {block!r}); fix: e.g. "
            "quality_gate: {thresholds: {r2: '>= 0.8'}}"
        )
    problems = [
        f"{where}.{key} is not a known key; fix: use thresholds and "
        "no_worse_than_champion"
        for key in block
        if key not in ("thresholds", "no_worse_than_champion")
    ]
    thresholds = []
    for metric, rule in dict(block.get("thresholds") or {}).items():
        match = RULE.match(str(rule))
        if match is None:
            problems.append(
                f"{where}.thresholds.{metric} is {rule!r}, not a comparison with a "
                f"number; fix: e.g. {RULE_EXAMPLE}"
            )
            continue
        thresholds.append(Threshold(str(metric), match[1], float(match[2])))
    tolerances: dict[str, float] = {}
    ruled = {t.metric for t in thresholds}
    for metric, tolerance in dict(block.get("no_worse_than_champion") or {}).items():
        if metric not in ruled:
            problems.append(
                f"{where}.no_worse_than_champion.{metric} has no threshold, which says "
                f"whether higher or lower is better; fix: add thresholds.{metric}"
            )
        elif not isinstance(tolerance, int | float) or tolerance < 0:
            problems.append(
                f"{where}.no_worse_than_champion.{metric} is {tolerance!r}; fix: a "
                "number of 0 or more (how much worse than the champion is allowed)"
            )
        else:
            tolerances[str(metric)] = float(tolerance)
    if not thresholds and not problems:
        problems.append(
            f"{where}.thresholds is empty: the gate would pass any model; fix: e.g. "
            f"{RULE_EXAMPLE}"
        )
    if problems:
        raise GateConfigError("\n".join(problems))
    return GateRules(tuple(thresholds), tolerances)


def decide(
    rules: GateRules,
    metrics: Mapping[str, float],
    champion_metrics: Mapping[str, float] | None = None,
    champion_version: str | None = None,
    champion_source: str | None = None,
) -> Decision:
    """The new model's test metrics against the thresholds and, when there is a
    champion, against the champion's metrics on the same test rows (or, as
    `champion_source` says, from elsewhere)."""
    reasons, passed = [], True
    for threshold in rules.thresholds:
        value = metrics.get(threshold.metric)
        if value is None or not math.isfinite(float(value)):
            passed = False
            reasons.append(f"{threshold.metric} is {value!r}, not a number")
            continue
        ok = threshold.met_by(float(value))
        passed &= ok
        reasons.append(
            f"{threshold.metric} {float(value):.4g} "
            f"{'meets' if ok else 'misses'} {threshold.operator} {threshold.bound:g}"
        )
    source = f", {champion_source}" if champion_source else ""
    if champion_metrics is None:
        reasons.append(NO_CHAMPION_REASON)
    else:
        for threshold in rules.thresholds:
            tolerance = rules.tolerances.get(threshold.metric)
            new, old = (
                metrics.get(threshold.metric),
                champion_metrics.get(threshold.metric),
            )
            if tolerance is None or new is None or old is None:
                continue
            loss = (old - new) if threshold.higher_is_better else (new - old)
            ok = loss <= tolerance
            passed &= ok
            reasons.append(
                f"{threshold.metric} {float(new):.4g} against the champion's "
                f"{float(old):.4g} (version {champion_version}{source}): "
                + (
                    f"{'no worse' if loss <= 0 else f'{loss:.4g} worse'}, within {tolerance:g}"
                    if ok
                    else f"{loss:.4g} worse, more than {tolerance:g}"
                )
            )
    return Decision(
        bool(passed),
        reasons,
        {k: float(v) for k, v in metrics.items()},
        None
        if champion_metrics is None
        else {k: float(v) for k, v in champion_metrics.items()},
        champion_version,
    )
