"""From a tracked run to a model in production: the `registry:` block of
conf/<env>/snowflake.yml (config.py), the quality gate that decides whether a new model
takes the champion's alias (gate.py), and the model's way into the registry
(lifecycle.py, carried out by the tracking hook).

A project's gate node calls `judge` with its own metrics; its scoring node reads a
`Champion` (or raises NoChampionError when there is none yet).
"""

from .gate import Decision, decide, parse_rules
from .lifecycle import Candidate, Champion, NoChampionError, judge

__all__ = [
    "Candidate",
    "Champion",
    "Decision",
    "NoChampionError",
    "decide",
    "judge",
    "parse_rules",
]
