"""Sparse-history benchmark: what each therapist track record adds when histories are short.

Run: ``python bench/sparse.py [--seeds 3] [--scale 1.0] [--worlds sparse,dense] [--configs ROWS]``
(``ROWS``: comma-separated names of :data:`ABLATION`). Prints, from one run on this machine:

1. an ablation table of uplift captured at top-5 (SPEC §5) on *sparse* worlds (≈13 intakes, ≈8
   booked outcomes per therapist) and *dense* ones (≈33 intakes, ≈16 outcomes), mean and range
   over seeds: the model with main's records (baseline), then + alliance records, + dropout
   records, + hierarchical shrinkage, + all records (``TrainConfig.records``, one code path),
   + the linear half of the outcome model alone, + all with a ridge linear half, + all (the
   default config), beside the profile-only oracle, the empirical-Bayes oracle
   (:mod:`synth.posterior`: the world's true outcome model and prior, each therapist's traits
   inferred from the training split's logged courses, with and without the alliance ratings —
   the ceiling of learning track records from these histories) and the oracle;
2. the median number of booked outcomes per active therapist of each world kind.

New therapists' exposure (no history at all) is measured through the engine by
``bench/new_therapists.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import pandas as pd  # noqa: E402

from core.ranking import (  # noqa: E402
    random_topk_mean,
    topk_mean,
    uplift_captured,
)
from features.dataset import Dataset  # noqa: E402
from features.pipeline import FEATURE_NAMES  # noqa: E402
from features.track_record import RecordOptions  # noqa: E402
from synth import SyntheticWorld, WorldConfig, generate_world, outcomes  # noqa: E402
from synth.posterior import fit_posterior, posterior_p_good  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.heldout import HeldOut  # noqa: E402
from training.job import TrainResult, fit_and_evaluate  # noqa: E402
from training.splits import subset, time_split  # noqa: E402

_ROUND_ONE = {"improvement": False, "cv_domain_prior": False}
"""Records added in the second round of issue 12 (off in the rows before it)."""
_NO_RECORDS = RecordOptions(alliance=False, dropout=False, hierarchical=False, **_ROUND_ONE)
_BOOSTER_ONLY = {"outcome_linear_weight": 0.0}
_PENALISED = {"outcome_linear_free": (), "outcome_linear_excluded": ()}
"""The linear half as it was: every feature, every coefficient penalised."""
_PREVIOUS = RecordOptions(**_ROUND_ONE)
ABLATION: dict[str, dict[str, Any]] = {
    "baseline": {"records": _NO_RECORDS, **_BOOSTER_ONLY},
    "+ alliance": {
        "records": RecordOptions(alliance=True, dropout=False, hierarchical=False, **_ROUND_ONE),
        **_BOOSTER_ONLY,
    },
    "+ dropout": {
        "records": RecordOptions(alliance=False, dropout=True, hierarchical=False, **_ROUND_ONE),
        **_BOOSTER_ONLY,
    },
    "+ hierarchical": {
        "records": RecordOptions(alliance=False, dropout=False, hierarchical=True, **_ROUND_ONE),
        **_BOOSTER_ONLY,
    },
    "+ alliance + dropout": {
        "records": RecordOptions(alliance=True, dropout=True, hierarchical=False, **_ROUND_ONE),
        **_BOOSTER_ONLY,
    },
    "+ all records": {"records": _PREVIOUS, **_BOOSTER_ONLY},
    "+ linear half": {"records": _NO_RECORDS, **_PENALISED},
    "+ all (ridge half)": {
        "records": _PREVIOUS,
        **_PENALISED,
        "outcome_linear_penalty": "l2",
        "outcome_linear_c": (0.5,),
    },
    "previous default": {"records": _PREVIOUS, **_PENALISED},
    "+ improvement record": {
        "records": RecordOptions(cv_domain_prior=False),
        **_PENALISED,
    },
    "+ cv domain prior": {"records": RecordOptions(improvement=False), **_PENALISED},
    "+ records unpenalised": {"records": _PREVIOUS},
    "+ all": {},
}
"""TrainConfig overrides compared: the baseline is the model before them (outcome records only,
the outcome booster alone; every feature of ``features.json``, ``preference_fit`` included);
``+ linear half`` adds only the logistic half of the outcome model
(``TrainConfig.outcome_linear_weight``); ``+ all (ridge half)`` is the previous default with the
linear half's earlier penalty (ridge, c = 0.5) instead of the cross-validated lasso;
``previous default`` is the default before the improvement record, the cross-validated domain
priors and the linear half's unpenalised records (``TrainConfig.outcome_linear_free``, the other
records left out), and the three rows after it add each of those alone; ``+ all`` is the
default TrainConfig."""
WORLDS = {"sparse": (600, 8000), "dense": (300, 10000)}
"""(therapists, intakes) per world kind; ``--scale`` multiplies both."""
EB_ORACLES = {"eb_oracle": True, "eb_oracle_no_alliance": False}
"""Empirical-Bayes oracle rows: name → whether its likelihood reads the alliance ratings."""
OBSERVABLE_ORACLES = ("observable_oracle", "observable_oracle + records")
"""The world's true outcome model read with only what the data show of clients (no hidden
trait), and the same plus the model's case-mix-adjusted record feature (see
:func:`observable_oracle_uplifts`)."""
REFERENCES = ("profile_oracle", *OBSERVABLE_ORACLES, *EB_ORACLES, "oracle")
"""Rows computed once per world (beside the first record configuration)."""


@dataclass(frozen=True)
class Row:
    world: str
    seed: int
    ranker: str
    uplift_at_5: float
    outcomes_per_therapist: float


def _outcomes_per_therapist(dataset: Dataset) -> float:
    inter = dataset.interactions
    booked = inter[inter["chosen"].astype(bool)]
    return float(booked.groupby("therapist_id").size().median())


def _uplift(
    group: npt.NDArray[np.int64], p_true: npt.NDArray[np.float64], score: npt.ArrayLike, k: int
) -> float:
    """Uplift@k of ``score`` against the truth (the scorecard's formulas, :mod:`core.ranking`)."""
    u_random = random_topk_mean(group, p_true)
    u_oracle = topk_mean(group, p_true, p_true, k)
    return uplift_captured(topk_mean(group, score, p_true, k), u_random, u_oracle)


def eb_oracle_uplift(
    world: SyntheticWorld, result: TrainResult, train: TrainConfig, *, alliance: bool, k: int = 5
) -> float:
    """Uplift@k of the empirical-Bayes oracle on the scorecard's held-out candidates: posterior
    E[P(good) | training split] (:func:`synth.posterior.fit_posterior`), scored against the
    truth with the scorecard's formulas (:mod:`core.ranking`)."""
    heldout: HeldOut | None = result.heldout
    assert heldout is not None
    cand, pool = heldout.candidates, heldout.pool
    p_true, group = cand.p_true, cand.group
    assert p_true is not None
    train_ids, _ = time_split(world.dataset, train.holdout_fraction, seed=train.seed)
    history = subset(world.dataset, train_ids)
    posterior = fit_posterior(world.truth, history, pool, alliance=alliance, seed=train.seed)
    score = posterior_p_good(world.truth, posterior, cand.batch, pool, cand.pairs)
    return _uplift(group, p_true, score, k)


def observable_oracle_uplifts(
    world: SyntheticWorld, result: TrainResult, k: int = 5
) -> list[float]:
    """Uplift@k of two references on the scorecard's held-out candidates.

    ``observable_oracle``: P(good) by the world's true outcome model and coefficients, with
    every therapist at the average one and each client's hidden traits replaced by what the
    data show (observed severity, no unstated concern, the mean format taste): the best any
    model of the profiles could rank with perfectly learned coefficients. ``+ records``: its
    log-odds plus b·z, z the standardised ``tr_adjusted_concerns`` feature the model reads
    (training-split records), b ∈ {0, 0.1, 0.2, 0.3} the best on these very pairs (an
    optimistic reference): what these records add to perfectly learned profile coefficients.
    """
    heldout: HeldOut | None = result.heldout
    assert heldout is not None
    cand, pool, truth = heldout.candidates, heldout.pool, world.truth
    p_true, group = cand.p_true, cand.group
    assert p_true is not None
    batch = cand.batch
    shown = truth.intakes.take(
        np.full(len(batch), -1, np.int64), batch.severity.astype(np.float64), batch.low_bandwidth
    )
    terms = outcomes.pair_terms(batch, pool, cand.pairs, shown)
    average = truth.therapists_of(pool, profile_only=True).take(cand.pairs.therapist_idx)
    p_seen = outcomes.logits(terms, average, truth.coefficients).p_good
    record = cand.x[:, list(FEATURE_NAMES).index("tr_adjusted_concerns")].astype(np.float64)
    z = (record - record.mean()) / max(float(record.std()), 1e-12)
    log_odds = np.log(p_seen / (1 - p_seen))
    return [
        _uplift(group, p_true, p_seen, k),
        max(_uplift(group, p_true, log_odds + b * z, k) for b in (0.0, 0.1, 0.2, 0.3)),
    ]


def ablation(seeds: list[int], scale: float, worlds: list[str], configs: list[str]) -> pd.DataFrame:
    """Uplift@5 of each record configuration, the profile-only, empirical-Bayes and true
    oracles."""
    rows: list[Row] = []
    for kind in worlds:
        n_t, n_i = WORLDS[kind]
        for seed in seeds:
            t0 = time.perf_counter()
            config = WorldConfig(
                n_therapists=int(n_t * scale), n_intakes=int(n_i * scale), seed=seed
            )
            world = generate_world(config)
            per = _outcomes_per_therapist(world.dataset)
            print(f"{kind} seed {seed}: generated in {time.perf_counter() - t0:.0f} s", flush=True)
            for name in configs:
                t0 = time.perf_counter()
                train = TrainConfig(seed=0, baselines=False, **ABLATION[name])
                result = fit_and_evaluate(world.dataset, train, truth=world.truth)
                up = result.scorecard["uplift_at_5"]
                rows.append(Row(kind, seed, name, float(up["model"]), per))
                if name == configs[0]:
                    seen = observable_oracle_uplifts(world, result)
                    for ref, value in zip(OBSERVABLE_ORACLES, seen, strict=True):
                        rows.append(Row(kind, seed, ref, value, per))
                    for ref in ("profile_oracle", "oracle"):
                        rows.append(Row(kind, seed, ref, float(up[ref]), per))
                    t1 = time.perf_counter()
                    for ref, alliance in EB_ORACLES.items():
                        eb = eb_oracle_uplift(world, result, train, alliance=alliance)
                        rows.append(Row(kind, seed, ref, eb, per))
                    print(f"  eb oracles ({time.perf_counter() - t1:.0f} s)", flush=True)
                print(
                    f"  {name:<15} uplift@5 {up['model']:.3f} ({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--worlds", default=",".join(WORLDS), help="comma-separated kinds")
    parser.add_argument("--configs", default=",".join(ABLATION), help="comma-separated rows")
    args = parser.parse_args()
    worlds, configs = args.worlds.split(","), args.configs.split(",")
    for given, known, flag in ((worlds, WORLDS, "--worlds"), (configs, ABLATION, "--configs")):
        unknown = [name for name in given if name not in known]
        if unknown:
            parser.error(f"{flag}: unknown {unknown}; known: {', '.join(known)}")
    pd.set_option("display.width", 200)
    table = ablation(list(range(1, args.seeds + 1)), args.scale, worlds, configs)
    summary = table.groupby(["ranker", "world"])["uplift_at_5"].agg(["mean", "min", "max"])
    wide = summary["mean"].unstack("world")
    order = [*configs, *REFERENCES]
    wide = wide.loc[order]
    for kind in worlds:
        wide[f"{kind} Δ"] = wide[kind] - wide.loc[configs[0], kind]
        spread = summary.xs(kind, level="world")
        wide[f"{kind} range"] = [
            f"{spread.loc[r, 'min']:.3f}–{spread.loc[r, 'max']:.3f}" for r in order
        ]
    per = table.groupby("world")["outcomes_per_therapist"].mean()
    print("\nuplift captured at top-5, mean over seeds", list(range(1, args.seeds + 1)))
    print(wide.round(3).to_string())
    print("median booked outcomes per active therapist:", per.round(1).to_dict())


if __name__ == "__main__":
    main()
