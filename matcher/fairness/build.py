"""Compose a report: units → group labels → bootstrap → results → :class:`FairnessReport`."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from matcher.fairness.assess import ALL, assess_group_metric, exposure_disparity
from matcher.fairness.client_metrics import available_client_metrics, client_units
from matcher.fairness.config import FairnessConfig
from matcher.fairness.exposure import gini
from matcher.fairness.figures import Figure, GroupMetricResult, ScalarResult
from matcher.fairness.flags import info_verdict, level_verdict
from matcher.fairness.groups import categorical, client_groups, therapist_groups
from matcher.fairness.inputs import FairnessInputs
from matcher.fairness.intervals import GroupedBootstrap, bootstrap_statistic, percentile_interval
from matcher.fairness.preferences import DIMENSIONS
from matcher.fairness.provenance import Provenance
from matcher.fairness.report import FairnessReport, OverloadedTherapist
from matcher.fairness.specs import Direction, Kind, MetricSpec, Side, Unit, group_values
from matcher.fairness.therapist_metrics import available_therapist_metrics, therapist_units
from matcher.fairness.tradeoff import Tradeoff

PREFERENCE_LABELS = {
    "gender": "Therapist gender preference met",
    "modality": "Modality preference met",
    "cultural": "Cultural competencies met",
    "ethnicity": "Same-ethnicity preference met",
    "format": "Phone/chat offered (low bandwidth)",
}


def _with_all(groups: pd.DataFrame) -> pd.DataFrame:
    everyone = pd.Series("all", index=groups.index)
    return groups.assign(**{ALL: categorical(everyone)})


def _bootstrap(
    units: pd.DataFrame, groups: pd.DataFrame, config: FairnessConfig, stream: int
) -> GroupedBootstrap:
    seed = int(np.random.SeedSequence([config.seed, stream]).generate_state(1)[0])
    return GroupedBootstrap(config.n_bootstrap, seed).fit(units, _with_all(groups))


def _group_results(
    boot: GroupedBootstrap, specs: tuple[MetricSpec, ...], config: FairnessConfig
) -> tuple[GroupMetricResult, ...]:
    attributes = [a for a in boot.levels_ if a != ALL]
    return tuple(assess_group_metric(boot, s, a, config) for s in specs for a in attributes)


def _overall_scalar(
    boot: GroupedBootstrap, spec: MetricSpec, config: FairnessConfig
) -> tuple[int, Figure | None]:
    n = round(float(boot.sums_[ALL][0, boot.column(spec.count)]))
    if n < config.min_group_size:
        return n, None
    value = group_values(boot.sums_[ALL], spec, boot.columns_)[0]
    reps = group_values(boot.replicates_[ALL], spec, boot.columns_)[:, 0]
    low, high = percentile_interval(reps, config.ci_level)
    return n, Figure(float(value), float(low), float(high))


def _preference_results(boot: GroupedBootstrap, config: FairnessConfig) -> tuple[ScalarResult, ...]:
    out = []
    for dim in DIMENSIONS:
        stated, met = f"pref_{dim}_stated", f"pref_{dim}_met"
        if stated not in boot.columns_:
            continue
        spec = MetricSpec(
            f"preference_{dim}",
            PREFERENCE_LABELS[dim],
            "Share of listed clients who stated this preference and saw, in the top k, a "
            "therapist meeting it.",
            f"#{{i: {dim} preference met in top k}} / #{{listed i stating it}}",
            Side.CLIENT,
            Kind.MEAN,
            met,
            stated,
            stated,
            Unit.SHARE,
            Direction.NEUTRAL,
        )
        n, figure = _overall_scalar(boot, spec, config)
        shown_n = None if figure is None else n
        out.append(
            ScalarResult(
                spec.key,
                spec.label,
                spec.question,
                spec.formula,
                "overall",
                Unit.SHARE,
                shown_n,
                figure,
                info_verdict(),
            )
        )
    return tuple(out)


def _therapist_scalars(
    boot: GroupedBootstrap,
    units: pd.DataFrame,
    specs: tuple[MetricSpec, ...],
    config: FairnessConfig,
) -> tuple[ScalarResult, ...]:
    out = []
    by_key = {s.key: s for s in specs}
    rules = config.thresholds
    share = by_key["exposure_share"]
    for attribute in (a for a in boot.levels_ if a != ALL):
        n_shown, figure = exposure_disparity(boot, share, attribute, config)
        out.append(
            ScalarResult(
                "exposure_disparity",
                "Exposure vs merit disparity",
                "Share of all attention that would have to move between groups for each group's "
                "exposure to match its merit share (0 = proportional).",
                "½ Σ_g |exposure share_g − merit share_g| over the groups shown",
                attribute,
                Unit.SHARE,
                n_shown,
                figure,
                level_verdict(figure, rules.exposure_disparity, Unit.SHARE),
            )
        )
    in_play = units["in_play"].to_numpy() > 0
    exposure = units["exposure"].to_numpy()[in_play]
    if len(exposure) >= config.min_group_size:
        seed = int(np.random.SeedSequence([config.seed, 3]).generate_state(1)[0])
        reps = bootstrap_statistic(exposure, gini, config.n_bootstrap, seed)
        low, high = percentile_interval(reps, config.ci_level)
        gini_figure: Figure | None = Figure(float(gini(exposure)), float(low), float(high))
    else:
        gini_figure = None
    out.append(
        ScalarResult(
            "gini_exposure",
            "Gini of exposure",
            "How unequally attention is spread across the therapists in play (0 = everyone the "
            "same, 1 = one therapist gets it all).",
            "G = Σ_s Σ_t |x_s − x_t| / (2 n² x̄), x = exposure per therapist in play",
            "overall",
            Unit.SCORE,
            int(in_play.sum()),
            gini_figure,
            level_verdict(gini_figure, rules.gini, Unit.SCORE),
        )
    )
    if "overload_rate" in by_key:
        n, figure = _overall_scalar(boot, by_key["overload_rate"], config)
        out.append(
            ScalarResult(
                "overload_rate",
                "At or over caseload limit",
                "Share of all therapists with a caseload limit who have reached it.",
                by_key["overload_rate"].formula.replace("t ∈ g", "t"),
                "overall",
                Unit.SHARE,
                n,
                figure,
                level_verdict(figure, rules.overload, Unit.SHARE),
            )
        )
    return tuple(out)


def _overloaded(
    therapists: pd.DataFrame, limit: int
) -> tuple[int, tuple[OverloadedTherapist, ...]]:
    if not {"current_caseload", "max_caseload"} <= set(therapists.columns):
        return 0, ()
    names = (
        therapists["display_name"].fillna("").astype(str)
        if "display_name" in therapists
        else pd.Series("", index=therapists.index)
    )
    frame = pd.DataFrame(
        {
            "therapist_id": therapists["therapist_id"].astype(str),
            "display_name": names,
            "current": pd.to_numeric(therapists["current_caseload"], errors="coerce"),
            "max": pd.to_numeric(therapists["max_caseload"], errors="coerce"),
        }
    ).dropna()
    over = frame[(frame["max"] > 0) & (frame["current"] >= frame["max"])]
    over = over.assign(excess=over["current"] - over["max"], load=over["current"] / over["max"])
    over = over.sort_values(["excess", "load", "therapist_id"], ascending=[False, False, True])
    listed = tuple(
        OverloadedTherapist(str(r.therapist_id), int(r.current), int(r.max), str(r.display_name))
        for r in over.head(limit).itertuples()
    )
    return len(over), listed


def _notes(inputs: FairnessInputs, client: pd.DataFrame, therapist: pd.DataFrame) -> list[str]:
    notes = []
    if inputs.eligible is None:
        notes.append(
            "No eligible pairs given: merit shares come from the shown lists only; the "
            "never-shown share and uplift captured are not computed."
        )
    if "ndcg" not in client:
        notes.append("No outcome labels: NDCG is not computed.")
    if "true_topk" not in client:
        notes.append("No true benefit (synthetic world only): truth-based metrics are omitted.")
    if "tenure" not in therapist:
        notes.append(
            "No is_new, n_outcomes or first_seen column: new vs established is not compared."
        )
    return notes


def build_report(
    inputs: FairnessInputs,
    config: FairnessConfig | None = None,
    *,
    tradeoff: Tradeoff | None = None,
    generated_at: str | None = None,
    provenance: Provenance | None = None,
) -> FairnessReport:
    """Compute every metric, interval and verdict of the fairness report.

    Client figures resample intakes, therapist figures resample therapists
    (:class:`~matcher.fairness.intervals.GroupedBootstrap`); groups below
    ``config.min_group_size`` are suppressed. ``tradeoff`` (from
    :func:`~matcher.fairness.tradeoff.evaluate_tradeoff`) is shown when given; ``provenance``
    (source, model, data window) heads the page.
    """
    config = config or FairnessConfig()
    c_units = client_units(inputs, config.top_k)
    c_groups = client_groups(inputs.intakes, config.groups)
    c_specs = available_client_metrics(c_units)
    c_boot = _bootstrap(c_units, c_groups, config, stream=1)

    t_units = therapist_units(inputs)
    t_groups = therapist_groups(inputs.therapists, config.groups)
    t_specs = available_therapist_metrics(t_units)
    t_boot = _bootstrap(t_units, t_groups, config, stream=2)

    n_overloaded, overloaded = _overloaded(inputs.therapists, config.max_listed_overloaded)
    counts = {
        "intakes": len(inputs.intakes),
        "therapists": len(inputs.therapists),
        "impressions": len(inputs.impressions),
        "eligible_pairs": 0 if inputs.eligible is None else len(inputs.eligible),
    }
    return FairnessReport(
        generated_at=generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
        config=config,
        counts=counts,
        client=_group_results(c_boot, c_specs, config),
        therapist=_group_results(t_boot, t_specs, config),
        scalars=_therapist_scalars(t_boot, t_units, t_specs, config),
        preferences=_preference_results(c_boot, config),
        overloaded=overloaded,
        n_overloaded=n_overloaded,
        tradeoff=tradeoff,
        notes=tuple(_notes(inputs, c_units, t_groups)),
        provenance=provenance,
    )


__all__ = ["build_report"]
