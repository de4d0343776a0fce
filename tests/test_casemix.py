"""The case-mix model behind the adjusted track records: an intake feature nobody answered is
simply unknown (filled, flagged), neither a warning in the training output nor a NaN downstream."""

from __future__ import annotations

import json
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from features.casemix import CaseMix


def test_a_column_with_no_known_value_fits_quietly_and_predicts_finite_rates() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([np.full(40, np.nan), rng.normal(size=40)]).astype(np.float32)
    y = (x[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = CaseMix().fit(x, y)
    expected = model.predict(x)
    assert np.isfinite(expected).all()
    assert expected[x[:, 1] > 0].mean() > expected[x[:, 1] <= 0].mean()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), missing=st.floats(0.0, 0.6))
def test_contributions_add_up_to_the_log_odds_and_survive_json(seed: int, missing: float) -> None:
    """Reasons read each column's term: they must add up to the linear predictor whatever is
    missing, and a saved model must predict what the fitted one did."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    x[rng.random(x.shape) < missing] = np.nan
    y = (np.nan_to_num(x[:, 0]) + rng.normal(size=120) > 0).astype(int)
    model = CaseMix().fit(x, y)
    terms = model.contributions(x)
    assert terms.shape == (120, 5)
    np.testing.assert_allclose(terms.sum(axis=1), model.linear(x), atol=1e-9)
    np.testing.assert_allclose(1 / (1 + np.exp(-model.linear(x))), model.predict(x))
    again = CaseMix.from_json(json.loads(json.dumps(model.to_json())))
    np.testing.assert_allclose(again.contributions(x), terms)
