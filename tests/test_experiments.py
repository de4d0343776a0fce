"""Experiment assignment is a pure hash: deterministic, sticky per client, independent across
experiments, and it gives each arm its share of clients within sampling error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.config import CHAMPION_ARM, ArmConfig, ExperimentConfig
from matcher.experiments import assign, assign_buckets, assignment_unit, buckets

N_UNITS = 4000


def _experiment(name: str, shares: list[float], shadow: bool = False) -> ExperimentConfig:
    arms = [
        ArmConfig(name=f"arm{k}", model_uri=f"models:/m/{k + 1}", share=s)
        for k, s in enumerate(shares)
    ]
    if shadow:
        arms.append(ArmConfig(name="shadow", model_uri="rules", shadow=True))
    return ExperimentConfig(name=name, arms=arms)


shares_strategy = st.lists(st.floats(min_value=0.02, max_value=0.5), min_size=1, max_size=3).filter(
    lambda xs: sum(xs) <= 0.98
)
names = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,15}", fullmatch=True)


@settings(max_examples=25, deadline=None)
@given(names, shares_strategy, st.integers(0, 10**6), st.booleans())
def test_each_arm_gets_its_share_within_sampling_error(
    name: str, shares: list[float], seed: int, shadow: bool
) -> None:
    config = _experiment(name, shares, shadow)
    units = [assignment_unit(f"c{seed}-{k}", f"i{k}") for k in range(N_UNITS)]
    arms = np.array(assign_buckets(config, buckets(name, units)))
    expected = {f"arm{k}": s for k, s in enumerate(shares)} | {CHAMPION_ARM: config.champion_share}
    assert set(arms) <= set(expected)  # a shadow arm is never assigned
    for arm, p in expected.items():
        seen = float(np.mean(arms == arm))
        # 5 standard errors: a false alarm once in ~3 million checks
        assert abs(seen - p) <= 5 * math.sqrt(p * (1 - p) / N_UNITS) + 1e-9, (arm, seen, p)


@settings(max_examples=50, deadline=None)
@given(names, shares_strategy, st.text(min_size=1, max_size=40), st.text(max_size=40))
def test_assignment_is_deterministic_and_sticky_per_client(
    name: str, shares: list[float], client: str, intake: str
) -> None:
    config = _experiment(name, shares)
    first = assign(config, assignment_unit(client, intake))
    # the same client with another intake, and a rebuilt config: the same arm
    again = assign(
        ExperimentConfig.model_validate(config.model_dump()), assignment_unit(client, "x")
    )
    assert first == again
    # without a client id the intake is the unit
    assert assignment_unit(None, intake) == assignment_unit("", intake) == f"intake:{intake}"


def test_two_experiments_assign_independently() -> None:
    units = [assignment_unit(f"c{k}", "i") for k in range(N_UNITS)]
    a = np.array(assign_buckets(_experiment("a", [0.5]), buckets("a", units)))
    b = np.array(assign_buckets(_experiment("b", [0.5]), buckets("b", units)))
    agree = float(np.mean(a == b))
    assert abs(agree - 0.5) <= 5 * math.sqrt(0.25 / N_UNITS)


@pytest.mark.parametrize(
    "arms, message",
    [
        ([{"name": "champion", "model_uri": "rules", "share": 0.1}], "implicit"),
        ([{"name": "a", "model_uri": "rules", "share": 0.6}] * 2, "unique"),
        (
            [
                {"name": "a", "model_uri": "rules", "share": 0.6},
                {"name": "b", "model_uri": "rules", "share": 0.6},
            ],
            "more than 1",
        ),
        ([{"name": "a", "model_uri": "rules", "share": 0.2, "shadow": True}], "shadow"),
        ([{"name": "a", "model_uri": "/etc/passwd", "share": 0.2}], "pattern"),
    ],
)
def test_inconsistent_experiments_are_refused(arms: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ExperimentConfig.model_validate({"name": "e", "arms": arms})
