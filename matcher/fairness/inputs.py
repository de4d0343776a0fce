"""What a fairness report is computed from: four frames, checked once on the way in."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from matcher.results import Status

INTAKE_COLUMNS = ("intake_id", "status")
THERAPIST_COLUMNS = ("therapist_id",)
IMPRESSION_COLUMNS = ("intake_id", "therapist_id", "position", "score")
ELIGIBLE_COLUMNS = ("intake_id", "therapist_id", "merit")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")


@dataclass(frozen=True)
class FairnessInputs:
    """The frames a report is built from (typed as :mod:`features.dataset` loads them)."""

    intakes: pd.DataFrame
    """One row per match request: the SPEC §2 intake columns (``intake_id``, ``client_gender``,
    ``client_ethnicity``, ``age_group``, ``payment``, ``languages`` (list), ``region``, the
    preference lists, …) plus ``status`` (``matched`` / ``no_eligible_match`` / ``crisis``) and
    ``n_eligible`` (therapists passing every hard constraint). Group columns that are absent are
    skipped."""

    therapists: pd.DataFrame
    """One row per therapist in the pool: SPEC §2 columns (``therapist_id``, ``gender``,
    ``ethnicity``, ``license_type``, ``years_experience``, ``current_caseload``,
    ``max_caseload``, ``modalities``, ``formats``, ``cultural_competencies``, …) plus, optionally,
    what says who is new: ``is_new`` (bool), else ``n_outcomes`` (past outcomes, new below
    :attr:`GroupDefinitions.new_max_outcomes`), else ``first_seen`` (new within
    :attr:`GroupDefinitions.new_window_days`)."""

    impressions: pd.DataFrame
    """One row per therapist shown: ``intake_id``, ``therapist_id``, ``position`` (1 = top),
    ``score`` (predicted benefit 0–1); optional ``label`` (graded relevance 0–4),
    ``true_benefit`` (the synthetic world's truth) and ``chosen``."""

    eligible: pd.DataFrame | None = None
    """Optional: every eligible (intake, therapist) pair with ``merit`` (predicted benefit), and
    optionally ``true_benefit``. Gives merit shares over all eligible therapists (not only those
    shown), the never-shown share and uplift captured; without it merit comes from the shown
    lists."""

    def __post_init__(self) -> None:
        _require(self.intakes, INTAKE_COLUMNS, "intakes")
        _require(self.therapists, THERAPIST_COLUMNS, "therapists")
        _require(self.impressions, IMPRESSION_COLUMNS, "impressions")
        if self.eligible is not None:
            _require(self.eligible, ELIGIBLE_COLUMNS, "eligible")
        unknown = set(self.intakes["status"].dropna().astype(str)) - {s.value for s in Status}
        if unknown:
            raise ValueError(f"intakes: unknown status value(s) {', '.join(sorted(unknown))}")
        if self.intakes["intake_id"].duplicated().any():
            raise ValueError("intakes: duplicate intake_id")
        if self.therapists["therapist_id"].duplicated().any():
            raise ValueError("therapists: duplicate therapist_id")
        if (pd.to_numeric(self.impressions["position"]) < 1).any():
            raise ValueError("impressions: position must be ≥ 1")


__all__ = ["FairnessInputs"]
