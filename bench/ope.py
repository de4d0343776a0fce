"""Off-policy evaluation against the truth (SPEC §6 Evaluation targets).

Run: ``python bench/ope.py [--worlds N] [--intakes N] [--top-k K]``. On each seeded synthetic
world: fit the model on the earlier 80% of intakes, then on the later 20% (the held-out logged
lists) score seven policies — model (the engine's order), benefit_only, engagement_only, rules,
LambdaRank on logged labels, random, logging — by their TRUE value (the world's clients choose
from each policy's top-k list, outcomes from the true model: :class:`synth.replay.ListReplay`)
and by every off-policy estimator. Prints per world the truth and estimates, then per estimator:
Spearman of the ordering (target ≥ 0.9), bias, RMSE, 95% interval coverage over worlds × policies
(target ≥ 85%) and mean interval width, for the 7 product policies and for a truth-graded panel
(oracle, noisy oracles, random, anti-oracle, logging). Last, a power table: the Spearman an
unbiased estimator with choice_dr's measured error covariance could expect on the product panel,
on 1–32 × the logged intakes (how much data the ordering target needs, whatever the estimator).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds files named like the project's packages (features.py, training.py): keep it off
# the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from features.encoding import TherapistPool  # noqa: E402
from features.pipeline import FeaturePipeline  # noqa: E402
from matcher.model import MatchModel  # noqa: E402
from synth import WorldConfig, generate_world  # noqa: E402
from synth.replay import ListReplay  # noqa: E402
from training.baselines import LambdaRankBaseline  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.fit import fit_boosters  # noqa: E402
from training.labels import graded_label  # noqa: E402
from training.matrices import logged_rows  # noqa: E402
from training.offpolicy import ESTIMATORS, LOGGING, TargetLists  # noqa: E402
from training.offpolicy.evaluate import RULES, OffPolicyContext  # noqa: E402
from training.splits import subset, time_split  # noqa: E402


def fit_model(train, config: TrainConfig) -> tuple[MatchModel, LambdaRankBaseline]:  # type: ignore[no-untyped-def]
    """The engine's model (pipeline from the training split only) and LambdaRank on logged
    labels."""
    pool = TherapistPool.from_frame(train.therapists)
    pipeline = FeaturePipeline(text_dims=config.text_dims, seed=config.seed).fit(train)
    rows = logged_rows(pipeline, train, pool, folds=config.folds, seed=config.seed)
    model, _ = fit_boosters(rows, config, pipeline)
    model.version = "model"
    y = graded_label(train.interactions, config.labels)
    lambdarank = LambdaRankBaseline(config.seed).fit(rows.x, y, rows.group)
    return model, lambdarank


def one_world(seed: int, args: argparse.Namespace) -> pd.DataFrame:
    """Truth and estimates of every policy on one world's held-out logs."""
    world = generate_world(
        WorldConfig(n_therapists=args.therapists, n_intakes=args.intakes, seed=seed)
    )
    config = TrainConfig(seed=seed)
    train_ids, valid_ids = time_split(world.dataset, config.holdout_fraction, seed=seed)
    train, valid = subset(world.dataset, train_ids), subset(world.dataset, valid_ids)
    model, lambdarank = fit_model(train, config)
    ctx = OffPolicyContext(valid, model, labels=config.labels)
    cands, k = ctx.candidates, args.top_k
    rng = np.random.default_rng(seed)
    policies: dict[str, TargetLists] = {
        "model": ctx.lists_of(model, k),
        "benefit_only": cands.lists(model.benefit(cands.x), k),
        "engagement_only": cands.lists(model.engagement_probability(cands.x), k),
        RULES: ctx.rules_lists(k),
        "lambdarank": cands.lists(lambdarank.score(cands.x), k),
        "random": cands.lists(rng.random(len(cands.group)), k),
    }
    fb = ctx.feedback
    p_true = world.truth.p_good(
        valid.intakes, valid.therapists, fb.intake_ids[cands.group], cands.therapist_ids
    )
    spread = float(p_true.std())
    graded: dict[str, TargetLists] = {
        "oracle": cands.lists(p_true, k),
        "oracle+noise": cands.lists(p_true + spread * rng.normal(0, 1, len(p_true)), k),
        "oracle+3noise": cands.lists(p_true + 3 * spread * rng.normal(0, 1, len(p_true)), k),
        "anti_oracle": cands.lists(-p_true, k),
    }
    replay = ListReplay(world.truth, world.dataset)
    rows: list[dict[str, object]] = []
    terms: dict[str, np.ndarray] = {LOGGING: fb.per_intake(fb.reward)}
    truths: dict[str, float] = {}
    for name, lists in [*policies.items(), *graded.items()]:
        truth = replay.value(
            fb.intake_ids[lists.group], lists.therapist_ids, lists.position, over=fb.intake_ids
        )
        truths[name] = truth
        if name in policies:
            terms[name] = ctx.choice.contributions(fb, lists)
        for e in ctx.estimate(name, lists):
            panel = "graded" if name in graded else "product"
            rows.append({"world": seed, "panel": panel, "policy": name, "truth": truth, **_row(e)})
    inter = valid.interactions
    truth = replay.value(
        inter["intake_id"], inter["therapist_id"], inter["position"], over=fb.intake_ids
    )
    truths[LOGGING] = truth
    POWER.append((np.array([truths[p] for p in terms]), np.column_stack(list(terms.values()))))
    observed = ctx.logging()
    for estimator in ESTIMATORS:
        rows.append(
            {
                "world": seed,
                "panel": "both",
                "policy": LOGGING,
                "truth": truth,
                **_row(observed),
                "estimator": estimator,
            }
        )
    return pd.DataFrame(rows)


POWER: list[tuple[np.ndarray, np.ndarray]] = []
"""Per world: the product policies' true values and their per-intake choice_dr terms."""
MULTIPLIERS = (1, 2, 4, 8, 16, 32)


def expected_spearman(
    truth: np.ndarray, terms: np.ndarray, factor: float, rng: np.random.Generator, draws: int
) -> float:
    """E[Spearman(truth, truth + e)] for an UNBIASED estimator whose errors e ~ N(0, Σ/(n·factor))
    have the covariance Σ of the observed per-intake terms (policies' estimates share the logs, so
    their errors correlate): the best ordering any estimator with that precision can expect on
    ``factor`` times as many logged intakes."""
    n = len(terms)
    cov = np.cov(terms, rowvar=False) / (n * factor)
    errors = rng.multivariate_normal(np.zeros(len(truth)), cov, size=draws)
    return float(np.mean([spearmanr(truth, truth + e).statistic for e in errors]))


def power_table(rng: np.random.Generator, draws: int = 2000) -> pd.DataFrame:
    """Per world and sample-size multiplier: the expected Spearman of an unbiased estimator with
    choice_dr's measured covariance, beside the true spread and the estimates' standard error."""
    out = []
    for world, (truth, terms) in enumerate(POWER):
        se = terms.std(axis=0, ddof=1) / np.sqrt(len(terms))
        gaps = np.diff(np.sort(truth))
        row: dict[str, float] = {
            "world": world,
            "n": float(len(terms)),
            "true_span": float(truth.max() - truth.min()),
            "min_adjacent_gap": float(gaps.min()),
            "median_adjacent_gap": float(np.median(gaps)),
            "median_se": float(np.median(se)),
        }
        for m in MULTIPLIERS:
            row[f"rho@{m}n"] = expected_spearman(truth, terms, m, rng, draws)
        out.append(row)
    table = pd.DataFrame(out).astype({"world": object}).set_index("world")
    table.loc["mean"] = table.mean()
    return table


def _row(e: object) -> dict[str, object]:
    return {
        "estimator": e.estimator,  # type: ignore[attr-defined]
        "value": e.value,  # type: ignore[attr-defined]
        "ci_low": e.ci_low,  # type: ignore[attr-defined]
        "ci_high": e.ci_high,  # type: ignore[attr-defined]
        "n": e.n,  # type: ignore[attr-defined]
    }


def _se(part: pd.DataFrame) -> pd.Series:
    """Standard error implied by the 95% interval."""
    return ((part["ci_high"] - part["ci_low"]) / (2 * 1.959964)).set_axis(part["policy"])


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per estimator: Spearman per world (mean, min), bias, RMSE, coverage, interval width."""
    out = []
    for estimator, part in table.groupby("estimator", sort=False):
        rho = [spearmanr(w["truth"], w["value"]).statistic for _, w in part.groupby("world")]
        targets = part[part["policy"] != LOGGING]
        err = targets["value"] - targets["truth"]
        covered = (targets["ci_low"] <= targets["truth"]) & (targets["truth"] <= targets["ci_high"])
        out.append(
            {
                "estimator": estimator,
                "spearman_mean": float(np.mean(rho)),
                "spearman_min": float(np.min(rho)),
                "bias": float(err.mean()),
                "rmse": float(np.sqrt((err**2).mean())),
                "coverage": float(covered.mean()),
                "ci_width": float((targets["ci_high"] - targets["ci_low"]).mean()),
                "intervals": len(targets),
            }
        )
    return pd.DataFrame(out).set_index("estimator")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=6)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--intakes", type=int, default=5000)
    parser.add_argument("--therapists", type=int, default=250)
    parser.add_argument("--top-k", type=int, default=5)
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    started = time.perf_counter()
    parts = []
    for seed in range(args.first_seed, args.first_seed + args.worlds):
        t0 = time.perf_counter()
        part = one_world(seed, args)
        parts.append(part)
        wide = part.pivot_table(index="policy", columns="estimator", values="value", sort=False)
        wide.insert(0, "truth", part.groupby("policy", sort=False)["truth"].first())
        for col, estimator in enumerate(("dr", "choice_dr"), start=1):
            wide.insert(col, f"se_{estimator}", _se(part[part["estimator"] == estimator]))
        print(f"\nworld seed {seed} ({time.perf_counter() - t0:.0f}s, n={int(part['n'].iloc[0])}):")
        print(wide.sort_values("truth", ascending=False).round(4).to_string())
    table = pd.concat(parts, ignore_index=True)
    seconds = time.perf_counter() - started
    for panel, label in (
        ("product", "7 product policies (model … logging)"),
        (
            "graded",
            "6 truth-graded policies (oracle, oracle+noise, oracle+3noise, random, "
            "anti_oracle, logging)",
        ),
    ):
        keep = table["panel"].isin([panel, "both"])
        if panel == "graded":
            keep |= table["policy"] == "random"
        print(
            f"\nsummary, {label}, over {args.worlds} worlds, top-{args.top_k} "
            "(targets: Spearman ≥ 0.9, coverage ≥ 0.85):"
        )
        print(summarise(table[keep]).round(4).to_string())
    truth = table.drop_duplicates(["world", "policy"])
    gaps = truth[truth["panel"] != "graded"].groupby("world")["truth"].agg(["min", "max"])
    print(
        f"\nproduct policies' true values span {float((gaps['max'] - gaps['min']).mean()):.4f} "
        f"per world on average; {seconds:.0f}s in all"
    )
    print(
        "\npower, 7 product policies: expected Spearman of an UNBIASED estimator with "
        "choice_dr's measured error covariance, on m × the logged intakes (rho@mn):"
    )
    print(power_table(np.random.default_rng(args.first_seed)).round(4).to_string())


if __name__ == "__main__":
    main()
