"""The true value of any ranking policy's lists: the world's clients choose from them.

For lists on a world's intakes, each shown therapist is examined with probability
position^−decay, appeals with probability σ(a + level) (``level`` re-solved on the world's own
logged lists, as :func:`synth.world.generate_world` did), and the client books the appealing one
with the largest a + Gumbel noise, or nobody (:func:`synth.logging_policy.choose`). The value of a
list is Σ_t P(book t | list) · P(good outcome | t): booking is averaged over ``draws`` replays,
outcomes are taken in expectation from the true outcome model.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.dataset import Dataset
from features.encoding import Pairs, TherapistPool
from synth.coefficients import sigmoid
from synth.logging_policy import attractiveness, choice_level
from synth.truth import WorldTruth

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class ListReplay:
    """Scores lists on one world: its truth and its observable tables."""

    def __init__(self, truth: WorldTruth, dataset: Dataset) -> None:
        self.truth = truth
        self.dataset = dataset
        self.pool = TherapistPool.from_frame(dataset.therapists)
        self.batch = self.pool.encode_intakes(dataset.intakes)
        self._intake_row = pd.Index(self.batch.ids.astype(str))
        self._appeal = truth.therapists_of(self.pool).appeal
        inter = dataset.interactions
        group, attract, _ = self.pair_terms(
            inter["intake_id"].to_numpy(), inter["therapist_id"].to_numpy()
        )
        self.level = choice_level(
            truth.config,
            group=group,
            position=pd.to_numeric(inter["position"]).to_numpy(dtype=np.int64),
            attract_logit=attract,
            n_intakes=len(self.batch),
        )

    def pair_terms(
        self, intake_ids: npt.ArrayLike, therapist_ids: npt.ArrayLike
    ) -> tuple[I64, F64, F64]:
        """Per (intake, therapist) pair: the intake's row in ``batch``, the booking logit a before
        the level (:func:`synth.logging_policy.attractiveness`) and the true P(good outcome)."""
        i = self._intake_row.get_indexer(np.asarray(intake_ids).astype(str)).astype(np.int64)
        j = self.pool.positions(np.asarray(therapist_ids).astype(str).tolist())
        pairs = Pairs(i, j)
        terms = self.truth.terms(self.batch, self.pool, pairs)
        attract = attractiveness(terms, self._appeal[j], self.truth.config.same_ethnicity_choice_d)
        p_good = self.truth.logits(self.batch, self.pool, pairs, terms=terms).p_good
        return i, attract, np.asarray(p_good, dtype=np.float64)

    def booking_probability(
        self, group: I64, position: I64, attract: F64, *, draws: int, rng: np.random.Generator
    ) -> F64:
        """P(the client books each listed row), averaged over ``draws`` replays of the choice."""
        examine = position.astype(np.float64) ** -self.truth.config.position_decay
        p = examine * sigmoid(attract + self.level)
        n = int(group.max()) + 1 if len(group) else 0
        booked = np.zeros(len(group))
        for _ in range(draws):
            candidate = rng.random(len(group)) < p
            key = np.where(candidate, attract + rng.gumbel(size=len(group)), -np.inf)
            best = np.full(n, -np.inf)
            np.maximum.at(best, group, key)
            booked += candidate & (key == best[group])
        return booked / max(draws, 1)

    def value(
        self,
        intake_ids: npt.ArrayLike,
        therapist_ids: npt.ArrayLike,
        position: npt.ArrayLike,
        *,
        over: npt.ArrayLike,
        draws: int = 400,
        seed: int = 0,
    ) -> float:
        """True mean good outcomes per intake of ``over`` (intakes without a row count 0)."""
        group, attract, p_good = self.pair_terms(intake_ids, therapist_ids)
        pos = np.asarray(position, dtype=np.int64)
        booked = self.booking_probability(
            group, pos, attract, draws=draws, rng=np.random.default_rng(seed)
        )
        per_intake = np.bincount(group, weights=booked * p_good, minlength=len(self.batch))
        rows = self._intake_row.get_indexer(np.asarray(over).astype(str))
        return float(per_intake[rows].mean()) if len(rows) else float("nan")


__all__ = ["ListReplay"]
