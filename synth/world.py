"""Generate a synthetic world: profiles → hidden traits → logged lists → choices → outcomes.

Every stage is vectorised over rows or pairs and draws from its own seeded stream, so the same
:class:`WorldConfig` always gives identical tables and truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.dataset import Dataset, load_dataset, write_dataset
from features.encoding import IntakeBatch, TherapistPool
from features.schemas import INTERACTIONS
from synth import outcomes
from synth.coefficients import (
    DROPOUT_IMPROVEMENT_SHIFT,
    DROPOUT_SESSIONS_P,
    Coefficients,
    sigmoid,
    solve_level,
    therapist_sds,
)
from synth.config import WorldConfig
from synth.frames import typed_frame
from synth.intakes import draw_intakes
from synth.logging_policy import (
    EXPLORE_POLICY,
    HEURISTIC_POLICY,
    attractiveness,
    choose,
    logged_lists,
)
from synth.outcomes import Outcomes, PairTerms
from synth.therapists import draw_therapists
from synth.traits import (
    TherapistDraws,
    TherapistTraits,
    draw_intake_traits,
    draw_therapist_units,
    scale_therapists,
)
from synth.truth import WorldTruth

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
MIN_CALIBRATION_PAIRS = 200


@dataclass(frozen=True)
class SyntheticWorld:
    """The observable dataset (SPEC §2 tables) and the hidden truth behind it."""

    dataset: Dataset
    truth: WorldTruth

    def write(self, folder: str | Path, *, fmt: str = "csv") -> Path:
        """Write the three tables (``fmt`` csv or parquet) and ``truth/`` to ``folder``."""
        folder = Path(folder)
        write_dataset(self.dataset, folder, fmt=fmt)
        self.truth.write(folder)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> SyntheticWorld:
        """Read a world written by :meth:`write` (the tables are validated)."""
        return cls(load_dataset(folder), WorldTruth.load(folder))


def holdout_mask(intakes: pd.DataFrame, fraction: float) -> tuple[B, pd.Timestamp]:
    """The latest ``fraction`` of intakes by submission time, and the first holdout time."""
    n = len(intakes)
    order = np.argsort(intakes["submitted_at"].to_numpy(), kind="stable")
    n_hold = min(n, max(1, round(n * fraction)))
    mask = np.zeros(n, dtype=bool)
    mask[order[n - n_hold :]] = True
    cutoff = pd.Timestamp(intakes["submitted_at"].iloc[order[n - n_hold]])
    return mask, cutoff


def fit_coefficients(
    config: WorldConfig, terms: PairTerms, draws: TherapistDraws, ids: npt.NDArray[np.object_]
) -> tuple[Coefficients, TherapistTraits]:
    """Solve therapist SDs and intercepts on the realised caseloads ``terms`` (booked pairs).

    Therapist SDs give ``therapist_share`` of latent improvement variance; b_δ gives the mean
    dropout ``dropout_rate``; b_η gives ``improvement_rate`` among clients who attended. Without
    any pairs the intercepts are the logits of those rates.
    """
    base = Coefficients.from_config(config)
    client_eta, _ = outcomes.client_logits(terms, base)
    variance = float(client_eta.var()) if len(terms) > 1 else 1.0
    spread = (
        float(outcomes.domain_spread(terms, base.severity_skill_gain).mean()) if len(terms) else 1.0
    )
    general_sd, domain_sd, format_sd = therapist_sds(config, variance, spread)
    therapists = scale_therapists(
        draws,
        ids,
        general_sd=general_sd,
        domain_sd=domain_sd,
        format_sd=format_sd,
        poor_effect=config.poor_effect,
    )
    base = base.with_(general_sd=general_sd, domain_sd=domain_sd, format_sd=format_sd)
    if len(terms) == 0:
        rates = {"improvement_intercept": config.improvement_rate}
        rates["dropout_intercept"] = config.dropout_rate
        return base.with_(**{k: math.log(p / (1 - p)) for k, p in rates.items()}), therapists
    lg = outcomes.logits(terms, therapists.take(terms.pairs.therapist_idx), base)
    b_delta = solve_level(lambda b: float(sigmoid(lg.delta + b).mean()), config.dropout_rate)
    dropout = sigmoid(lg.delta + b_delta)
    started_if_dropped = 1 - DROPOUT_SESSIONS_P[0]

    def improvement_rate(b: float) -> float:
        improved = (1 - dropout) * sigmoid(lg.eta + b) + dropout * started_if_dropped * sigmoid(
            lg.eta + b - DROPOUT_IMPROVEMENT_SHIFT
        )
        started = (1 - dropout) + dropout * started_if_dropped
        return float(improved.mean() / started.mean())

    b_eta = solve_level(improvement_rate, config.improvement_rate)
    return base.with_(improvement_intercept=b_eta, dropout_intercept=b_delta), therapists


def interactions_frame(
    batch: IntakeBatch,
    pool: TherapistPool,
    shown: PairTerms,
    *,
    position: npt.NDArray[np.int64],
    chosen: B,
    result: Outcomes,
    propensity: dict[str, npt.NDArray[Any]] | None = None,
) -> pd.DataFrame:
    """The typed interactions table; outcome columns are filled on chosen rows only.
    ``propensity`` holds the logging policy's columns (propensity, shown_propensity, policy)."""
    n = len(shown)
    sessions = np.full(n, np.nan)
    dropped = np.full(n, np.nan)
    alliance = np.full(n, np.nan)
    improved = np.full(n, np.nan)
    sessions[chosen] = result.sessions
    dropped[chosen] = result.dropped_out
    alliance[chosen] = result.alliance
    improved[chosen] = result.improved
    return typed_frame(
        INTERACTIONS,
        {
            "intake_id": batch.ids[shown.pairs.intake_idx],
            "therapist_id": pool.ids[shown.pairs.therapist_idx],
            "position": position,
            "chosen": chosen,
            "sessions_attended": sessions,
            "dropped_out": pd.array(dropped, dtype="Float64").astype("boolean"),
            "alliance": alliance,
            "reliable_improvement": pd.array(improved, dtype="Float64").astype("boolean"),
            **(propensity or {}),
        },
    )


def generate_world(config: WorldConfig) -> SyntheticWorld:
    """A synthetic world for ``config``: the same config always gives the same world."""
    rng = config.streams()
    therapists = draw_therapists(config, rng["therapists"])
    intakes, latents = draw_intakes(config, rng["intakes"])
    pool = TherapistPool.from_frame(therapists)
    batch = pool.encode_intakes(intakes)
    holdout, cutoff = holdout_mask(intakes, config.holdout_fraction)
    clients = draw_intake_traits(
        rng["traits"], batch.ids, latents, low_bandwidth=batch.low_bandwidth, holdout=holdout
    )
    draws = draw_therapist_units(config, rng["traits"], pool)

    logged = logged_lists(config, rng["policy"], batch, pool, clients)
    shown, position = logged.terms, logged.position
    attract = attractiveness(
        shown, draws.appeal[shown.pairs.therapist_idx], config.same_ethnicity_choice_d
    )
    choices = choose(
        config,
        rng["choice"],
        group=shown.pairs.intake_idx,
        position=position,
        attract_logit=attract,
        n_intakes=len(batch),
    )
    booked = shown.take(choices.chosen)
    # a tiny world's few bookings would give erratic intercepts; all its shown pairs do better
    basis = booked if len(booked) >= MIN_CALIBRATION_PAIRS else shown
    coefficients, therapist_traits = fit_coefficients(config, basis, draws, pool.ids)
    lg = outcomes.logits(booked, therapist_traits.take(booked.pairs.therapist_idx), coefficients)
    result = outcomes.draw_outcomes(rng["outcomes"], lg)
    interactions = interactions_frame(
        batch,
        pool,
        shown,
        position=position,
        chosen=choices.chosen,
        result=result,
        propensity={
            "propensity": logged.propensity,
            "shown_propensity": logged.shown_propensity,
            "policy": np.where(logged.explored, EXPLORE_POLICY, HEURISTIC_POLICY),
        },
    )
    truth = WorldTruth(config, coefficients, therapist_traits, clients, cutoff)
    return SyntheticWorld(Dataset(therapists, intakes, interactions), truth)


__all__ = ["SyntheticWorld", "generate_world", "holdout_mask"]
