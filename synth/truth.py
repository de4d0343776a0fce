"""The world's hidden truth: scores any (intake, therapist) pair with its true outcome model.

Written beside the public tables as ``truth/`` (``world.json`` with the config and coefficients,
Parquet files of the hidden therapist and intake traits) so a ranking can be scored later.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.errors import DataNotFoundError, MatcherError
from features.encoding import IntakeBatch, Pairs, TherapistPool
from synth import outcomes
from synth.coefficients import Coefficients
from synth.config import WorldConfig
from synth.outcomes import Logits, PairTerms
from synth.traits import IntakeTraits, TherapistTraits

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
FORMAT_VERSION = 1
TRUTH_DIR = "truth"


def _rows(known: npt.NDArray[np.object_], wanted: npt.NDArray[Any]) -> I64:
    """Row of each wanted id among ``known`` ids (−1 where absent)."""
    return pd.Index(known.astype(str)).get_indexer(np.asarray(wanted).astype(str)).astype(np.int64)


class PGood(NamedTuple):
    """True P(good) of pairs, with every hidden therapist trait (``true``) and with their
    averages (``profile_only``)."""

    true: F64
    profile_only: F64


@dataclass(frozen=True)
class WorldTruth:
    """Hidden traits and coefficients of a synthetic world; the true model of every pair."""

    config: WorldConfig
    coefficients: Coefficients
    therapists: TherapistTraits
    intakes: IntakeTraits
    holdout_cutoff: pd.Timestamp
    """Intakes submitted at or after this time are the holdout (the latest ``holdout_fraction``)."""

    @property
    def holdout_intake_ids(self) -> list[str]:
        """Ids of the holdout intakes (they still have logged interactions)."""
        return [str(x) for x in self.intakes.intake_id[self.intakes.holdout]]

    @property
    def therapist_traits(self) -> pd.DataFrame:
        """Hidden therapist traits as a table."""
        return self.therapists.frame()

    @property
    def intake_traits(self) -> pd.DataFrame:
        """Hidden intake traits as a table."""
        return self.intakes.frame()

    def clients_of(self, batch: IntakeBatch) -> IntakeTraits:
        """Hidden traits aligned to ``batch`` rows (unknown intakes get average traits)."""
        rows = _rows(self.intakes.intake_id, batch.ids)
        return self.intakes.take(rows, batch.severity.astype(np.float64), batch.low_bandwidth)

    def therapists_of(self, pool: TherapistPool, *, profile_only: bool = False) -> TherapistTraits:
        """Hidden traits aligned to ``pool`` rows; average ones for the profile-only oracle."""
        source = self.therapists.averaged() if profile_only else self.therapists
        return source.take(_rows(self.therapists.therapist_id, pool.ids))

    def terms(self, batch: IntakeBatch, pool: TherapistPool, pairs: Pairs) -> PairTerms:
        """Observable fit and hidden client traits of each pair."""
        return outcomes.pair_terms(batch, pool, pairs, self.clients_of(batch))

    def logits(
        self,
        batch: IntakeBatch,
        pool: TherapistPool,
        pairs: Pairs,
        *,
        profile_only: bool = False,
        terms: PairTerms | None = None,
    ) -> Logits:
        """True improvement and dropout logits of encoded pairs (see :mod:`.outcomes`)."""
        terms = terms if terms is not None else self.terms(batch, pool, pairs)
        per_pair = self.therapists_of(pool, profile_only=profile_only).take(pairs.therapist_idx)
        return outcomes.logits(terms, per_pair, self.coefficients)

    def pair_logits(
        self,
        intakes: pd.DataFrame,
        therapists: pd.DataFrame,
        intake_ids: npt.ArrayLike,
        therapist_ids: npt.ArrayLike,
        *,
        profile_only: bool = False,
    ) -> Logits:
        """True logits of pairs given by id arrays (profiles looked up in the two tables)."""
        wanted_intakes = np.asarray(intake_ids).astype(str)
        wanted_therapists = np.asarray(therapist_ids).astype(str)
        subset = intakes[intakes["intake_id"].astype(str).isin(set(wanted_intakes.tolist()))]
        pool = TherapistPool.from_frame(therapists)
        batch = pool.encode_intakes(subset)
        i = _rows(batch.ids, wanted_intakes)
        j = pool.positions(wanted_therapists.tolist())
        if (i < 0).any() or (j < 0).any():
            missing = [*wanted_intakes[i < 0][:3], *wanted_therapists[j < 0][:3]]
            raise MatcherError(f"ids not in the given tables: {', '.join(missing)}")
        return self.logits(batch, pool, Pairs(i, j), profile_only=profile_only)

    def p_good(
        self,
        intakes: pd.DataFrame,
        therapists: pd.DataFrame,
        intake_ids: npt.ArrayLike,
        therapist_ids: npt.ArrayLike,
        *,
        profile_only: bool = False,
    ) -> F64:
        """True P(good outcome) of each (intake_ids[k], therapist_ids[k]) pair.

        P(good) = (1 − σ(δ))·(1 − early_end)·σ(η): retained to ≥ 4 sessions without dropping out
        and reliably improved. ``profile_only=True`` sets every hidden therapist trait to its
        average over the world's therapists (the best any model of profiles alone can do).
        """
        return self.pair_logits(
            intakes, therapists, intake_ids, therapist_ids, profile_only=profile_only
        ).p_good

    def pair_p_good(self, batch: IntakeBatch, pool: TherapistPool, pairs: Pairs) -> PGood:
        """True and profile-only P(good) (see :meth:`p_good`) of pairs already encoded against
        ``pool``: the pairs' terms are computed once for both."""
        terms = self.terms(batch, pool, pairs)
        return PGood(
            self.logits(batch, pool, pairs, terms=terms).p_good,
            self.logits(batch, pool, pairs, terms=terms, profile_only=True).p_good,
        )

    def write(self, folder: str | Path) -> Path:
        """Write ``folder/truth/`` (world.json + two Parquet files)."""
        out = Path(folder) / TRUTH_DIR
        out.mkdir(parents=True, exist_ok=True)
        self.therapists.frame().to_parquet(out / "therapist_traits.parquet", index=False)
        self.intakes.frame().to_parquet(out / "intake_traits.parquet", index=False)
        doc = {
            "format_version": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "coefficients": self.coefficients.to_dict(),
            "holdout_cutoff": self.holdout_cutoff.isoformat(),
            "model": outcomes.__doc__,
        }
        text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
        (out / "world.json").write_text(text, encoding="utf-8")
        return out

    @classmethod
    def load(cls, folder: str | Path) -> WorldTruth:
        """Read the truth written by :meth:`write` into ``folder``."""
        out = Path(folder) / TRUTH_DIR
        if not (out / "world.json").exists():
            raise DataNotFoundError(f"{folder}: no {TRUTH_DIR}/world.json (not a synthetic world)")
        doc = json.loads((out / "world.json").read_text(encoding="utf-8"))
        return cls(
            config=WorldConfig.from_dict(doc["config"]),
            coefficients=Coefficients.from_dict(doc["coefficients"]),
            therapists=TherapistTraits.from_frame(
                pd.read_parquet(out / "therapist_traits.parquet")
            ),
            intakes=IntakeTraits.from_frame(pd.read_parquet(out / "intake_traits.parquet")),
            holdout_cutoff=pd.Timestamp(doc["holdout_cutoff"]),
        )


__all__ = ["TRUTH_DIR", "PGood", "WorldTruth"]
