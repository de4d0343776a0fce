"""New therapists' first month: how often and where the engine shows therapists with no history.

Run: ``python bench/new_therapists.py [--seed 1] [--therapists 600] [--intakes 8000] [--new 60]
[--days 30] [--tolerances 0.02,0.1,0.2]``. A seeded world is generated with ``therapists + new``
therapists; ``new`` of them, drawn at random, join at the world's holdout cutoff: every
interaction of theirs is removed and the model (``training.job.fit_and_evaluate``, default
records) is trained on the intakes before the cutoff without them. They are then added to the
pool and the engine (:class:`matcher.engine.Matcher`, the real serving path: eligibility,
phased scoring, load-aware re-rank) ranks the first ``days`` of held-out intakes, with safe
exploration off and at each tolerance (SPEC §7, :mod:`matcher.exploration`).

The prior a zero-history therapist gets from the features (:class:`features.track_record.
TrackRecord`): tr_overall = tr_domain = tr_concerns = μ (the pooled good-outcome rate of the
training outcomes), tr_domain_lift = 0, every case-mix-adjusted effect (tr_adjusted*,
tr_alliance*, tr_retention) = 0 ("as the client's profile predicts") and every count
(tr_n, tr_domain_n, tr_alliance_n, tr_alliance_format_n) = ln(1 + 0) = 0. What score that prior
earns is whatever the boosters learned for rows with no out-of-fold history: the prior section
prints the model's two heads (benefit, engagement) for new and incumbent pairs, and the
incumbents' pairs re-scored with their track-record columns replaced by the zero-history prior
(same profiles, so the difference is the prior alone), and what the prior stands for in
training: the share of training rows whose therapist has no out-of-fold outcome and their
booking rate per impression against the other rows'.

Printed per ranking, over the month's non-crisis lists (top 5): the share of lists showing a new
therapist; their share of the top-5 slots against their share of eligible pairs and the share a
uniformly random top 5 would give them; their mean position (1–5) when shown and the positions'
distribution; how many distinct new therapists were shown at all; and the world's true P(good)
of the new therapists shown against the incumbents shown beside them (and of all eligible new
vs incumbent pairs), with the lists' true U@5. Two references rank the same eligible pairs: the
empirical-Bayes oracle (:mod:`synth.posterior`: the true model and prior, traits inferred from
the same training history, so a new therapist sits exactly at the prior — what "neither buried
nor floated" means given the data) and the profile-only oracle (every therapist at average
traits).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import pandas as pd  # noqa: E402

from core.config import MatcherConfig  # noqa: E402
from core.ranking import rank_within_groups  # noqa: E402
from features.dataset import Dataset  # noqa: E402
from features.outcomes import has_outcome  # noqa: E402
from features.pipeline import TRACK_RECORD_COLUMNS  # noqa: E402
from features.track_record import TrackRecord  # noqa: E402
from matcher.engine import Matcher  # noqa: E402
from matcher.triage import triage  # noqa: E402
from synth import SyntheticWorld, WorldConfig, generate_world  # noqa: E402
from synth.posterior import fit_posterior, posterior_p_good  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.job import fit_and_evaluate  # noqa: E402
from training.splits import intake_folds, subset, time_split  # noqa: E402

K = 5
F64 = npt.NDArray[np.float64]


def split_world(
    world: SyntheticWorld, n_new: int, days: int, seed: int
) -> tuple[Dataset, pd.DataFrame, set[str]]:
    """(history before the cutoff without the new therapists, the first ``days`` of held-out
    intakes, the new therapists' ids)."""
    data, cutoff = world.dataset, world.truth.holdout_cutoff
    ids = data.therapists["therapist_id"].astype(str).to_numpy()
    new = set(np.random.default_rng(seed).choice(ids, size=n_new, replace=False).tolist())
    stamps = pd.to_datetime(data.intakes["submitted_at"], utc=True)
    before = data.intakes[(stamps < cutoff).to_numpy()]
    month = data.intakes[((stamps >= cutoff) & (stamps < cutoff + pd.Timedelta(days=days)))]
    inter = data.interactions
    keep = inter["intake_id"].isin(set(before["intake_id"])) & ~inter["therapist_id"].astype(
        str
    ).isin(new)
    therapists = data.therapists[~data.therapists["therapist_id"].astype(str).isin(new)]
    history = Dataset(
        therapists.reset_index(drop=True),
        before.reset_index(drop=True),
        inter[keep.to_numpy()].reset_index(drop=True),
    )
    return history, month.reset_index(drop=True), new


def no_record_rows(history: Dataset, config: TrainConfig) -> tuple[float, float, float]:
    """What the zero-history prior stands for in training: (share of the training split's
    logged rows whose therapist has no outcome in the other folds — the rows the boosters see
    with the prior —, their booking rate per impression, the other rows' booking rate)."""
    train_ids, _ = time_split(history, config.holdout_fraction, seed=config.seed)
    inter = subset(history, train_ids).interactions
    fold = intake_folds(inter["intake_id"], config.folds, config.seed)
    frame = pd.DataFrame(
        {
            "t": inter["therapist_id"].astype(str).to_numpy(),
            "fold": fold,
            "outcome": has_outcome(inter).astype(int),
        }
    )
    total = frame.groupby("t")["outcome"].transform("sum")
    own = frame.groupby(["t", "fold"])["outcome"].transform("sum")
    prior = (total - own == 0).to_numpy()
    booked = inter["chosen"].astype(bool).to_numpy()
    return float(prior.mean()), float(booked[prior].mean()), float(booked[~prior].mean())


def summary(shown: pd.DataFrame, eligible: pd.DataFrame, n_new: int) -> dict[str, float | str]:
    """Exposure and true benefit of new therapists in ``shown`` (intake_id, therapist_id, rank
    1-based, is_new, p_true) among the ``eligible`` pairs of the same intakes."""
    lists = shown.groupby("intake_id")
    e = eligible[eligible["intake_id"].isin(set(shown["intake_id"]))]
    per = e.groupby("intake_id")["is_new"].agg(["sum", "size"])
    slots = np.minimum(per["size"], K)
    new_shown = shown[shown["is_new"]]
    positions = new_shown["rank"].value_counts().reindex(range(1, K + 1), fill_value=0)
    return {
        "lists": str(lists.ngroups),
        "lists with new in top 5": float(lists["is_new"].any().mean()),
        "new share of top-5 slots": float(shown["is_new"].mean()),
        "new share of eligible": float(e["is_new"].mean()),
        "new share, random top 5": float((slots * per["sum"] / per["size"]).sum() / slots.sum()),
        "mean position when shown": float(new_shown["rank"].mean()),
        "positions 1..5": "/".join(str(int(c)) for c in positions),
        "new therapists shown": f"{new_shown['therapist_id'].nunique()}/{n_new}",
        "P(good) new shown": float(new_shown["p_true"].mean()),
        "P(good) incumbents shown": float(shown.loc[~shown["is_new"], "p_true"].mean()),
        "P(good) new eligible": float(e.loc[e["is_new"], "p_true"].mean()),
        "P(good) incumbents eligible": float(e.loc[~e["is_new"], "p_true"].mean()),
        "U@5": float(lists["p_true"].mean().mean()),
    }


def top_k(eligible: pd.DataFrame, score: F64) -> pd.DataFrame:
    """The top ``K`` of each intake's eligible pairs by ``score`` (a reference ranking)."""
    group = pd.factorize(eligible["intake_id"])[0]
    rank = rank_within_groups(group, score)
    return eligible[rank < K].assign(rank=rank[rank < K] + 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--therapists", type=int, default=600, help="incumbents")
    parser.add_argument("--intakes", type=int, default=8000)
    parser.add_argument("--new", type=int, default=60, help="therapists joining at the cutoff")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--blank", type=float, default=0.0, help="TrainConfig.blank_history_share of the model"
    )
    parser.add_argument(
        "--engagement-records",
        action="store_true",
        help="TrainConfig.engagement_records=True: the engagement head reads the records",
    )
    parser.add_argument("--tolerances", default="0.02,0.1,0.2", help="exploration tolerances")
    args = parser.parse_args()
    config = WorldConfig(
        n_therapists=args.therapists + args.new, n_intakes=args.intakes, seed=args.seed
    )
    world = generate_world(config)
    history, month, new = split_world(world, args.new, args.days, args.seed)
    train = TrainConfig(
        seed=0,
        baselines=False,
        blank_history_share=args.blank,
        engagement_records=args.engagement_records,
    )
    result = fit_and_evaluate(history, train, truth=world.truth)
    model = result.model

    # the eligible pairs the engine scores, with their truth and the references' scores
    engine = Matcher(model, world.dataset.therapists, MatcherConfig())
    pool = engine.pool
    batch = pool.encode_intakes(month)
    _, scored = engine.score_batch(batch, triage(batch))
    pairs = scored.pairs
    eligible = pd.DataFrame(
        {
            "intake_id": batch.ids[pairs.intake_idx].astype(str),
            "therapist_id": pool.ids[pairs.therapist_idx].astype(str),
        }
    )
    eligible["is_new"] = eligible["therapist_id"].isin(new)
    eligible["p_true"] = world.truth.logits(batch, pool, pairs).p_good
    posterior = fit_posterior(world.truth, history, pool, seed=0)
    references = {
        "EB oracle": posterior_p_good(world.truth, posterior, batch, pool, pairs),
        "profile oracle": world.truth.logits(batch, pool, pairs, profile_only=True).p_good,
    }
    truth = eligible.set_index(["intake_id", "therapist_id"])["p_true"]

    record = model.pipeline.track_record_
    is_new = eligible["is_new"].to_numpy()
    percentile = eligible.assign(s=scored.score).groupby("intake_id")["s"].rank(pct=True)
    params, arrays = record.state()
    nobody = TrackRecord.from_state(params, {k: v[:0] for k, v in arrays.items()})
    prior_columns = model.pipeline.transform(
        batch, pool, pairs, track_record=nobody, columns=TRACK_RECORD_COLUMNS
    )
    np.testing.assert_array_equal(
        scored.x[np.ix_(is_new, TRACK_RECORD_COLUMNS)], prior_columns[is_new]
    )
    at_prior = scored.x[~is_new].copy()
    at_prior[:, TRACK_RECORD_COLUMNS] = prior_columns[~is_new]
    rows: dict[str, dict[str, float | str]] = {}
    request_ids = [f"new-therapists-{i}" for i in month["intake_id"].astype(str)]
    tolerances = [float(t) for t in args.tolerances.split(",") if t]
    for tol in [0.0, *tolerances]:
        name = "engine" if tol == 0 else f"explore {tol:g}"
        serving = MatcherConfig(exploration=tol > 0, exploration_tolerance=max(tol, 1e-6))
        results = Matcher(model, world.dataset.therapists, serving).match_frame(
            month, top_k=K, request_ids=request_ids
        )
        listed = [(r.intake_id, m.therapist_id, m.rank) for r in results for m in r.matches]
        shown = pd.DataFrame(listed, columns=["intake_id", "therapist_id", "rank"])
        shown["is_new"] = shown["therapist_id"].isin(new)
        index = pd.MultiIndex.from_frame(shown[["intake_id", "therapist_id"]])
        shown["p_true"] = truth.reindex(index).to_numpy()
        rows[name] = summary(shown, eligible, len(new))
    for name, score in references.items():
        rows[name] = summary(top_k(eligible, score), eligible, len(new))
    # what-if (not the engine): new therapists' serving score × c, c = the incumbents' mean score
    # over their mean score with the zero-history prior in place of their records
    scale = float(model.score(scored.x[~is_new]).mean() / model.score(at_prior).mean())
    recentred = np.where(is_new, scored.adjusted * scale, scored.adjusted)
    rows[f"what-if ×{scale:.2f}"] = summary(top_k(eligible, recentred), eligible, len(new))

    heads = {
        "new": scored.x[is_new],
        "incumbents": scored.x[~is_new],
        "incumbents at the prior": at_prior,
    }
    pd.set_option("display.width", 250)
    print(
        f"world: seed {args.seed}, {args.therapists} incumbents + {len(new)} new, "
        f"{args.intakes} intakes; month: {len(month)} intakes from "
        f"{world.truth.holdout_cutoff:%Y-%m-%d}; model uplift@5 on its own held-out split "
        f"{float(result.scorecard.loc['model', 'uplift_at_5']):.3f}"
    )
    print(
        f"prior of a zero-history therapist: tr_overall = tr_domain = μ = {record.mean_:.3f} "
        f"(beta prior strength m = {record.prior_:.1f}, domain m_d = {record.domain_prior_:.1f}); "
        "adjusted, alliance and retention effects 0; every count 0"
    )
    print("model on the month's eligible pairs (mean):")
    for who, x in heads.items():
        benefit, engagement = model.benefit(x), model.engagement_probability(x)
        print(
            f"  {who:<24} benefit {benefit.mean():.3f}  engagement {engagement.mean():.3f}  "
            f"score {model.combine(benefit, engagement).mean():.3f}"
        )
    print(
        f"  new therapists' mean within-list score percentile {percentile[is_new].mean():.2f} "
        "(1 = top, 0.5 = middle)"
    )
    share, rate_prior, rate_rest = no_record_rows(history, train)
    print(
        f"training rows with the prior (no out-of-fold outcome of their therapist): {share:.3f};"
        f" booked per impression {rate_prior:.3f} vs {rate_rest:.3f} for the other rows"
    )
    print(
        "columns: the engine without and with safe exploration at each tolerance; references on"
        " the same eligible pairs; what-if = the engine's order with new therapists' scores"
        " recentred"
    )
    table = pd.DataFrame(rows).map(lambda v: f"{v:.3f}" if isinstance(v, float) else v)
    print(table.to_string())


if __name__ == "__main__":
    main()
