"""The quality gate (registry/gate.py): its rules as parameters.yml gives them, and its
decisions with the reasons the run records."""

from __future__ import annotations

import pytest

from kedro_snowflake_mlops.registry.gate import GateConfigError, decide, parse_rules

RULES = parse_rules(
    {
        "thresholds": {"r2": ">= 0.8", "mae": "<= 1500"},
        "no_worse_than_champion": {"r2": 0.02, "mae": 100},
    }
)


def test_the_first_model_is_judged_on_the_thresholds_alone():
    decision = decide(RULES, {"r2": 0.91, "mae": 900.0})
    assert decision.passed
    assert decision.reasons == [
        "r2 0.91 meets >= 0.8",
        "mae 900 meets <= 1500",
        "no champion yet: judged on the thresholds alone",
    ]
    assert decision.as_dict()["champion_version"] is None


def test_a_threshold_missed_fails_and_says_which():
    decision = decide(RULES, {"r2": 0.55, "mae": 900.0})
    assert not decision.passed
    assert decision.line("price_model").startswith(
        "Quality gate failed for price_model: r2 0.55 misses >= 0.8"
    )


def test_against_the_champion_each_metric_in_its_own_direction():
    champion = {"r2": 0.92, "mae": 850.0}
    within = decide(RULES, {"r2": 0.91, "mae": 900.0}, champion, "3")
    assert within.passed, within.reasons
    assert (
        "r2 0.91 against the champion's 0.92 (version 3): 0.01 worse, within 0.02"
        in (within.reasons)
    )
    worse = decide(RULES, {"r2": 0.93, "mae": 990.0}, champion, "3")
    assert not worse.passed  # better r2, but mae (lower is better) lost 140 > 100
    assert (
        "mae 990 against the champion's 850 (version 3): 140 worse, more than 100"
        in (worse.reasons)
    )
    better = decide(RULES, {"r2": 0.95, "mae": 800.0}, champion, "3")
    assert better.passed
    assert "r2 0.95 against the champion's 0.92 (version 3): no worse, within 0.02" in (
        better.reasons
    )


def test_a_missing_or_non_finite_metric_fails_the_gate():
    decision = decide(RULES, {"r2": float("nan")})
    assert not decision.passed
    assert "r2 is nan, not a number" in decision.reasons
    assert "mae is None, not a number" in decision.reasons


def test_bad_rules_are_refused_one_line_each():
    with pytest.raises(GateConfigError) as error:
        parse_rules(
            {
                "thresholds": {"r2": "at least 0.8", "mae": "<= 1500"},
                "no_worse_than_champion": {"rmse": 1, "mae": -5},
                "tolerance": 1,
            }
        )
    lines = str(error.value).splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("parameters quality_gate.tolerance is not a known key")
    assert "thresholds.r2 is 'at least 0.8', not a comparison" in lines[1]
    assert "r2: '>= 0.8'" in lines[1]  # the example
    assert "no_worse_than_champion.rmse has no threshold" in lines[2]
    assert "no_worse_than_champion.mae is -5" in lines[3]
    with pytest.raises(GateConfigError, match="would pass any model"):
        parse_rules({"thresholds": {}})
