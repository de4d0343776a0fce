"""Who is compared with whom: group labels per client and per therapist, including derived ones.

Every attribute becomes an ordered categorical column of readable labels; a missing value is its
own group, :data:`NOT_GIVEN`, so that every unit belongs to exactly one group of every attribute
(group sums then add up to the total).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from features.vocab import SELF_PAY, AgeGroup, Ethnicity, Gender, License
from matcher.fairness.config import GroupDefinitions

NOT_GIVEN = "not given"
SELF_PAY_LABEL = "self-pay"
INSURED_LABEL = "insured"
NEW_LABEL = "new"
ESTABLISHED_LABEL = "established"


@dataclass(frozen=True)
class Attribute:
    """A way of splitting clients or therapists into groups."""

    key: str
    label: str
    """How the report names it."""


CLIENT_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("client_gender", "Client gender"),
    Attribute("client_ethnicity", "Client ethnicity"),
    Attribute("age_group", "Age group"),
    Attribute("payment", "Payment"),
    Attribute("language", "Language"),
    Attribute("region", "Region"),
)
THERAPIST_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("gender", "Therapist gender"),
    Attribute("ethnicity", "Therapist ethnicity"),
    Attribute("license_type", "License"),
    Attribute("experience", "Experience"),
    Attribute("tenure", "New vs established"),
)
ATTRIBUTE_LABELS: dict[str, str] = {
    a.key: a.label for a in CLIENT_ATTRIBUTES + THERAPIST_ATTRIBUTES
}


def categorical(values: pd.Series, order: Iterable[str] = ()) -> pd.Series:
    """Labels as an ordered categorical: ``order`` first, other values sorted, NOT_GIVEN last."""
    text = values.astype("string").str.strip().replace("", pd.NA).fillna(NOT_GIVEN)
    known = list(order)
    seen = set(text.unique())
    rest = sorted(seen - set(known) - {NOT_GIVEN})
    categories = [c for c in known if c in seen] + rest + ([NOT_GIVEN] if NOT_GIVEN in seen else [])
    return pd.Series(
        pd.Categorical(text.astype(object), categories=categories, ordered=True),
        index=values.index,
        name=values.name,
    )


def _vocab(enum: type[StrEnum]) -> list[str]:
    return [m.value for m in enum]


def payment_group(payment: pd.Series) -> pd.Series:
    """``self-pay`` when the payer code is ``self_pay``, else ``insured``."""
    text = payment.astype("string")
    self_pay = (text == SELF_PAY).fillna(False).to_numpy(dtype=bool)
    labels = pd.Series(np.where(self_pay, SELF_PAY_LABEL, INSURED_LABEL), index=payment.index)
    return categorical(labels.where(text.notna()), [SELF_PAY_LABEL, INSURED_LABEL])


def language_group(languages: pd.Series, english: str = "en") -> pd.Series:
    """``English`` when the client can do therapy in ``english``, else ``not English``."""
    flat = languages.explode()
    speaks = (flat == english).groupby(level=0, sort=False).any().reindex(languages.index)
    labels = pd.Series(np.where(speaks.fillna(False), "English", "not English"), languages.index)
    return categorical(labels, ["English", "not English"])


def experience_labels(edges: tuple[int, ...]) -> list[str]:
    """Band labels for lower edges ``edges``: (3, 6) → 0–2 yrs, 3–5 yrs, 6+ yrs."""
    lows = (0, *edges)
    highs = [f"{e - 1}" for e in edges]
    return [f"{lo}–{hi} yrs" for lo, hi in zip(lows, highs, strict=False)] + [f"{lows[-1]}+ yrs"]


def experience_band(years: pd.Series, edges: tuple[int, ...]) -> pd.Series:
    """Experience band of each therapist: band b holds ``edges[b-1] ≤ years < edges[b]``."""
    labels = experience_labels(edges)
    numeric = pd.to_numeric(years, errors="coerce")
    band = np.searchsorted(np.asarray(edges), numeric.fillna(0).to_numpy(), side="right")
    out = pd.Series(np.asarray(labels, dtype=object)[band], index=years.index)
    return categorical(out.where(numeric.notna()), labels)


def tenure_group(therapists: pd.DataFrame, groups: GroupDefinitions) -> pd.Series | None:
    """``new`` vs ``established``; None when the frame cannot tell.

    Definition, first available of: an ``is_new`` column; ``n_outcomes < new_max_outcomes``
    (too few past outcomes for a track record of their own); ``first_seen`` within
    ``new_window_days`` of ``as_of`` (default: the latest ``first_seen``).
    """
    if "is_new" in therapists.columns:
        new = therapists["is_new"].astype("boolean")
    elif "n_outcomes" in therapists.columns:
        new = pd.to_numeric(therapists["n_outcomes"], errors="coerce") < groups.new_max_outcomes
    elif "first_seen" in therapists.columns:
        seen = pd.to_datetime(therapists["first_seen"], utc=True, errors="coerce")
        as_of = seen.max() if groups.as_of is None else pd.Timestamp(groups.as_of)
        if as_of.tzinfo is None:
            as_of = as_of.tz_localize("UTC")
        new = seen >= as_of - pd.Timedelta(days=groups.new_window_days)
        new = new.where(seen.notna())
    else:
        return None
    labels = pd.Series(np.where(new.fillna(False), NEW_LABEL, ESTABLISHED_LABEL), new.index)
    return categorical(labels.where(new.notna()), [NEW_LABEL, ESTABLISHED_LABEL])


def client_groups(intakes: pd.DataFrame, groups: GroupDefinitions) -> pd.DataFrame:
    """One categorical column per client attribute present in ``intakes`` (same index)."""
    out: dict[str, pd.Series] = {}
    if "client_gender" in intakes:
        out["client_gender"] = categorical(intakes["client_gender"], _vocab(Gender))
    if "client_ethnicity" in intakes:
        out["client_ethnicity"] = categorical(intakes["client_ethnicity"], _vocab(Ethnicity))
    if "age_group" in intakes:
        out["age_group"] = categorical(intakes["age_group"], _vocab(AgeGroup))
    if "payment" in intakes:
        out["payment"] = payment_group(intakes["payment"])
    if "languages" in intakes:
        out["language"] = language_group(intakes["languages"], groups.english)
    if "region" in intakes:
        out["region"] = categorical(intakes["region"])
    return pd.DataFrame(out, index=intakes.index)


def therapist_groups(therapists: pd.DataFrame, groups: GroupDefinitions) -> pd.DataFrame:
    """One categorical column per therapist attribute the frame supports (same index)."""
    out: dict[str, pd.Series] = {}
    if "gender" in therapists:
        out["gender"] = categorical(therapists["gender"], _vocab(Gender))
    if "ethnicity" in therapists:
        out["ethnicity"] = categorical(therapists["ethnicity"], _vocab(Ethnicity))
    if "license_type" in therapists:
        out["license_type"] = categorical(therapists["license_type"], _vocab(License))
    if "years_experience" in therapists:
        out["experience"] = experience_band(therapists["years_experience"], groups.experience_edges)
    tenure = tenure_group(therapists, groups)
    if tenure is not None:
        out["tenure"] = tenure
    return pd.DataFrame(out, index=therapists.index)


__all__ = [
    "ATTRIBUTE_LABELS",
    "CLIENT_ATTRIBUTES",
    "ESTABLISHED_LABEL",
    "INSURED_LABEL",
    "NEW_LABEL",
    "NOT_GIVEN",
    "SELF_PAY_LABEL",
    "THERAPIST_ATTRIBUTES",
    "Attribute",
    "categorical",
    "client_groups",
    "experience_band",
    "experience_labels",
    "language_group",
    "payment_group",
    "tenure_group",
    "therapist_groups",
]
