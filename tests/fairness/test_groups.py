"""Group definitions, including the derived ones."""

from __future__ import annotations

import pandas as pd
from fairness_tiny import tiny_inputs

from matcher.fairness import GroupDefinitions, client_groups, therapist_groups
from matcher.fairness.groups import (
    NOT_GIVEN,
    categorical,
    experience_band,
    language_group,
    payment_group,
    tenure_group,
)


def test_payment_self_pay_vs_insured():
    out = payment_group(pd.Series(["self_pay", "aetna", None, "nhs"]))
    assert out.tolist() == ["self-pay", "insured", NOT_GIVEN, "insured"]
    assert list(out.cat.categories) == ["self-pay", "insured", NOT_GIVEN]


def test_language_english_vs_not():
    out = language_group(pd.Series([["en"], ["es"], ["es", "en"], []]))
    assert out.tolist() == ["English", "not English", "English", "not English"]


def test_experience_bands_edges():
    years = pd.Series([0, 2, 3, 5, 6, 10, 11, 20, 21, 60, None])
    out = experience_band(years, (3, 6, 11, 21))
    assert out.tolist() == [
        "0–2 yrs", "0–2 yrs", "3–5 yrs", "3–5 yrs", "6–10 yrs", "6–10 yrs",
        "11–20 yrs", "11–20 yrs", "21+ yrs", "21+ yrs", NOT_GIVEN,
    ]  # fmt: skip
    assert out.cat.categories[0] == "0–2 yrs"


def test_tenure_from_is_new_outcomes_or_first_seen():
    defs = GroupDefinitions(new_max_outcomes=10, new_window_days=30)
    by_flag = tenure_group(pd.DataFrame({"is_new": [True, False, None]}), defs)
    assert by_flag is not None
    assert by_flag.tolist() == ["new", "established", NOT_GIVEN]
    by_outcomes = tenure_group(pd.DataFrame({"n_outcomes": [0, 9, 10, 50]}), defs)
    assert by_outcomes is not None
    assert by_outcomes.tolist() == ["new", "new", "established", "established"]
    seen = pd.to_datetime(["2026-01-01", "2025-06-01", "2025-12-10"], utc=True)
    by_date = tenure_group(pd.DataFrame({"first_seen": seen}), defs)
    assert by_date is not None
    assert by_date.tolist() == ["new", "established", "new"]
    assert tenure_group(pd.DataFrame({"x": [1]}), defs) is None


def test_missing_values_are_their_own_group_last():
    out = categorical(pd.Series(["b", None, "a", ""]), ["b"])
    assert out.tolist() == ["b", NOT_GIVEN, "a", NOT_GIVEN]
    assert list(out.cat.categories) == ["b", "a", NOT_GIVEN]


def test_frames_cover_the_attributes_present():
    inputs = tiny_inputs()
    clients = client_groups(inputs.intakes, GroupDefinitions())
    assert list(clients.columns) == ["client_gender", "payment", "language"]
    therapists = therapist_groups(inputs.therapists, GroupDefinitions())
    assert list(therapists.columns) == ["gender", "experience", "tenure"]
    assert therapists["experience"].tolist() == ["0–2 yrs", "3–5 yrs", "21+ yrs", "6–10 yrs"]
