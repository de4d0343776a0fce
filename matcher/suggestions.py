"""What a client could change so that someone fits, when nobody passes the hard constraints.

For every intake without an eligible therapist, each constraint the client controls is relaxed on
its own while every other constraint — the safety rules included — still holds::

    fits_c(i) = #{ t : every check but c passes for (i, t) }

and a suggestion is made for each c with fits_c(i) > 0, saying what to change ("accept phone
sessions", "a fee limit of $160") and how many therapists would then fit. When no single change
helps, one plain statement says why ("No therapist here is licensed in DE.", or which constraints
rule out the therapists licensed in the region). The crisis-training rule is never relaxed, and
crisis-routed intakes get no suggestions at all (they get crisis resources).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from features import bitset
from features.encoding import IntakeBatch, Pairs, TherapistPool
from features.vocab import SELF_PAY
from matcher.eligibility import CHECKS, CandidateIndex
from matcher.results import CONSTRAINTS, Suggestion

RELAXABLE = ("language", "format", "payment", "availability")
"""Hard constraints a client can change on their own side."""


def _plural(n: int) -> str:
    return f"{n} therapist{'s' if n != 1 else ''} would fit"


def _most_common(rows: Iterable[list[str]], exclude: set[str]) -> list[str]:
    counts = Counter(x for row in rows for x in row if x not in exclude)
    return [x for x, _ in counts.most_common(3)]


def _message(
    constraint: str, batch: IntakeBatch, pool: TherapistPool, i: int, fitting: npt.NDArray[np.int64]
) -> str:
    """The change, in the client's terms, that admits the ``fitting`` therapists."""
    n = _plural(len(fitting))
    frame = pool.frame.iloc[fitting]
    if constraint == "format":
        offered = " or ".join(f.replace("_", " ") for f in _most_common(frame["formats"], set()))
        return f"{n} if you also accept {offered} sessions."
    if constraint == "language":
        spoken = _most_common(frame["languages"], set())
        return f"{n} if you can have therapy in {' or '.join(spoken)}."
    if constraint == "availability":
        return f"{n} if you can offer other hours of the week (see their availability)."
    return f"{n} if you can change how you pay."


def _payment(
    batch: IntakeBatch, pool: TherapistPool, i: int, fitting: npt.NDArray[np.int64]
) -> Suggestion | None:
    """Self-pay with a fee limit: the lowest limit that admits someone; insured: self-pay."""
    self_pay = pool.payers_vocab.index.get(SELF_PAY, -1)
    if self_pay < 0:
        return None
    takes = bitset.has(pool.payers[fitting], np.full(len(fitting), self_pay, dtype=np.int64))
    fees = pool.fee[fitting[takes]]
    if batch.self_pay[i] and np.isfinite(batch.max_fee[i]) and np.isfinite(fees).any():
        limit = float(np.nanmin(fees))
        admitted = int(np.sum(fees <= limit))
        return Suggestion(
            "payment", f"{_plural(admitted)} if your fee limit is ${limit:,.0f}.", admitted
        )
    if not batch.self_pay[i] and takes.any():
        n = int(takes.sum())
        return Suggestion(
            "payment", f"{_plural(n)} if you pay for sessions yourself (self-pay).", n
        )
    return None


LABELS = {
    "language": "language",
    "format": "session format",
    "payment": "payment or fee",
    "capacity": "a full caseload",
    "availability": "hours",
    "crisis_training": "crisis training",
}
"""How the reasons after region and age group read in a statement."""


def _statement(batch: IntakeBatch, i: int, excluded: npt.NDArray[np.int64]) -> Suggestion:
    """Why nobody fits when no single change helps: the first wall the client meets."""
    counts = dict(zip(CONSTRAINTS, excluded[i].tolist(), strict=True))
    local = int(excluded[i].sum()) - counts["region"] - counts["age_group"]
    region = batch.regions[i]
    if local + counts["age_group"] == 0:
        return Suggestion("region", f"No therapist here is licensed in {region}.")
    if local == 0:
        return Suggestion(
            "age_group", f"No therapist licensed in {region} works with your age group."
        )
    ruled_out = ", ".join(
        f"{n} by {LABELS[name]}" for name, n in counts.items() if n and name in LABELS
    )
    if counts["capacity"] == local:
        return Suggestion("capacity", "Every therapist who fits is full at the moment.")
    main = max(LABELS, key=lambda name: counts[name])
    return Suggestion(
        main,
        f"No single change finds a therapist: of the {local} licensed in {region} for your "
        f"age group, {ruled_out}.",
    )


def suggestions(
    batch: IntakeBatch,
    pool: TherapistPool,
    intakes: npt.NDArray[np.int64],
    excluded: npt.NDArray[np.int64],
    *,
    index: CandidateIndex | None = None,
) -> dict[int, list[Suggestion]]:
    """Suggestions per intake (batch row) for the given unmatched, non-crisis intakes.

    ``excluded`` is the eligibility funnel's ``(n_intakes, len(CONSTRAINTS))`` count matrix; the
    constraint that removed the most therapists is stated first when the client cannot change it.
    With ``index`` (the pool's :class:`CandidateIndex`) only the therapists licensed in each
    intake's region are tried (the same answer: region is never relaxed).
    """
    if len(intakes) == 0 or len(pool) == 0:
        return {}
    if index is None:
        cross = Pairs.cross(len(intakes), len(pool))
        position, therapists = cross.intake_idx, cross.therapist_idx
    else:  # region is never relaxed: only the therapists licensed there can fit
        licensed = [index.licensed(int(batch.region[i]), int(batch.country[i])) for i in intakes]
        sizes = [len(rows) for rows in licensed]
        position = np.repeat(np.arange(len(intakes), dtype=np.int64), sizes)
        therapists = np.concatenate(licensed)
    pairs = Pairs(intakes[position], therapists)
    passes = {name: check(batch, pool, pairs) for name, check in CHECKS.items()}
    out: dict[int, list[Suggestion]] = {}
    for relax in RELAXABLE:
        others = np.ones(len(pairs), dtype=bool)
        for name, ok in passes.items():
            if name != relax:
                others &= ok
        counts = np.bincount(position[others], minlength=len(intakes))
        for k in np.flatnonzero(counts):
            i = int(intakes[k])
            fitting = pairs.therapist_idx[others & (position == k)]
            made = (
                _payment(batch, pool, i, fitting)
                if relax == "payment"
                else Suggestion(relax, _message(relax, batch, pool, i, fitting), int(counts[k]))
            )
            if made is not None:
                out.setdefault(i, []).append(made)
    for i in intakes.tolist():
        found = sorted(out.get(i, []), key=lambda s: -s.therapists)
        out[i] = found or ([_statement(batch, i, excluded)] if excluded[i].any() else [])
    return out


__all__ = ["RELAXABLE", "suggestions"]
