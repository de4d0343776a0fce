"""Pass / warn / fail rules."""

from __future__ import annotations

import math

from matcher.fairness import Disparity, Figure, Level, LevelThresholds, Thresholds
from matcher.fairness.flags import level_verdict, ratio_verdict
from matcher.fairness.specs import Unit


def _disparity(value: float, low: float, high: float) -> Disparity:
    return Disparity("a", "b", Figure(value, low, high), Figure(0.1, 0.0, 0.2))


def test_ratio_rule_is_the_four_fifths_rule_with_an_interval():
    rules = Thresholds()
    assert ratio_verdict(_disparity(0.85, 0.7, 1.0), rules, 0.95).level is Level.PASS
    assert ratio_verdict(_disparity(0.8, 0.7, 0.9), rules, 0.95).level is Level.PASS
    assert ratio_verdict(_disparity(0.7, 0.6, 0.95), rules, 0.95).level is Level.FAIL
    warn = ratio_verdict(_disparity(0.7, 0.5, 1.05), rules, 0.95)
    assert warn.level is Level.WARN
    assert "reaches 1.00" in warn.reason
    assert ratio_verdict(None, rules, 0.95).level is Level.NOT_ASSESSED
    assert ratio_verdict(_disparity(math.nan, 0, 0), rules, 0.95).level is Level.NOT_ASSESSED


def test_ratio_threshold_is_configurable():
    strict = Thresholds(ratio=0.9)
    assert ratio_verdict(_disparity(0.85, 0.8, 0.88), strict, 0.95).level is Level.FAIL


def test_level_rule():
    rule = LevelThresholds(warn=0.5, fail=0.7)
    assert level_verdict(Figure(0.4, 0.3, 0.5), rule, Unit.SCORE).level is Level.PASS
    assert level_verdict(Figure(0.55, 0.5, 0.6), rule, Unit.SCORE).level is Level.WARN
    assert level_verdict(Figure(0.75, 0.65, 0.85), rule, Unit.SCORE).level is Level.WARN
    assert level_verdict(Figure(0.8, 0.72, 0.9), rule, Unit.SCORE).level is Level.FAIL
    assert level_verdict(None, rule, Unit.SCORE).level is Level.NOT_ASSESSED


def test_verdicts_sort_worst_first_within_a_level():
    rules = Thresholds()
    worse = ratio_verdict(_disparity(0.4, 0.3, 0.5), rules, 0.95)
    better = ratio_verdict(_disparity(0.7, 0.6, 0.8), rules, 0.95)
    assert worse.severity < better.severity
