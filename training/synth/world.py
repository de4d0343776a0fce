"""Generate a synthetic world: profiles, hidden traits, logged match lists, choices, outcomes.

Logged lists come from a logging policy (a noisy specialty/preference heuristic with
ε-exploration) over eligible therapists only; clients choose with position bias (examination
1/position^0.7) and see profile appeal, not track records; chosen rows get outcomes from the
hidden model in :mod:`training.synth.truth`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.dataset import Dataset, write_dataset
from features.encoding import TherapistPool
from features.parsing import parse_table
from features.schemas import INTERACTIONS
from matcher.eligibility import eligible_pairs
from matcher.ranking import rank_within_groups
from matcher.triage import Route, triage
from training.synth import profiles
from training.synth.config import WorldConfig
from training.synth.truth import WorldTruth, draw_traits, sigmoid

NO_CHOICE_WEIGHT = 0.35


@dataclass
class SyntheticWorld:
    """The observable dataset and the hidden truth."""

    dataset: Dataset
    truth: WorldTruth

    def write(self, folder: str | Path) -> Path:
        """Write tables as CSV plus ``truth/``."""
        folder = Path(folder)
        write_dataset(self.dataset, folder, fmt="csv")
        self.truth.write(folder)
        return folder


def _group_max(group: np.ndarray, value: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.full(n_groups, -np.inf)
    np.maximum.at(out, group, value)
    return out


def generate_world(config: WorldConfig) -> SyntheticWorld:
    """A deterministic world for ``config.seed``."""
    rng = np.random.default_rng(config.seed)
    therapists = profiles.therapists(config, rng)
    intakes = profiles.intakes(config, rng)
    t_traits, i_traits = draw_traits(
        config, rng, therapists["therapist_id"].tolist(), intakes["intake_id"].tolist()
    )
    n_hold = max(1, round(len(intakes) * config.holdout_fraction))
    truth = WorldTruth(
        config,
        t_traits,
        i_traits,
        holdout_intake_ids=intakes["intake_id"].iloc[-n_hold:].tolist(),
        holdout_cutoff=str(intakes["submitted_at"].iloc[-n_hold]),
    )
    pool = TherapistPool.from_frame(therapists)
    batch = pool.encode_intakes(intakes)
    routes = triage(batch).route
    elig = eligible_pairs(batch, pool)
    pairs = elig.pairs.take(routes[elig.pairs.intake_idx] != Route.CRISIS)
    eta, delta, terms = truth.logits(batch, pool, pairs)
    i, j = pairs.intake_idx, pairs.therapist_idx
    explore = rng.random(len(batch)) < config.exploration
    policy = terms.spec_fit + 0.5 * terms.pref_met + rng.normal(0, 0.35, len(pairs))
    policy = np.where(explore[i], rng.random(len(pairs)), policy)
    position = rank_within_groups(i, policy) + 1
    shown = position <= config.list_size
    i, j, position = i[shown], j[shown], position[shown]
    eta, delta = eta[shown], delta[shown]
    appeal = t_traits["appeal"].to_numpy()[j] + 1.2 * terms.appeal_fit[shown]
    attract = sigmoid(-1.0 + appeal) / position**0.7
    utility = np.log(attract) + rng.gumbel(size=len(i))
    best = _group_max(i, utility, len(batch))
    none = np.log(NO_CHOICE_WEIGHT) + rng.gumbel(size=len(batch))
    chosen = (utility == best[i]) & (utility > none[i])
    dropped = rng.random(len(i)) < sigmoid(delta)
    sessions = np.where(dropped, rng.integers(1, 4, len(i)), 4 + rng.geometric(0.15, len(i)))
    p_improve = sigmoid(eta) * np.where(dropped, 0.35, 1.0)
    improved = rng.random(len(i)) < p_improve
    z = (eta - eta.mean()) / (eta.std() + 1e-9)
    alliance = np.clip(
        np.round(3.7 + 0.2 * z + 0.2 * improved + rng.normal(0, 0.6, len(i)), 1), 1, 5
    )
    raw = pd.DataFrame(
        {
            "intake_id": batch.ids[i],
            "therapist_id": pool.ids[j],
            "position": position,
            "chosen": chosen,
            "sessions_attended": np.where(chosen, sessions, np.nan),
            "dropped_out": pd.array(np.where(chosen, dropped, pd.NA), dtype="boolean"),
            "alliance": np.where(chosen, alliance, np.nan),
            "reliable_improvement": pd.array(np.where(chosen, improved, pd.NA), dtype="boolean"),
        }
    ).sort_values(["intake_id", "position"], kind="stable")
    interactions, problems, _ = parse_table("interactions", INTERACTIONS, raw)
    assert not problems, problems[:3]
    return SyntheticWorld(Dataset(therapists, intakes, interactions), truth)


__all__ = ["SyntheticWorld", "generate_world"]
