"""The case-mix model behind the adjusted track records: an intake feature nobody answered is
simply unknown (filled, flagged), neither a warning in the training output nor a NaN downstream."""

from __future__ import annotations

import warnings

import numpy as np

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
