"""The hidden outcome model of the synthetic world, able to score any (intake, therapist) pair.

For a pair (i, t) with the format they would use:
  improve logit  η = b0 + w_i + u_t + v_{t,d(i)}·(1 + g·sev_i) + s·spec_fit
                     + p·pref_met + e·same_ethnicity_wanted − 0.5·sev_i
  dropout logit  δ = c0 − 0.5·m_i + q·pref_met + video·[video]
                     + lb·[video ∧ low_bandwidth] − 0.3·u_t
  P(good) = (1 − σ(δ)) · σ(η)      (retained ≥ 4 sessions and reliably improved)
w, m are hidden client traits; u, v hidden therapist traits (v includes the poor-domain
penalty). The profile-only oracle sets u and v to their mean, 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.encoding import CONCERN_DOMAIN_CODE, IntakeBatch, Pairs, TherapistPool
from features.track_record import N_DOMAINS
from features.vocab import Format
from training.synth.config import WorldConfig

F64 = npt.NDArray[np.float64]
_BIT = {f: np.uint64(1 << k) for k, f in enumerate(Format)}
ORDER_W = 1.0 / np.arange(1, 6)


def sigmoid(x: F64) -> F64:
    """σ(x) = 1 / (1 + e^−x)."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class PairTerms:
    """Observable pair terms the hidden model uses."""

    spec_fit: F64
    pref_met: F64
    same_eth: F64
    video: F64
    low_bw_video: F64
    severity: F64
    domain: npt.NDArray[np.int64]
    appeal_fit: F64
    """What clients can see and like (drives choice, not outcome)."""


def pair_terms(batch: IntakeBatch, pool: TherapistPool, pairs: Pairs) -> PairTerms:
    """Observable terms of each pair (vectorised)."""
    i, j = pairs.intake_idx, pairs.therapist_idx
    codes = batch.concerns[i]
    present = codes >= 0
    hit = (
        (pool.specialties[j][:, None] >> np.maximum(codes, 0).astype(np.uint64)) & np.uint64(1)
    ) == 1
    w = np.where(present, ORDER_W[None, :], 0)
    spec_fit = (w * (hit & present)).sum(1) / w.sum(1)
    parts, counted = np.zeros(len(i)), np.zeros(len(i))
    for want, have in (
        (batch.modality_pref[i], pool.modalities[j]),
        (batch.cultural_pref[i], pool.cultural[j]),
    ):
        asked = want != 0
        parts += np.where(
            asked, np.bitwise_count(want & have) / np.maximum(np.bitwise_count(want), 1), 0
        )
        counted += asked
    g = pool.gender[j]
    gpref = batch.gender_pref[i]
    gmet = (g >= 0) & (((gpref >> np.maximum(g, 0).astype(np.uint64)) & np.uint64(1)) == 1)
    parts += np.where(gpref != 0, gmet, 0)
    counted += gpref != 0
    pref_met = np.where(counted > 0, parts / np.maximum(counted, 1), 0.5)
    same = (batch.client_ethnicity[i] == pool.ethnicity[j]) & (batch.client_ethnicity[i] >= 0)
    same_eth = (batch.same_ethnicity[i] & same).astype(float)
    both = batch.formats[i] & pool.formats[j]
    lowbw = batch.low_bandwidth[i]
    phone_chat = (both & (_BIT[Format.PHONE] | _BIT[Format.CHAT])) != 0
    uses_video = ((both & _BIT[Format.VIDEO]) != 0) & ~(lowbw & phone_chat)
    uses_video |= (both & ~_BIT[Format.VIDEO]) == 0
    sev = np.nan_to_num(batch.severity[i].astype(np.float64), nan=0.4)
    domain = CONCERN_DOMAIN_CODE[np.maximum(codes[:, 0], 0)]
    appeal_fit = spec_fit + 0.5 * pref_met + 0.8 * same_eth
    return PairTerms(
        spec_fit,
        pref_met,
        same_eth,
        uses_video.astype(float),
        (uses_video & lowbw).astype(float),
        sev,
        domain,
        appeal_fit,
    )


@dataclass
class WorldTruth:
    """Hidden traits + coefficients; scores any pair by id."""

    config: WorldConfig
    therapist_traits: pd.DataFrame
    """therapist_id, u, appeal, v_0..v_{D−1} (domain skill incl. the poor-domain penalty)."""
    intake_traits: pd.DataFrame
    """intake_id, w (prognosis), m (motivation)."""
    holdout_intake_ids: list[str]
    holdout_cutoff: str

    def logits(
        self, batch: IntakeBatch, pool: TherapistPool, pairs: Pairs, *, profile_only: bool = False
    ) -> tuple[F64, F64, PairTerms]:
        """(η, δ, terms) of each pair (see the module docstring)."""
        c = self.config
        terms = pair_terms(batch, pool, pairs)
        t_rows = self._therapist_rows(pool)[pairs.therapist_idx]
        i_rows = self._intake_rows(batch)[pairs.intake_idx]
        w = self.intake_traits["w"].to_numpy()[i_rows]
        m = self.intake_traits["m"].to_numpy()[i_rows]
        if profile_only:
            u = np.zeros(len(pairs))
            v = np.zeros(len(pairs))
        else:
            u = self.therapist_traits["u"].to_numpy()[t_rows]
            skills = self.therapist_traits[[f"v_{d}" for d in range(N_DOMAINS)]].to_numpy()
            v = skills[t_rows, terms.domain]
        eta = (
            c.base_improvement
            + w
            + u
            + v * (1 + c.severity_skill_gain * terms.severity)
            + c.specialty_effect * terms.spec_fit
            + c.preference_effect * terms.pref_met
            + c.ethnicity_effect * terms.same_eth
            - 0.5 * terms.severity
        )
        delta = (
            c.base_dropout
            - 0.5 * m
            + c.preference_dropout * (terms.pref_met - 0.5)
            + c.video_dropout * terms.video
            + c.low_bandwidth_video_dropout * terms.low_bw_video
            - 0.3 * u
        )
        return eta, delta, terms

    def p_good(
        self,
        intakes: pd.DataFrame,
        therapists: pd.DataFrame,
        intake_ids: npt.ArrayLike,
        therapist_ids: npt.ArrayLike,
        *,
        profile_only: bool = False,
    ) -> F64:
        """True P(good outcome) = (1 − σ(δ))·σ(η) for pairs given by id arrays."""
        pool = TherapistPool.from_frame(therapists)
        batch = pool.encode_intakes(intakes)
        index = pd.Index(batch.ids.astype(str))
        i = index.get_indexer(np.asarray(intake_ids).astype(str))
        j = pool.positions(list(np.asarray(therapist_ids).astype(str)))
        eta, delta, _ = self.logits(
            batch, pool, Pairs(i.astype(np.int64), j), profile_only=profile_only
        )
        return (1 - sigmoid(delta)) * sigmoid(eta)

    def _therapist_rows(self, pool: TherapistPool) -> npt.NDArray[np.int64]:
        index = pd.Index(self.therapist_traits["therapist_id"].astype(str))
        return index.get_indexer(pool.ids.astype(str)).astype(np.int64)

    def _intake_rows(self, batch: IntakeBatch) -> npt.NDArray[np.int64]:
        index = pd.Index(self.intake_traits["intake_id"].astype(str))
        return index.get_indexer(batch.ids.astype(str)).astype(np.int64)

    def write(self, folder: Path) -> None:
        """Write to ``folder/truth``."""
        out = folder / "truth"
        out.mkdir(parents=True, exist_ok=True)
        self.therapist_traits.to_parquet(out / "therapist_traits.parquet", index=False)
        self.intake_traits.to_parquet(out / "intake_traits.parquet", index=False)
        doc: dict[str, Any] = {
            "config": self.config.to_dict(),
            "holdout_cutoff": self.holdout_cutoff,
            "holdout_intake_ids": self.holdout_intake_ids,
            "model": __doc__,
        }
        (out / "world.json").write_text(json.dumps(doc, indent=1))

    @classmethod
    def load(cls, folder: str | Path) -> WorldTruth:
        """Read ``folder/truth``."""
        out = Path(folder) / "truth"
        doc = json.loads((out / "world.json").read_text())
        return cls(
            config=WorldConfig(**doc["config"]),
            therapist_traits=pd.read_parquet(out / "therapist_traits.parquet"),
            intake_traits=pd.read_parquet(out / "intake_traits.parquet"),
            holdout_intake_ids=list(doc["holdout_intake_ids"]),
            holdout_cutoff=str(doc["holdout_cutoff"]),
        )


def draw_traits(
    config: WorldConfig, rng: np.random.Generator, therapist_ids: list[str], intake_ids: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hidden therapist (u, appeal, v_d with a poor domain for a few) and intake (w, m) traits."""
    n = len(therapist_ids)
    v = rng.normal(0, config.domain_sd, size=(n, N_DOMAINS))
    poor = rng.random(n) < config.poor_share
    v[np.flatnonzero(poor), rng.integers(0, N_DOMAINS, size=int(poor.sum()))] += config.poor_effect
    therapists = pd.DataFrame(
        {
            "therapist_id": therapist_ids,
            "u": rng.normal(0, config.therapist_sd, n),
            "appeal": rng.normal(0, 0.5, n),
            "poor": poor,
        }
        | {f"v_{d}": v[:, d] for d in range(N_DOMAINS)}
    )
    k = len(intake_ids)
    intakes = pd.DataFrame(
        {"intake_id": intake_ids, "w": rng.normal(0, 0.7, k), "m": rng.normal(0, 1.0, k)}
    )
    return therapists, intakes


__all__ = ["PairTerms", "WorldTruth", "draw_traits", "pair_terms", "sigmoid"]
