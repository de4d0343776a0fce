"""Client-side metrics: does every client group get equally available and equally good matches?

:func:`client_units` turns the inputs into one row per intake of 0/1 indicators and per-intake
values; :data:`CLIENT_METRICS` says how each metric is a statistic of their group sums
(:mod:`matcher.fairness.specs`). k is :attr:`FairnessConfig.top_k`; "listed" intakes are those
with status ``matched`` and at least one therapist shown in the top k.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.ranking import ndcg_per_group, random_mean_per_group, topk_mean_per_group
from matcher.fairness.inputs import FairnessInputs
from matcher.fairness.preferences import preference_checks
from matcher.fairness.specs import Direction, Kind, MetricSpec, Side, Unit
from matcher.results import Status

CLIENT_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        key="access_gap",
        label="No eligible therapist",
        question=(
            "Share of requests (not routed to crisis) for which no therapist passed the hard "
            "constraints."
        ),
        formula="#{i ∈ g: status = no_eligible_match} / #{i ∈ g: status ≠ crisis}",
        side=Side.CLIENT,
        kind=Kind.MEAN,
        numerator="no_eligible",
        denominator="non_crisis",
        count="non_crisis",
        unit=Unit.SHARE,
        direction=Direction.LOWER_BETTER,
        sentence="{worst}: no eligible therapist for {wv} of requests, vs {bv} for {best}",
    ),
    MetricSpec(
        key="full_choice",
        label="Full list available",
        question=(
            "Share of requests (not routed to crisis) with at least k eligible therapists to "
            "choose from."
        ),
        formula="#{i ∈ g: n_eligible_i ≥ k, status ≠ crisis} / #{i ∈ g: status ≠ crisis}",
        side=Side.CLIENT,
        kind=Kind.MEAN,
        numerator="full_choice",
        denominator="non_crisis",
        count="non_crisis",
        unit=Unit.SHARE,
        direction=Direction.HIGHER_BETTER,
        sentence=(
            "{worst}: at least {k} eligible therapists for {wv} of requests, vs {bv} for {best}"
        ),
    ),
    MetricSpec(
        key="crisis_share",
        label="Routed to crisis support",
        question=(
            "Share of requests routed to crisis resources instead of a list. Context, not judged:"
            " it follows the symptoms clients report."
        ),
        formula="#{i ∈ g: status = crisis} / #{i ∈ g}",
        side=Side.CLIENT,
        kind=Kind.MEAN,
        numerator="crisis",
        denominator="intakes",
        count="intakes",
        unit=Unit.SHARE,
        direction=Direction.NEUTRAL,
        sentence="{worst}: {wv} routed to crisis support, vs {bv} for {best}",
    ),
    MetricSpec(
        key="benefit_topk",
        label="Predicted benefit, top k",
        question="Mean predicted benefit of the therapists shown in the top k.",
        formula="mean over listed i ∈ g of (1/|L_i|) Σ_{p ≤ k} score_ip",
        side=Side.CLIENT,
        kind=Kind.MEAN,
        numerator="benefit_topk",
        denominator="listed",
        count="listed",
        unit=Unit.SCORE,
        direction=Direction.HIGHER_BETTER,
        sentence="{worst}: mean predicted benefit {wv} in the top {k}, vs {bv} for {best}",
    ),
    MetricSpec(
        key="benefit_top1",
        label="Predicted benefit, top 1",
        question="Predicted benefit of the first therapist shown.",
        formula="mean over listed i ∈ g of score_i1",
        side=Side.CLIENT,
        kind=Kind.MEAN,
        numerator="benefit_top1",
        denominator="listed",
        count="listed",
        unit=Unit.SCORE,
        direction=Direction.HIGHER_BETTER,
        sentence="{worst}: predicted benefit of the first match {wv}, vs {bv} for {best}",
    ),
    MetricSpec(
        key="preferences_met",
        label="Stated preferences met",
        question=(
            "Share of listed clients who stated a checkable preference (therapist gender, "
            "modality, cultural competencies, same ethnicity, phone/chat for low bandwidth) and "
            "were shown, in the top k, a therapist meeting all of them."
        ),
        formula="#{i ∈ g: ∃ t in top k meeting every stated preference} / #{listed i ∈ g with one}",
        side=Side.CLIENT,
        kind=Kind.MEAN,
        numerator="pref_met",
        denominator="pref_stated",
        count="pref_stated",
        unit=Unit.SHARE,
        direction=Direction.HIGHER_BETTER,
        sentence="{worst}: stated preferences met for {wv}, vs {bv} for {best}",
    ),
    MetricSpec(
        key="ndcg",
        label="NDCG@k on logged outcomes",
        question="Ranking quality against the graded outcome labels (0-4) of the lists shown.",
        formula=(
            "mean over labelled i ∈ g of DCG@k / IDCG@k, "
            "DCG@k = Σ_{p ≤ k} (2^label − 1) / log2(1 + p)"
        ),
        side=Side.CLIENT,
        kind=Kind.MEAN,
        numerator="ndcg",
        denominator="ndcg_n",
        count="ndcg_n",
        unit=Unit.SCORE,
        direction=Direction.HIGHER_BETTER,
        sentence="{worst}: NDCG@{k} {wv}, vs {bv} for {best}",
    ),
    MetricSpec(
        key="true_benefit_topk",
        label="True benefit, top k",
        question="Mean true probability of a good outcome over the top k (synthetic world only).",
        formula="mean over listed i ∈ g of (1/|L_i|) Σ_{p ≤ k} true_benefit_ip",
        side=Side.CLIENT,
        kind=Kind.MEAN,
        numerator="true_topk",
        denominator="truth_n",
        count="truth_n",
        unit=Unit.SCORE,
        direction=Direction.HIGHER_BETTER,
        sentence="{worst}: true benefit {wv} in the top {k}, vs {bv} for {best}",
    ),
    MetricSpec(
        key="uplift_captured",
        label="Uplift captured",
        question=(
            "Share of the possible gain over a random eligible list that the top k achieved "
            "(synthetic world only)."
        ),
        formula=(
            "Σ_{i ∈ g} (U_model − U_random) / Σ_{i ∈ g} (U_oracle − U_random), U = mean true "
            "benefit of a top k"
        ),
        side=Side.CLIENT,
        kind=Kind.MEAN,
        numerator="uplift_num",
        denominator="uplift_den",
        count="uplift_n",
        unit=Unit.SCORE,
        direction=Direction.HIGHER_BETTER,
        sentence="{worst}: {wv} of the possible uplift captured, vs {bv} for {best}",
    ),
)


def _per_intake(values: pd.Series, keys: pd.Series, index: pd.Index, how: str) -> pd.Series:
    return values.groupby(keys.to_numpy()).agg(how).reindex(index)


def _ndcg(rows: pd.DataFrame, index: pd.Index, top_k: int) -> pd.Series:
    """NDCG@k per intake whose shown rows all carry a label (NaN otherwise or when IDCG = 0),
    the shown order being the ranking (:func:`core.ranking.ndcg_per_group`)."""
    label = pd.to_numeric(rows["label"], errors="coerce")
    keys = rows["intake_id"]
    complete = label.notna().groupby(keys.to_numpy()).all()
    codes, intakes = pd.factorize(keys)
    position = rows["position"].to_numpy(dtype=np.int64)
    ratio = pd.Series(
        ndcg_per_group(codes.astype(np.int64), len(intakes), label.fillna(0), position - 1, top_k),
        index=pd.Index(intakes),
    )
    ratio = ratio.where(complete.reindex(ratio.index) & np.isfinite(ratio))
    return ratio.reindex(index)


def _uplift(
    eligible: pd.DataFrame, true_topk: pd.Series, index: pd.Index, top_k: int
) -> tuple[pd.Series, pd.Series]:
    """(U_model − U_random, U_oracle − U_random) per intake from the eligible pairs' truth."""
    truth = pd.to_numeric(eligible["true_benefit"], errors="coerce")
    keys = eligible["intake_id"].astype(str)
    ok = truth.notna().to_numpy()
    truth, keys = truth[ok], keys[ok]
    codes, intakes = pd.factorize(keys)
    codes = codes.astype(np.int64)
    values = truth.to_numpy(dtype=np.float64)
    random = pd.Series(random_mean_per_group(codes, len(intakes), values), index=intakes)
    oracle = pd.Series(
        topk_mean_per_group(codes, len(intakes), values, values, top_k), index=intakes
    )
    random, oracle = random.reindex(index), oracle.reindex(index)
    return true_topk - random, oracle - random


def client_units(inputs: FairnessInputs, top_k: int) -> pd.DataFrame:
    """One row per intake (same index as ``inputs.intakes``) of the columns CLIENT_METRICS sum.

    Indicators are 0/1; per-intake values are 0 where the intake is outside the metric's
    population, so that group sums of value and indicator give the group mean.
    """
    intakes = inputs.intakes
    ids = pd.Index(intakes["intake_id"].astype(str))
    status = intakes["status"].astype(str).to_numpy()
    shown = inputs.impressions.astype({"intake_id": str, "therapist_id": str})
    shown = shown[shown["intake_id"].isin(ids)]
    shown = shown.assign(position=pd.to_numeric(shown["position"]).astype(np.int64))
    top = shown[shown["position"] <= top_k]
    keys = top["intake_id"]
    score = pd.to_numeric(top["score"], errors="coerce")

    n_top = keys.value_counts().reindex(ids).fillna(0).to_numpy()
    listed = (status == Status.MATCHED.value) & (n_top > 0)
    crisis = status == Status.CRISIS.value
    out: dict[str, np.ndarray] = {
        "intakes": np.ones(len(ids)),
        "non_crisis": ~crisis,
        "no_eligible": status == Status.NO_ELIGIBLE_MATCH.value,
        "crisis": crisis,
        "listed": listed,
    }
    if "n_eligible" in intakes:
        n_eligible = pd.to_numeric(intakes["n_eligible"], errors="coerce").fillna(0).to_numpy()
        out["full_choice"] = ~crisis & (n_eligible >= top_k)
    out["benefit_topk"] = _per_intake(score, keys, ids, "mean").fillna(0).to_numpy() * listed
    first = top.sort_values(["intake_id", "position"], kind="stable")
    out["benefit_top1"] = (
        pd.to_numeric(first["score"], errors="coerce")
        .groupby(first["intake_id"].to_numpy())
        .first()
        .reindex(ids)
        .fillna(0)
        .to_numpy()
        * listed
    )

    stated, met = preference_checks(top, intakes, inputs.therapists)
    stated_rows = stated.to_numpy()[ids.get_indexer(keys)] if len(stated.columns) else None
    if stated_rows is not None:
        meets_all = (met.to_numpy() | ~stated_rows).all(axis=1)
        any_all = pd.Series(meets_all).groupby(keys.to_numpy()).any().reindex(ids)
        has_pref = stated.to_numpy().any(axis=1) & listed
        out["pref_stated"] = has_pref
        out["pref_met"] = has_pref & any_all.fillna(False).to_numpy(dtype=bool)
        for dim in stated.columns:
            dim_met = pd.Series(met[dim].to_numpy()).groupby(keys.to_numpy()).any().reindex(ids)
            dim_stated = stated[dim].to_numpy() & listed
            out[f"pref_{dim}_stated"] = dim_stated
            out[f"pref_{dim}_met"] = dim_stated & dim_met.fillna(False).to_numpy(dtype=bool)

    if "label" in shown and shown["label"].notna().any():
        listed_rows = shown[shown["intake_id"].isin(ids[listed])].reset_index(drop=True)
        ndcg = _ndcg(listed_rows, ids, top_k)
        out["ndcg_n"] = ndcg.notna().to_numpy()
        out["ndcg"] = ndcg.fillna(0).to_numpy()

    if "true_benefit" in top and top["true_benefit"].notna().any():
        truth = pd.to_numeric(top["true_benefit"], errors="coerce")
        true_topk = _per_intake(truth, keys, ids, "mean")
        truth_n = true_topk.notna().to_numpy() & listed
        out["truth_n"] = truth_n
        out["true_topk"] = true_topk.fillna(0).to_numpy() * truth_n
        eligible = inputs.eligible
        if eligible is not None and "true_benefit" in eligible:
            num, den = _uplift(eligible, true_topk.where(truth_n), ids, top_k)
            uplift_n = truth_n & num.notna().to_numpy() & den.notna().to_numpy()
            out["uplift_n"] = uplift_n
            out["uplift_num"] = num.fillna(0).to_numpy() * uplift_n
            out["uplift_den"] = den.fillna(0).to_numpy() * uplift_n
    return pd.DataFrame(out, index=intakes.index).astype(np.float64)


def available_client_metrics(units: pd.DataFrame) -> tuple[MetricSpec, ...]:
    """The client metrics whose columns :func:`client_units` could compute from the inputs."""
    return tuple(
        s for s in CLIENT_METRICS if {s.numerator, s.denominator, s.count} <= set(units.columns)
    )


__all__ = ["CLIENT_METRICS", "available_client_metrics", "client_units"]
