"""The SPEC §5 figures measured on a generated world, as a researcher with the data (and, where
said, the truth) would measure them.

``python -m synth.calibration [--therapists N] [--intakes M] [--seed S] [DIR]`` prints
them for a fresh world (or a written one in DIR).
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.ranking import random_topk_mean, rank_within_groups, topk_mean, uplift_captured
from features.encoding import Pairs, TherapistPool
from features.vocab import Format
from matcher.triage import Route, triage
from synth.candidates import candidate_pairs
from synth.coefficients import LOGISTIC_VARIANCE
from synth.config import WorldConfig
from synth.world import SyntheticWorld, generate_world

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
D_PER_LOGIT = math.sqrt(3) / math.pi


def _odds(p: float) -> float:
    return p / (1 - p) if 0 < p < 1 else float("nan")


def odds_ratio(events: F64, exposed: B, reference: B) -> float:
    """odds(event | reference) / odds(event | exposed)."""
    if not exposed.any() or not reference.any():
        return float("nan")
    return _odds(float(events[reference].mean())) / _odds(float(events[exposed].mean()))


def logit_d(events: F64, better: B, worse: B) -> float:
    """A binary outcome's group difference as Cohen's d: ln OR·√3/π."""
    ratio = odds_ratio(events, worse, better)
    return math.log(ratio) * D_PER_LOGIT if ratio > 0 else float("nan")


def _rows(frame: pd.DataFrame, column: str) -> F64:
    return pd.to_numeric(frame[column].astype("Float64")).to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def calibration_report(world: SyntheticWorld, *, top_k: int = 5) -> dict[str, float]:
    """SPEC §5 figures of ``world`` (rates over booked clients; see the keys for the rest)."""
    ds, truth = world.dataset, world.truth
    pool = TherapistPool.from_frame(ds.therapists)
    batch = pool.encode_intakes(ds.intakes)
    inter = ds.interactions
    i = pd.Index(batch.ids.astype(str)).get_indexer(inter["intake_id"].astype(str))
    j = pool.positions(inter["therapist_id"].astype(str).tolist())
    shown = Pairs(i.astype(np.int64), j)
    chosen = inter["chosen"].to_numpy(dtype=bool)
    booked = shown.take(chosen)
    terms = truth.terms(batch, pool, booked)
    lg = truth.logits(batch, pool, booked, terms=terms)
    rows = inter[chosen]
    dropped = _rows(rows, "dropped_out")
    improved = _rows(rows, "reliable_improvement")
    alliance = _rows(rows, "alliance")
    sessions = _rows(rows, "sessions_attended")
    started = sessions > 0
    good = (sessions >= 4) & (dropped == 0) & (improved == 1)
    met = terms.stated & (terms.accommodated >= 1)
    unmet = terms.stated & (terms.accommodated <= 0)
    wants = terms.wants_same
    video, phone = terms.video, terms.format_used == list(Format).index(Format.PHONE)
    in_person = terms.format_used == list(Format).index(Format.IN_PERSON)
    eta = lg.eta
    therapist_variance = float(lg.therapist_eta.var())
    route = triage(batch).route
    listed = np.bincount(shown.intake_idx, minlength=len(batch)) > 0
    per_therapist = np.bincount(booked.therapist_idx, minlength=len(pool))
    active = per_therapist > 0

    out: dict[str, float] = {
        "therapists": len(pool),
        "intakes": len(batch),
        "interactions": len(inter),
        "crisis_share": float((route == Route.CRISIS).mean()),
        "item9_is_1_share": float(
            (batch.item9 == 1).sum() / max((~np.isnan(batch.item9)).sum(), 1)
        ),
        "item9_2plus_share": float(
            (batch.item9 >= 2).sum() / max((~np.isnan(batch.item9)).sum(), 1)
        ),
        "no_list_share_non_crisis": float((~listed[route != Route.CRISIS]).mean()),
        "mean_list_length": float(len(inter) / max(listed.sum(), 1)),
        "no_choice_rate": float(1 - chosen.sum() / max(listed.sum(), 1)),
        "dropout_rate": float(np.nanmean(dropped)),
        "improvement_rate_starters": float(np.nanmean(improved[started])),
        "good_outcome_rate": float(good.mean()),
        "alliance_mean": float(np.nanmean(alliance)),
        "alliance_improvement_r": float(np.corrcoef(alliance[started], improved[started])[0, 1]),
        "therapist_variance_share": therapist_variance / (float(eta.var()) + LOGISTIC_VARIANCE),
        "poor_domain_therapist_share": float((truth.therapists.poor_domain >= 0).mean()),
        "preference_dropout_or": odds_ratio(dropped, met, unmet),
        "preference_improvement_d": logit_d(improved[started], met[started], unmet[started]),
        "same_ethnicity_improvement_d": logit_d(
            improved[started],
            (wants & terms.same_ethnicity)[started],
            (wants & ~terms.same_ethnicity)[started],
        ),
        "video_dropout": float(np.nanmean(dropped[video])),
        "phone_dropout": float(np.nanmean(dropped[phone])),
        "in_person_dropout": float(np.nanmean(dropped[in_person])),
        "low_bandwidth_video_dropout": float(np.nanmean(dropped[video & terms.low_bandwidth])),
        "video_improvement_retained": float(np.nanmean(improved[video & (dropped == 0)])),
        "phone_improvement_retained": float(np.nanmean(improved[phone & (dropped == 0)])),
        "outcomes_per_active_therapist_median": float(np.median(per_therapist[active])),
        "therapists_with_15_outcomes_share": float((per_therapist >= 15).mean()),
    }
    out |= _choice_figures(world, batch, pool, shown, chosen)
    out |= _uplift_figures(world, batch, pool, top_k)
    return out


def _choice_figures(
    world: SyntheticWorld, batch: Any, pool: TherapistPool, shown: Pairs, chosen: B
) -> dict[str, float]:
    """How strongly visible fit sways booking (Cabral & Smith: preference d ≈ .63)."""
    terms = world.truth.terms(batch, pool, shown)
    wants = terms.wants_same
    chosen_f = chosen.astype(np.float64)
    position = world.dataset.interactions["position"].to_numpy(dtype=np.int64)
    top = position == 1
    return {
        "same_ethnicity_choice_d": logit_d(
            chosen_f, wants & terms.same_ethnicity, wants & ~terms.same_ethnicity
        ),
        "position_1_choice_rate": float(chosen_f[top].mean()) if top.any() else float("nan"),
        "position_5_choice_rate": float(chosen_f[position == 5].mean())
        if (position == 5).any()
        else float("nan"),
    }


def _uplift_figures(
    world: SyntheticWorld, batch: Any, pool: TherapistPool, top_k: int
) -> dict[str, float]:
    """U@k of random eligible, profile-only oracle and oracle over the holdout intakes, and the
    uplift the profile-only oracle captures (the headroom track records can add), and the
    domain-skill matching effect: mean η of each intake's best third of eligible therapists by
    hidden domain skill minus the mean over all, in d units, for severe vs other clients
    (Constantino et al. 2021)."""
    truth = world.truth
    pairs = candidate_pairs(batch, pool)
    holdout = np.isin(batch.ids.astype(str), truth.holdout_intake_ids)
    pairs = pairs.take(holdout[pairs.intake_idx])
    if len(pairs) == 0:
        return {}
    terms = truth.terms(batch, pool, pairs)
    full = truth.logits(batch, pool, pairs, terms=terms)
    profile = truth.logits(batch, pool, pairs, terms=terms, profile_only=True)
    p_true, p_profile = full.p_good, profile.p_good
    group = pairs.intake_idx
    groups, inverse = np.unique(group, return_inverse=True)
    u_random = random_topk_mean(inverse, p_true)
    u_oracle = topk_mean(inverse, p_true, p_true, top_k)
    u_profile = topk_mean(inverse, p_profile, p_true, top_k)
    general = truth.therapists_of(pool).take(pairs.therapist_idx).general
    skill = full.therapist_eta - general
    best_third = rank_within_groups(inverse, skill) < np.ceil(np.bincount(inverse) / 3)[inverse]
    mean_eta = np.bincount(inverse, weights=full.eta) / np.bincount(inverse)
    best_eta = np.bincount(inverse[best_third], weights=full.eta[best_third], minlength=len(groups))
    best_n = np.maximum(np.bincount(inverse[best_third], minlength=len(groups)), 1)
    gain = (best_eta / best_n - mean_eta) * D_PER_LOGIT
    severe = batch.severe[groups]
    return {
        f"u_random_at_{top_k}": u_random,
        f"u_profile_oracle_at_{top_k}": u_profile,
        f"u_oracle_at_{top_k}": u_oracle,
        "profile_oracle_uplift_captured": uplift_captured(u_profile, u_random, u_oracle),
        "domain_matching_d_severe": float(gain[severe].mean()) if severe.any() else float("nan"),
        "domain_matching_d_other": float(gain[~severe].mean()) if (~severe).any() else float("nan"),
    }


def main(argv: list[str] | None = None) -> None:
    """Print the calibration report of a fresh or written world as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", nargs="?", help="a written world (default: generate one)")
    parser.add_argument("--therapists", type=int, default=300)
    parser.add_argument("--intakes", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.folder:
        world = SyntheticWorld.load(args.folder)
    else:
        config = WorldConfig(n_therapists=args.therapists, n_intakes=args.intakes, seed=args.seed)
        world = generate_world(config)
    report = calibration_report(world)
    print(json.dumps({k: round(v, 4) for k, v in report.items()}, indent=1))


if __name__ == "__main__":
    main()


__all__ = ["calibration_report", "logit_d", "main", "odds_ratio"]
