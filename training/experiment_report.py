"""The experiment report: per arm, requests, lists, outcome rates and mean alliance with 95%
intervals, the difference to the champion, and an off-policy estimate for shadow arms.

Unit: the intake with a shown list (each is assigned to one arm; a client keeps their arm, so
with several intakes per client the intervals are slightly optimistic — said in the caveats).
Per intake, from its shown rows (labels as :func:`training.labels.graded_label`):

- chose: any shown therapist chosen;       - retained ≥ 4: label ≥ 3 (≥ 4 sessions, no dropout);
- reliable improvement: a chosen row with reliable_improvement;
- good outcome: label 4 (retained and improved — what the model optimises and OPE estimates);
- alliance: mean alliance of the chosen rows that have one.

Rates get Wilson intervals and Newcombe hybrid-score intervals for the difference to the
champion; alliance a t interval and a Welch interval for the difference
(``training.offpolicy.intervals``). Arms under ``MIN_LISTS`` lists or ``MIN_OUTCOMES`` outcomes
are reported as too little data, without figures.

A shadow arm is estimated from the lists actually shown on the same intakes by self-normalised
item-position IPS (``training.offpolicy.snips``): a shown row counts where the shadow list puts
that therapist at the same position, weighted by 1 / logged propensity.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from core.config import CHAMPION_ARM
from reports.experiments.model import (
    MIN_LISTS,
    MIN_OUTCOMES,
    ArmRow,
    ExperimentLog,
    ExperimentReport,
    Figure,
    MetricRow,
    OffPolicyRow,
)
from training.labels import LabelConfig, graded_label
from training.offpolicy.feedback import GOOD_LABEL, LoggedFeedback
from training.offpolicy.intervals import (
    LEVEL,
    Estimate,
    newcombe_difference,
    t_mean,
    welch_difference,
    wilson,
)
from training.offpolicy.ips import snips

RATES = {
    "chose": "chose a therapist",
    "retained": "retained ≥ 4 sessions",
    "improved": "reliable improvement",
    "good": "good outcome (retained and improved)",
}
WILSON = "Wilson score; difference: Newcombe hybrid score"
WELCH = "t; difference: Welch t"


def _figure(e: Estimate) -> Figure:
    def clean(x: float) -> float | None:
        return None if x is None or not np.isfinite(x) else round(float(x), 6)

    return Figure(clean(e.value), clean(e.ci_low), clean(e.ci_high), int(e.n))


def per_intake(log: ExperimentLog, labels: LabelConfig | None = None) -> pd.DataFrame:
    """One row per intake with a shown list: its arm and outcomes (module docstring)."""
    inter = log.interactions
    columns = ["arm", "chose", "retained", "improved", "good", "alliance", "outcome"]
    if inter.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="intake_id"))
    label = graded_label(inter, labels)
    chosen = inter["chosen"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ri = inter["reliable_improvement"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    alliance = pd.to_numeric(inter["alliance"]).astype("Float64").to_numpy(float, na_value=np.nan)
    outcome = chosen | inter[["dropped_out", "alliance", "reliable_improvement"]].notna().any(
        axis=1
    ).to_numpy(dtype=bool)
    rows = pd.DataFrame(
        {
            "intake_id": inter["intake_id"].astype(str).to_numpy(),
            "chose": chosen,
            "retained": label >= 3,
            "improved": chosen & ri,
            "good": label >= GOOD_LABEL,
            "alliance": np.where(chosen, alliance, np.nan),
            "outcome": outcome,
        }
    )
    out = rows.groupby("intake_id").agg(
        chose=("chose", "any"),
        retained=("retained", "any"),
        improved=("improved", "any"),
        good=("good", "any"),
        alliance=("alliance", "mean"),
        outcome=("outcome", "any"),
    )
    arm = log.requests.drop_duplicates("intake_id").set_index("intake_id")["arm"]
    out.insert(0, "arm", arm.reindex(out.index).fillna(CHAMPION_ARM).to_numpy())
    return out


def _shadow_estimate(
    log: ExperimentLog, arm: str, intakes: pd.DataFrame, labels: LabelConfig | None
) -> tuple[OffPolicyRow | None, int, int]:
    """SNIPS of a shadow arm's lists against the shown lists of the intakes it ranked."""
    lists = log.shadow[log.shadow["arm"] == arm]
    ranked = pd.Index(lists["intake_id"].astype(str).unique())
    inter = log.interactions[log.interactions["intake_id"].astype(str).isin(ranked)]
    n_lists = len(ranked)
    n_outcomes = int(intakes.reindex(ranked)["outcome"].fillna(False).astype(bool).sum())
    if n_lists < MIN_LISTS or n_outcomes < MIN_OUTCOMES or inter.empty:
        return None, n_lists, n_outcomes
    codes, uniques = pd.factorize(inter["intake_id"].astype(str))
    propensity = pd.to_numeric(inter["propensity"]).astype("Float64")
    feedback = LoggedFeedback(
        intake_ids=np.asarray(uniques, dtype=object),
        group=codes.astype(np.int64),
        therapist_ids=inter["therapist_id"].astype(str).to_numpy(dtype=object),
        position=pd.to_numeric(inter["position"]).to_numpy(dtype=np.int64),
        reward=(graded_label(inter, labels) >= GOOD_LABEL).astype(np.float64),
        chosen=inter["chosen"].astype("boolean").fillna(False).to_numpy(dtype=bool),
        propensity=propensity.fillna(1.0).to_numpy(dtype=float),
        shown_propensity=np.full(len(inter), np.nan),
        policy=np.full(len(inter), arm, dtype=object),
    )
    where = lists.set_index([lists["intake_id"].astype(str), lists["therapist_id"].astype(str)])
    key = pd.MultiIndex.from_arrays([inter["intake_id"].astype(str), inter["therapist_id"]])
    target = where["position"].reindex(key).fillna(0).to_numpy(dtype=np.int64)
    slots = lists.groupby("intake_id").size().reindex(uniques).fillna(0).to_numpy(np.int64)
    estimate = snips(feedback, target, slots)
    good = intakes.reindex(pd.Index(uniques))["good"].fillna(False).astype(bool)
    missing = int(propensity.isna().sum())
    agreement = float(np.mean(target == feedback.position)) if len(target) else 0.0
    deterministic = bool(np.all(propensity.fillna(1.0).to_numpy(float) >= 1.0))
    note = (
        "the shown lists were deterministic (propensity 1): only rows where the shadow arm "
        "agrees with the shown list count, so the estimate is unbiased only for lists that "
        "differ where outcomes do not; turn on MATCHER_SERVING__EXPLORATION for support"
        if deterministic
        else "item-position IPS over the logged propensities"
    )
    if missing:
        note += f"; {missing} shown row(s) without a logged propensity counted as 1"
    row = OffPolicyRow(
        estimator="snips (self-normalised item-position IPS)",
        estimate=_figure(estimate),
        logged=_figure(wilson(int(good.sum()), len(good))),
        agreement=round(agreement, 6),
        note=note,
    )
    return row, n_lists, n_outcomes


def experiment_report(
    log: ExperimentLog, *, labels: LabelConfig | None = None, now: datetime | None = None
) -> ExperimentReport:
    """The report of one experiment's logs (module docstring)."""
    intakes = per_intake(log, labels)
    by_arm = {arm: frame for arm, frame in intakes.groupby("arm")}
    empty = intakes.iloc[0:0]
    champion = by_arm.get(CHAMPION_ARM, empty)
    champion_ok = len(champion) >= MIN_LISTS and int(champion["outcome"].sum()) >= MIN_OUTCOMES
    rows: list[ArmRow] = []
    for arm, shadow in log.arms:
        requests = log.requests[log.requests["arm"] == arm]
        versions = sorted(set(requests["model_version"].astype(str)))
        if shadow:
            lists_of = log.shadow[log.shadow["arm"] == arm]
            versions = sorted(set(lists_of["model_version"].astype(str)))
            off, n_lists, n_outcomes = _shadow_estimate(log, arm, intakes, labels)
            enough = off is not None
            rows.append(
                ArmRow(
                    arm=arm,
                    shadow=True,
                    model_versions=versions,
                    requests=0,
                    lists=n_lists,
                    outcomes=n_outcomes,
                    enough_data=enough,
                    note=None if enough else _too_little(n_lists, n_outcomes),
                    off_policy=off,
                )
            )
            continue
        mine = by_arm.get(arm, empty)
        n_lists = int((requests["status"] == "matched").sum())
        n_outcomes = int(mine["outcome"].sum())
        enough = len(mine) >= MIN_LISTS and n_lists >= MIN_LISTS and n_outcomes >= MIN_OUTCOMES
        compare = enough and champion_ok and arm != CHAMPION_ARM
        metrics = (
            [
                *[_rate(name, label, mine, champion, compare) for name, label in RATES.items()],
                _alliance(mine, champion, compare),
            ]
            if enough
            else []
        )
        rows.append(
            ArmRow(
                arm=arm,
                shadow=False,
                model_versions=versions,
                requests=len(requests),
                lists=n_lists,
                outcomes=n_outcomes,
                enough_data=enough,
                note=None if enough else _too_little(n_lists, n_outcomes),
                metrics=metrics,
            )
        )
    caveats = [
        "unit: the intake with a shown list; a client with several intakes counts several times "
        "(their arm is the same), so intervals are slightly narrower than per client",
        "outcomes still to come count as not happened: compare arms over the same period",
    ]
    if not champion_ok:
        caveats.append("the champion has too little data: no differences are shown")
    return ExperimentReport(
        experiment=log.experiment,
        generated_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        level=LEVEL,
        min_lists=MIN_LISTS,
        min_outcomes=MIN_OUTCOMES,
        arms=rows,
        caveats=caveats,
    )


def _too_little(lists: int, outcomes: int) -> str:
    return (
        f"too little data: {lists} list(s) and {outcomes} outcome(s); figures are shown from "
        f"{MIN_LISTS} lists and {MIN_OUTCOMES} outcomes"
    )


def _rate(
    name: str, label: str, mine: pd.DataFrame, champion: pd.DataFrame, compare: bool
) -> MetricRow:
    k, n = int(mine[name].sum()), len(mine)
    difference = (
        _figure(newcombe_difference(k, n, int(champion[name].sum()), len(champion)))
        if compare
        else None
    )
    return MetricRow(name, label, _figure(wilson(k, n)), difference, WILSON)


def _alliance(mine: pd.DataFrame, champion: pd.DataFrame, compare: bool) -> MetricRow:
    a = mine["alliance"].dropna().to_numpy(float)
    b = champion["alliance"].dropna().to_numpy(float)
    difference = _figure(welch_difference(a, b)) if compare else None
    return MetricRow(
        "alliance", "mean alliance (chosen, rated)", _figure(t_mean(a)), difference, WELCH
    )


__all__ = ["RATES", "experiment_report", "per_intake"]
