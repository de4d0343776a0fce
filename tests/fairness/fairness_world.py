"""A small deterministic synthetic world for the fairness tests and the sample report.

Built in: non-English-only clients more often have no eligible therapist (an access gap); the
model under-rates new therapists (their predicted merit is lower than their true benefit), so
they get less exposure than their merit; a few poor therapists are never shown; a few sit at or
over their caseload; a rare region and a rare gender form groups below the minimum size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.vocab import Approach, Cultural, Format, License
from matcher.fairness import FairnessInputs

GENDERS = (["woman", "man", "nonbinary", "undisclosed"], [0.6, 0.33, 0.04, 0.03])
ETHNICITIES = (
    ["white", "black", "hispanic_latino", "asian", "multiracial", "indigenous"],
    [0.5, 0.14, 0.16, 0.12, 0.05, 0.03],
)
REGIONS = (["US-CA", "US-NY", "US-TX", "GB", "US-AK"], [0.38, 0.3, 0.23, 0.08, 0.01])
AGES = (["adult", "teen", "older_adult", "child"], [0.7, 0.12, 0.14, 0.04])


def _pick(rng: np.random.Generator, spec: tuple[list[str], list[float]], n: int) -> np.ndarray:
    return rng.choice(spec[0], size=n, p=spec[1])


def _subsets(rng: np.random.Generator, values: list[str], n: int, p: float) -> list[list[str]]:
    mask = rng.random((n, len(values))) < p
    mask[np.arange(n), rng.integers(0, len(values), n)] |= p > 0.2
    return [[v for v, m in zip(values, row, strict=True) if m] for row in mask]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def synthetic_inputs(
    n_intakes: int = 800,
    n_therapists: int = 150,
    seed: int = 7,
    list_size: int = 8,
) -> FairnessInputs:
    """Intakes with status, a therapist pool, eligible pairs with merit and truth, impressions."""
    rng = np.random.default_rng(seed)
    t_ids = np.array([f"T{k:04d}" for k in range(n_therapists)])
    new = rng.random(n_therapists) < 0.22
    years = np.where(new, rng.integers(0, 4, n_therapists), rng.integers(2, 36, n_therapists))
    max_case = rng.integers(12, 31, n_therapists)
    current = np.minimum(rng.binomial(max_case, 0.75), max_case + 2)
    full = rng.random(n_therapists) < 0.08
    current[full] = max_case[full] + 1
    spanish = rng.random(n_therapists) < 0.22
    quality = rng.normal(0, 0.35, n_therapists) - 1.5 * (rng.random(n_therapists) < 0.06)
    therapists = pd.DataFrame(
        {
            "therapist_id": t_ids,
            "gender": _pick(rng, GENDERS, n_therapists),
            "ethnicity": _pick(rng, ETHNICITIES, n_therapists),
            "license_type": rng.choice([m.value for m in License], n_therapists),
            "years_experience": years,
            "is_new": new,
            "max_caseload": max_case,
            "current_caseload": current,
            "languages": [["en", "es"] if s else ["en"] for s in spanish],
            "modalities": _subsets(rng, [m.value for m in Approach], n_therapists, 0.2),
            "formats": _subsets(rng, [m.value for m in Format], n_therapists, 0.5),
            "cultural_competencies": _subsets(rng, [m.value for m in Cultural], n_therapists, 0.1),
        }
    )

    i_ids = np.array([f"I{k:05d}" for k in range(n_intakes)])
    lang_draw = rng.random(n_intakes)
    spanish_only = lang_draw < 0.13
    languages = [
        ["es"] if s else (["en", "es"] if d < 0.2 else ["en"])
        for s, d in zip(spanish_only, lang_draw, strict=True)
    ]
    payment = np.where(
        rng.random(n_intakes) < 0.35, "self_pay", rng.choice(["aetna", "bcbs"], n_intakes)
    )
    crisis = rng.random(n_intakes) < 0.04
    gap = 0.03 + 0.22 * spanish_only + 0.03 * (payment == "self_pay")
    no_match = ~crisis & (rng.random(n_intakes) < gap)
    status = np.where(crisis, "crisis", np.where(no_match, "no_eligible_match", "matched"))
    n_pool = np.where(spanish_only, spanish.sum(), n_therapists)
    n_eligible = np.where(
        status == "matched",
        np.minimum(
            np.where(spanish_only, rng.integers(2, 14, n_intakes), rng.integers(15, 60, n_intakes)),
            n_pool,
        ),
        0,
    )
    want_woman = rng.random(n_intakes) < 0.3
    intakes = pd.DataFrame(
        {
            "intake_id": i_ids,
            "client_gender": np.where(
                rng.random(n_intakes) < 0.05, None, _pick(rng, GENDERS, n_intakes)
            ),
            "client_ethnicity": _pick(rng, ETHNICITIES, n_intakes),
            "age_group": _pick(rng, AGES, n_intakes),
            "payment": payment,
            "languages": languages,
            "region": _pick(rng, REGIONS, n_intakes),
            "preferred_therapist_genders": [["woman"] if w else [] for w in want_woman],
            "preferred_modalities": [
                [m] if r < 0.25 else []
                for m, r in zip(
                    rng.choice([a.value for a in Approach], n_intakes),
                    rng.random(n_intakes),
                    strict=True,
                )
            ],
            "cultural_preferences": [[] for _ in range(n_intakes)],
            "prefers_same_ethnicity": rng.random(n_intakes) < 0.1,
            "low_bandwidth": rng.random(n_intakes) < 0.1,
            "status": status,
            "n_eligible": n_eligible,
        }
    )

    keys = rng.random((n_intakes, n_therapists))
    keys[spanish_only[:, None] & ~spanish[None, :]] = -1.0
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    ii, tt = np.nonzero(rank < n_eligible[:, None])
    fit = rng.normal(0, 0.3, len(ii))
    truth = _sigmoid(-0.4 + quality[tt] + fit)
    merit = _sigmoid(
        -0.4 + quality[tt] + fit - 0.45 * new[tt] + 0.01 * years[tt] + rng.normal(0, 0.1, len(ii))
    )
    eligible = pd.DataFrame(
        {"intake_id": i_ids[ii], "therapist_id": t_ids[tt], "merit": merit, "true_benefit": truth}
    )
    order = eligible.sort_values(["intake_id", "merit"], ascending=[True, False], kind="stable")
    order["position"] = order.groupby("intake_id").cumcount() + 1
    shown = order[order["position"] <= list_size].reset_index(drop=True)
    pick = np.log(1 / shown["position"].to_numpy()) + rng.gumbel(size=len(shown))
    first = pd.Series(pick).groupby(shown["intake_id"].to_numpy()).idxmax()
    chooses = rng.random(len(first)) < 0.6
    chosen = np.zeros(len(shown), dtype=bool)
    chosen[first.to_numpy()[chooses]] = True
    label = np.where(chosen, 1 + rng.binomial(3, shown["true_benefit"].to_numpy()), 0)
    impressions = pd.DataFrame(
        {
            "intake_id": shown["intake_id"],
            "therapist_id": shown["therapist_id"],
            "position": shown["position"].astype(np.int64),
            "score": shown["merit"],
            "label": label,
            "true_benefit": shown["true_benefit"],
            "chosen": chosen,
        }
    )
    return FairnessInputs(intakes, therapists, impressions, eligible.reset_index(drop=True))


__all__ = ["synthetic_inputs"]
