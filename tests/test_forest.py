"""The compiled forest predicts what LightGBM predicts (matcher.forest)."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matcher import forest
from matcher.model import MatchModel

TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    """A small binary booster with a categorical column and missing values in training."""
    rng = np.random.default_rng(0)
    n = 2000
    x = rng.normal(size=(n, 4)).astype(np.float32)
    x[:, 3] = rng.integers(0, 6, n)
    x[rng.random((n, 4)) < 0.1] = np.nan
    y = ((np.nan_to_num(x[:, 0]) + (x[:, 3] == 2) + rng.normal(0, 0.5, n)) > 0.5).astype(float)
    data = lgb.Dataset(x, y, categorical_feature=[3])
    params = {"objective": "binary", "num_leaves": 7, "verbose": -1, "seed": 0}
    return lgb.train(params, data, num_boost_round=60)


@settings(max_examples=30, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 40), st.just(4)),
        elements=st.one_of(
            st.floats(-5, 5, width=32),
            st.just(np.nan),
            st.sampled_from([0.0, 1.0, 2.0, 5.0, 7.0, -1.0, 1e30]),
        ),
    )
)
def test_compiled_forest_predicts_what_lightgbm_predicts(
    booster: lgb.Booster, x: np.ndarray
) -> None:
    """Missing values, unseen and negative categories and huge values: the same probabilities."""
    expected = booster.predict(x)
    got = forest.predict(booster, x, compile_rows=1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_small_batches_are_lightgbm_s_own(booster: lgb.Booster) -> None:
    x = np.zeros((5, 4), dtype=np.float32)
    assert np.array_equal(forest.predict(booster, x, compile_rows=6), booster.predict(x))


def test_expected_batch_is_compiled_once(booster: lgb.Booster) -> None:
    """Announcing a batch starts the compile; predicting it then uses that compiled forest."""
    fresh = lgb.Booster(model_str=booster.model_to_string())
    forest.expect(fresh, 10, compile_rows=10)
    first = forest.compiled(fresh)
    x = np.random.default_rng(1).normal(size=(10, 4)).astype(np.float32)
    np.testing.assert_allclose(
        forest.predict(fresh, x, compile_rows=10), booster.predict(x), rtol=0, atol=TOLERANCE
    )
    assert forest.compiled(fresh) is first


def test_a_large_batch_scores_like_small_ones(small_model: Path) -> None:
    """The engine's predictions of one batch above the compile threshold equal those of the
    same rows predicted by LightGBM in small batches (outcome and engagement heads)."""
    model = MatchModel.load(small_model)
    n = forest.COMPILE_ROWS
    rng = np.random.default_rng(2)
    x = rng.normal(size=(n, len(model.feature_names))).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan
    chunks = np.array_split(np.arange(n), 4)
    for head in (model.benefit, model.engagement_probability):
        whole = head(x, num_threads=2)
        parts = np.concatenate([head(x[c], num_threads=2) for c in chunks])
        np.testing.assert_allclose(whole, parts, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("objective", ["binary", "regression", "poisson"])
def test_a_forest_compiled_in_chunks_predicts_its_best_iteration(
    objective: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forest split across compiling processes (a chunk of trees each) predicts what LightGBM
    predicts at the best iteration of early stopping, whatever the objective's link."""
    monkeypatch.setattr(forest, "CHUNK_TREES", 3)
    monkeypatch.setattr(forest.os, "cpu_count", lambda: 3)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1500, 3)).astype(np.float32)
    y = np.nan_to_num(x[:, 0]) + rng.normal(0, 1.0, len(x)) > 0
    target = y.astype(float) if objective != "poisson" else np.abs(x[:, 0]) + y
    params = {"objective": objective, "num_leaves": 3, "learning_rate": 0.3, "verbose": -1}
    fit = lgb.Dataset(x[:1000], target[:1000])
    stop = lgb.Dataset(x[1000:], target[1000:], reference=fit)
    booster = lgb.train(
        params, fit, 400, valid_sets=[stop], callbacks=[lgb.early_stopping(5, verbose=False)]
    )
    assert 9 <= booster.best_iteration < 400
    compiled = forest.compiled(booster)
    chunks = getattr(compiled, "chunks", (compiled,))
    assert len(chunks) == (3 if objective != "poisson" else 1)
    got = forest.predict(booster, x, compile_rows=1)
    np.testing.assert_allclose(got, booster.predict(x), rtol=0, atol=TOLERANCE)


def test_a_booster_read_from_a_file_compiles_in_chunks(
    booster: lgb.Booster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A saved model (LightGBM reads its best iteration back as -1) is split across compiling
    processes like a freshly trained one, and predicts what LightGBM predicts."""
    monkeypatch.setattr(forest, "CHUNK_TREES", 20)
    monkeypatch.setattr(forest.os, "cpu_count", lambda: 3)
    booster.save_model(tmp_path / "model.txt")
    read = lgb.Booster(model_file=tmp_path / "model.txt")
    assert read.best_iteration == -1
    assert len(forest.compiled(read).chunks) == 3  # type: ignore[union-attr]
    x = np.random.default_rng(5).normal(size=(50, 4)).astype(np.float32)
    np.testing.assert_allclose(
        forest.predict(read, x, compile_rows=1), booster.predict(x), rtol=0, atol=TOLERANCE
    )


@pytest.mark.parametrize("raw", [True, False])
def test_the_compiling_process_writes_machine_code_lleaves_loads(
    booster: lgb.Booster, tmp_path: Path, raw: bool
) -> None:
    """The child program, run as :mod:`matcher.forest` runs it, writes an object lleaves loads
    and that predicts LightGBM's raw scores (or probabilities): no silent fallback to compiling
    in the caller's thread."""
    import subprocess
    import sys

    import lleaves

    model_file, cache = tmp_path / "model.txt", tmp_path / "model.o"
    booster.save_model(model_file)
    mode = "raw" if raw else "objective"
    subprocess.run(
        [sys.executable, "-P", str(forest._CHILD), str(model_file), str(cache), mode], check=True
    )
    compiled = lleaves.Model(model_file=str(model_file))
    compiled.compile(cache=str(cache), raw_score=raw)
    x = np.random.default_rng(6).normal(size=(30, 4)).astype(np.float32)
    np.testing.assert_allclose(
        compiled.predict(x, n_jobs=1),
        booster.predict(x, raw_score=raw),
        rtol=0,
        atol=TOLERANCE,
    )
