"""What safe exploration costs in true benefit, and what it buys for off-policy evaluation.

Run: ``python bench/exploration.py [--worlds N] [--intakes N]``. On seeded synthetic worlds the
engine's model (fitted on the earlier 80% of intakes) ranks the held-out intakes' therapists
with exploration off and at several tolerances (the default is
:data:`matcher.exploration.DEFAULT_TOLERANCE`). Printed per tolerance: true uplift captured at
top-5 (SPEC §5) and its relative cost against no exploration (target for the default ≤ 1%),
the share of lists randomised, and what the logs would support: the share of another policy's
(rules, benefit-only) top-5 items the serving policy shows with positive probability (what
PBM-type estimators need) and of its (item, position) pairs (what item-position IPS needs).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
import argparse  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core.config import MatcherConfig  # noqa: E402
from features.encoding import TherapistPool  # noqa: E402
from matcher.engine import Matcher  # noqa: E402
from matcher.exploration import DEFAULT_TOLERANCE  # noqa: E402
from synth import WorldConfig, generate_world  # noqa: E402
from training.baselines import RuleBaseline  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.evaluation import random_topk_mean, topk_mean, uplift_captured  # noqa: E402
from training.fit import fit_boosters  # noqa: E402
from training.heldout import score_holdout  # noqa: E402
from training.matrices import logged_rows  # noqa: E402
from training.splits import subset, time_split  # noqa: E402

TOLERANCES = (0.0, 0.01, DEFAULT_TOLERANCE, 0.05, 0.1)
K = 5


def one_world(seed: int, n_intakes: int) -> list[dict[str, float]]:
    """Uplift and support per tolerance on one world."""
    from features.pipeline import FeaturePipeline

    world = generate_world(WorldConfig(n_therapists=250, n_intakes=n_intakes, seed=seed))
    config = TrainConfig(seed=seed)
    train_ids, valid_ids = time_split(world.dataset, config.holdout_fraction, seed=seed)
    train, valid = subset(world.dataset, train_ids), subset(world.dataset, valid_ids)
    pool = TherapistPool.from_frame(train.therapists)
    pipeline = FeaturePipeline(text_dims=config.text_dims, seed=seed).fit(train)
    rows = logged_rows(pipeline, train, pool, folds=config.folds)
    model, _ = fit_boosters(rows, config, pipeline)
    cand = score_holdout(model, valid, pool, truth=world.truth, max_intakes=None).candidates
    assert cand.p_true is not None
    p_true = cand.p_true
    therapist_ids = pool.ids[cand.pairs.therapist_idx]
    u_random = random_topk_mean(cand.group, p_true)
    u_oracle = topk_mean(cand.group, p_true, p_true, K)
    truth = pd.Series(p_true, index=pd.MultiIndex.from_arrays([cand.intake_ids, therapist_ids]))
    targets = {
        "rules": RuleBaseline().score(cand.x),
        "benefit_only": model.benefit(cand.x),
    }
    target_sets = {}
    for name, score in targets.items():
        order = pd.DataFrame({"i": cand.intake_ids, "t": therapist_ids, "s": score})
        order["k"] = order.groupby("i")["s"].rank(ascending=False, method="first").astype(int)
        target_sets[name] = order[order["k"] <= K]
    rows = []
    ids = [f"bench-{seed}-{k}" for k in range(len(valid.intakes))]
    for tol in TOLERANCES:
        engine = Matcher(
            model, valid.therapists, MatcherConfig(exploration=tol > 0, exploration_tolerance=tol)
        )
        results = engine.match_frame(valid.intakes, top_k=K, request_ids=ids)
        listed = [(r.intake_id, m.therapist_id) for r in results for m in r.matches]
        p = truth.reindex(pd.MultiIndex.from_tuples(listed)).to_numpy()
        group = pd.factorize(pd.Series([i for i, _ in listed]))[0]
        u = float(pd.Series(p).groupby(group).mean().mean())
        row = {
            "world": seed,
            "tolerance": tol,
            "uplift_at_5": uplift_captured(u, u_random, u_oracle),
            "explored_lists": float(
                np.mean([r.policy.startswith("explore:") for r in results if r.matches])
            ),
        }
        # which (intake, therapist) the serving policy can show, and at which positions
        support = _support(engine, valid, ids)
        for name, top in target_sets.items():
            keys = pd.MultiIndex.from_arrays([top["i"], top["t"]])
            row[f"{name}_item_support"] = float(keys.isin(support["items"]).mean())
            kp = pd.MultiIndex.from_arrays([top["i"], top["t"], top["k"]])
            row[f"{name}_position_support"] = float(kp.isin(support["slots"]).mean())
        rows.append(row)
    return rows


def _support(engine: Matcher, valid, ids: list[str]) -> dict[str, pd.MultiIndex]:  # type: ignore[no-untyped-def]
    """Pairs with P(shown) > 0 and (pair, position) with μ > 0 under the serving policy."""
    from matcher.triage import triage

    batch = engine.pool.encode_intakes(valid.intakes)
    routes = triage(batch)
    _, scored = engine.score_batch(batch, routes)
    ex = engine._explore(batch, routes, scored, K, ids)
    from matcher.ranking import rank_within_groups

    g = scored.pairs.intake_idx
    i = batch.ids[g]
    t = engine.pool.ids[scored.pairs.therapist_idx]
    if ex is None:
        rank = rank_within_groups(g, scored.adjusted)
        shown = rank < K
        items = pd.MultiIndex.from_arrays([i[shown], t[shown]])
        slots = pd.MultiIndex.from_arrays([i[shown], t[shown], rank[shown] + 1])
        return {"items": items, "slots": slots}
    shown = ex.shown_propensity > 0
    size, start = ex.block_size, ex.block_start
    reps = np.repeat(np.arange(len(g)), size)
    pos = start[reps] + (np.arange(len(reps)) - np.repeat(np.cumsum(size) - size, size)) + 1
    keep = pos <= K
    slots = pd.MultiIndex.from_arrays([i[reps][keep], t[reps][keep], pos[keep]])
    items = pd.MultiIndex.from_arrays([i[shown], t[shown]])
    return {"items": items, "slots": slots}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=200)
    parser.add_argument("--intakes", type=int, default=5000)
    args = parser.parse_args()
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.worlds):
        rows += one_world(seed, args.intakes)
    table = pd.DataFrame(rows)
    mean = table.drop(columns="world").groupby("tolerance").mean()
    base = mean.loc[0.0, "uplift_at_5"]
    mean.insert(1, "relative_cost", 1 - mean["uplift_at_5"] / base)
    pd.set_option("display.width", 200)
    print(f"mean over {args.worlds} worlds (default tolerance {DEFAULT_TOLERANCE}):")
    print(mean.round(4).to_string())


if __name__ == "__main__":
    main()
