"""Therapist-side metrics: fair exposure relative to merit, reach, and caseload.

:func:`therapist_units` gives one row per therapist of exposure, target exposure (merit) and
caseload columns; :data:`THERAPIST_METRICS` says how each metric is a statistic of their group
sums (:mod:`matcher.fairness.specs`). A therapist is "in play" when they were eligible for, or
shown to, at least one listed client.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matcher.fairness.exposure import target_exposure, therapist_exposure
from matcher.fairness.inputs import FairnessInputs
from matcher.fairness.specs import Direction, Kind, MetricSpec, Side, Unit

THERAPIST_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        key="exposure_share",
        label="Exposure share",
        question=(
            "Share of all position-weighted attention (1/log2(1+position)) the group received."
        ),
        formula="Σ_{t ∈ g} exposure_t / Σ_t exposure_t, exposure_t = Σ_{shown at p} 1/log2(1 + p)",
        side=Side.THERAPIST,
        kind=Kind.SHARE,
        numerator="exposure",
        denominator="exposure",
        count="in_play",
        unit=Unit.SHARE,
        direction=Direction.NEUTRAL,
        sentence="{worst}: {wv} of all attention, vs {bv} for {best}",
    ),
    MetricSpec(
        key="merit_share",
        label="Merit share",
        question=(
            "Share of attention the group would get if every list's attention were split over its"
            " eligible therapists in proportion to their predicted benefit."
        ),
        formula="Σ_{t ∈ g} target_t / Σ_t target_t, target_t = Σ_i E_i · m_it / Σ_t' m_it'",
        side=Side.THERAPIST,
        kind=Kind.SHARE,
        numerator="target",
        denominator="target",
        count="in_play",
        unit=Unit.SHARE,
        direction=Direction.NEUTRAL,
        sentence="{worst}: {wv} of merit, vs {bv} for {best}",
    ),
    MetricSpec(
        key="exposure_merit_ratio",
        label="Exposure relative to merit",
        question=(
            "Exposure share divided by merit share: 1 = attention in proportion to merit, "
            "below 1 = the group is shown less than its merit warrants (Singh & Joachims 2018)."
        ),
        formula="(exposure share_g) / (merit share_g)",
        side=Side.THERAPIST,
        kind=Kind.SHARE_RATIO,
        numerator="exposure",
        denominator="target",
        count="in_play",
        unit=Unit.RATIO,
        direction=Direction.HIGHER_BETTER,
        sentence="{worst} therapists got {wv}× the exposure their merit warrants, {best} {bv}×",
    ),
    MetricSpec(
        key="never_shown",
        label="Eligible but never shown",
        question=(
            "Share of therapists eligible for at least one client who were never shown to anyone."
        ),
        formula="#{t ∈ g eligible, exposure_t = 0} / #{t ∈ g eligible}",
        side=Side.THERAPIST,
        kind=Kind.MEAN,
        numerator="never_shown",
        denominator="eligible_any",
        count="eligible_any",
        unit=Unit.SHARE,
        direction=Direction.LOWER_BETTER,
        sentence="{worst}: {wv} of eligible therapists never shown, vs {bv} for {best}",
    ),
    MetricSpec(
        key="utilisation",
        label="Caseload utilisation",
        question=(
            "Mean current caseload as a share of the therapist's maximum. Context, not judged."
        ),
        formula="mean over t ∈ g with max_caseload > 0 of current_caseload_t / max_caseload_t",
        side=Side.THERAPIST,
        kind=Kind.MEAN,
        numerator="utilisation",
        denominator="capacity",
        count="capacity",
        unit=Unit.SHARE,
        direction=Direction.NEUTRAL,
        sentence="{worst}: caseloads {wv} full, vs {bv} for {best}",
    ),
    MetricSpec(
        key="overload_rate",
        label="At or over caseload limit",
        question="Share of therapists whose current caseload has reached their maximum.",
        formula="#{t ∈ g: current_t ≥ max_t > 0} / #{t ∈ g: max_t > 0}",
        side=Side.THERAPIST,
        kind=Kind.MEAN,
        numerator="overloaded",
        denominator="capacity",
        count="capacity",
        unit=Unit.SHARE,
        direction=Direction.LOWER_BETTER,
        sentence="{worst}: {wv} at or over their caseload limit, vs {bv} for {best}",
    ),
)


def therapist_units(inputs: FairnessInputs) -> pd.DataFrame:
    """One row per therapist (same index as ``inputs.therapists``) of the summed columns.

    Therapists with ``max_caseload`` 0 (not taking clients) are left out of utilisation and
    overload; shown or eligible therapist ids missing from the pool are ignored.
    """
    therapists = inputs.therapists
    ids = pd.Index(therapists["therapist_id"].astype(str))
    impressions = inputs.impressions.astype({"intake_id": str, "therapist_id": str})
    exposure = therapist_exposure(impressions).reindex(ids).fillna(0.0).to_numpy()
    target = target_exposure(impressions, inputs.eligible).reindex(ids).fillna(0.0).to_numpy()
    out: dict[str, np.ndarray] = {
        "therapists": np.ones(len(ids)),
        "in_play": (exposure > 0) | (target > 0),
        "exposure": exposure,
        "target": target,
    }
    if inputs.eligible is not None:
        eligible_any = ids.isin(inputs.eligible["therapist_id"].astype(str).unique())
        out["eligible_any"] = eligible_any
        out["never_shown"] = eligible_any & (exposure == 0)
        out["in_play"] = out["in_play"] | eligible_any
    if {"current_caseload", "max_caseload"} <= set(therapists.columns):
        current = pd.to_numeric(therapists["current_caseload"], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        limit = pd.to_numeric(therapists["max_caseload"], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        capacity = (limit > 0) & np.isfinite(current)
        out["capacity"] = capacity
        out["utilisation"] = np.where(capacity, current / np.where(capacity, limit, 1.0), 0.0)
        out["overloaded"] = capacity & (current >= limit)
    return pd.DataFrame(out, index=therapists.index).astype(np.float64)


def available_therapist_metrics(units: pd.DataFrame) -> tuple[MetricSpec, ...]:
    """The therapist metrics whose columns :func:`therapist_units` could compute."""
    return tuple(
        s for s in THERAPIST_METRICS if {s.numerator, s.denominator, s.count} <= set(units.columns)
    )


__all__ = ["THERAPIST_METRICS", "available_therapist_metrics", "therapist_units"]
