"""The experiment report on seeded synthetic logs with a known true difference between arms: its
95% intervals cover the truth in most repeats, and arms with few data say so."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports.experiments.model import ExperimentLog, ExperimentReport
from training.experiment_report import experiment_report

P_CHOSE, P_RETAINED = 0.6, 0.7
P_IMPROVED = {"champion": 0.5, "challenger": 0.35}
"""P(reliable improvement | retained) per arm: P(good outcome) = 0.6 · 0.7 · p."""


def synthetic_log(seed: int, sizes: dict[str, int]) -> ExperimentLog:
    """One shown therapist per intake; choice, retention, improvement and alliance drawn with
    known probabilities per arm; a shadow arm that ranks the same therapist first half the time."""
    rng = np.random.default_rng(seed)
    requests, rows, shadow = [], [], []
    for arm, n in sizes.items():
        for k in range(n):
            intake = f"{arm}-{k}"
            requests.append((f"r-{intake}", intake, arm, "matched", f"m/{arm}"))
            chose = rng.random() < P_CHOSE
            retained = chose and rng.random() < P_RETAINED
            improved = retained and rng.random() < P_IMPROVED[arm]
            rows.append(
                {
                    "intake_id": intake,
                    "therapist_id": "t1",
                    "position": 1,
                    "chosen": chose,
                    "sessions_attended": (6 if retained else 1) if chose else None,
                    "dropped_out": (not retained) if chose else None,
                    "alliance": float(rng.normal(4.0 if arm == "champion" else 3.8, 0.5))
                    if chose
                    else None,
                    "reliable_improvement": improved if retained else None,
                    "propensity": 1.0,
                    "arm": arm,
                }
            )
            shadow.append((intake, "shadow", "t1" if k % 2 else "t9", 1, "m/shadow"))
    return ExperimentLog(
        experiment="e",
        arms=[("champion", False), ("challenger", False), ("shadow", True)],
        requests=pd.DataFrame(
            requests, columns=["request_id", "intake_id", "arm", "status", "model_version"]
        ),
        interactions=pd.DataFrame(rows),
        shadow=pd.DataFrame(
            shadow, columns=["intake_id", "arm", "therapist_id", "position", "model_version"]
        ),
    )


def _metric(report: ExperimentReport, arm: str, name: str) -> tuple[object, object]:
    row = next(a for a in report.arms if a.arm == arm)
    metric = next(m for m in row.metrics if m.metric == name)
    return metric.estimate, metric.difference


def test_intervals_cover_a_known_difference_between_arms() -> None:
    truth_good = {a: P_CHOSE * P_RETAINED * p for a, p in P_IMPROVED.items()}
    true_difference = truth_good["challenger"] - truth_good["champion"]
    repeats, covered_diff, covered_rate, excluded_zero = 60, 0, 0, 0
    for seed in range(repeats):
        report = experiment_report(synthetic_log(seed, {"champion": 800, "challenger": 800}))
        estimate, difference = _metric(report, "challenger", "good")
        assert estimate is not None and difference is not None
        covered_diff += difference.ci_low <= true_difference <= difference.ci_high  # type: ignore[attr-defined]
        covered_rate += estimate.ci_low <= truth_good["challenger"] <= estimate.ci_high  # type: ignore[attr-defined]
        excluded_zero += difference.ci_high < 0  # type: ignore[attr-defined]
    # nominal 95%: below 85% of 60 repeats would be a 3.5-sigma miss
    assert covered_diff / repeats >= 0.85 and covered_rate / repeats >= 0.85
    assert excluded_zero / repeats >= 0.5  # a 0.063 difference at n = 800 is usually detected


def test_equal_arms_rarely_show_a_winner() -> None:
    false_winners = 0
    for seed in range(40):
        log = synthetic_log(1000 + seed, {"champion": 600, "challenger": 600})
        # both arms improved with the champion's probability: no true difference
        equal = log.interactions.assign(arm="champion")
        draws = np.random.default_rng(seed).random(len(equal))
        retained = equal["dropped_out"].eq(False).fillna(False).to_numpy(bool)
        equal["reliable_improvement"] = np.where(retained, draws < P_IMPROVED["champion"], None)
        report = experiment_report(
            ExperimentLog(log.experiment, log.arms, log.requests, equal, log.shadow)
        )
        _, difference = _metric(report, "challenger", "good")
        false_winners += not (difference.ci_low <= 0 <= difference.ci_high)  # type: ignore[attr-defined]
    assert false_winners <= 6  # nominal 5% of 40 = 2


def test_arms_with_few_data_say_so_instead_of_figures() -> None:
    report = experiment_report(synthetic_log(0, {"champion": 400, "challenger": 12}))
    challenger = next(a for a in report.arms if a.arm == "challenger")
    assert not challenger.enough_data and challenger.metrics == []
    assert challenger.note is not None and "too little data" in challenger.note
    champion = next(a for a in report.arms if a.arm == "champion")
    assert champion.enough_data and all(m.difference is None for m in champion.metrics)


def test_a_shadow_arm_gets_an_off_policy_estimate_from_the_shown_lists() -> None:
    report = experiment_report(synthetic_log(3, {"champion": 500, "challenger": 500}))
    shadow = next(a for a in report.arms if a.arm == "shadow")
    assert shadow.shadow and shadow.enough_data and shadow.off_policy is not None
    assert shadow.off_policy.agreement == 0.5  # it agrees with half of the shown rows
    assert "snips" in shadow.off_policy.estimator and "deterministic" in shadow.off_policy.note
    value = shadow.off_policy.estimate
    assert value.ci_low is not None and value.ci_low <= value.value <= value.ci_high  # type: ignore[operator]
