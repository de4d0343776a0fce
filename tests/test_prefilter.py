"""Phase one's prefilter: what it reads, what it fits, and that saved models keep working."""

from __future__ import annotations

import numpy as np
import pytest

from features.pipeline import FEATURE_NAMES
from matcher.model import PHASE_TWO_ONLY, Prefilter

F = len(FEATURE_NAMES)


def _data(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, F)).astype(np.float32)
    x[rng.random((n, F)) < 0.1] = np.nan
    w = rng.normal(size=F)
    target = np.nan_to_num(x) @ w
    return x, target, w


def test_it_never_reads_the_phase_two_features() -> None:
    x, target, _ = _data()
    pre = Prefilter().fit(x, target)
    skipped = [FEATURE_NAMES.index(n) for n in PHASE_TWO_ONLY]
    assert sorted(set(pre.columns_) | set(skipped)) == list(range(F))
    assert not set(pre.columns_) & set(skipped)
    changed = x.copy()
    changed[:, skipped] = np.random.default_rng(1).normal(size=(len(x), len(skipped)))
    np.testing.assert_array_equal(pre.score(changed), pre.score(x))
    np.testing.assert_array_equal(pre.score_columns(x[:, pre.columns_]), pre.score(x))


def test_it_recovers_a_linear_target_of_the_features_it_reads() -> None:
    x, _, w = _data(n=2000)
    read = [k for k, n in enumerate(FEATURE_NAMES) if n not in PHASE_TWO_ONLY]
    x = np.nan_to_num(x, nan=0.0)  # no missing values: the fill cannot blur the fit
    target = 0.5 + x[:, read] @ w[read]
    pre = Prefilter(ridge=0.0).fit(x, target)
    np.testing.assert_allclose(pre.weights_, w[read], atol=1e-6)
    np.testing.assert_allclose(pre.score(x), target, atol=1e-5)


def test_state_round_trips_and_older_states_read_every_feature() -> None:
    x, target, _ = _data()
    pre = Prefilter().fit(x, target)
    again = Prefilter.from_state(pre.state())
    np.testing.assert_array_equal(again.score(x), pre.score(x))
    everything = Prefilter(skip=()).fit(x, target)
    older = everything.state()
    del older["columns"]
    np.testing.assert_array_equal(Prefilter.from_state(older).score(x), everything.score(x))


def test_unknown_skipped_features_are_refused() -> None:
    x, target, _ = _data()
    with pytest.raises(ValueError, match="unknown features"):
        Prefilter(skip=("no_such_feature",)).fit(x, target)
