"""Case-mix model: the outcome a client's profile alone predicts, so track records can be
measured against it (a therapist who sees harder cases is not penalised for it).

expected(x) = σ(b + Σ_f w_f · z_f) over the profile features (no track-record feature), where
z_f = (x_f − μ_f)/s_f with missing values at μ_f plus a 0/1 missing indicator per feature that was
ever missing in training. Fitted by L2-regularised logistic regression, or (``continuous``, for a
rating such as alliance) ridge regression with expected(x) = b + Σ_f w_f · z_f; the learned state
is plain arrays, so it saves without pickle.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression, Ridge

from core.errors import NotFittedError

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@dataclass
class CaseMix:
    """Logistic regression of a good outcome on profile features (see the module docstring)."""

    c: float = 0.5
    continuous: bool = False
    """Regress a continuous outcome (ridge, penalty 1/c) instead of a binary one."""

    def _design(self, x: F32) -> F64:
        x = np.asfortranarray(x)
        missing = np.isnan(x[:, self.indicators_])
        filled = np.where(np.isnan(x), self.mean_, x).astype(np.float64)
        return np.hstack([(filled - self.mean_) / self.scale_, missing.astype(np.float64)])

    def fit(self, x: F32, success: npt.ArrayLike) -> CaseMix:
        """Fit on outcome rows: profile features and whether the outcome was good (or, with
        ``continuous``, the outcome's value)."""
        y = np.asarray(success, dtype=np.float64 if self.continuous else int)
        # Column-major, so the column statistics do not depend on the caller's memory layout.
        x = np.asfortranarray(x)
        # A column with no known value has mean/std NaN (filled below), not a warning.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(x, axis=0) if len(x) else np.zeros(x.shape[1])
            scale = np.nanstd(x, axis=0) if len(x) else np.ones(x.shape[1])
        self.mean_ = np.nan_to_num(mean).astype(np.float64)
        self.scale_ = np.where(np.nan_to_num(scale) > 1e-9, np.nan_to_num(scale), 1.0)
        self.indicators_ = np.flatnonzero(np.isnan(x).any(axis=0)) if len(x) else np.zeros(0, int)
        if self.continuous:
            if len(y) < 2:
                self.coef_ = np.zeros(x.shape[1] + len(self.indicators_))
                self.intercept_ = float(y.mean()) if len(y) else 0.0
                return self
            ridge = Ridge(alpha=1.0 / self.c).fit(self._design(x), y)
            self.coef_ = np.asarray(ridge.coef_, dtype=np.float64)
            self.intercept_ = float(ridge.intercept_)
            return self
        if len(np.unique(y)) < 2:
            self.coef_ = np.zeros(x.shape[1] + len(self.indicators_))
            rate = float(y.mean()) if len(y) else 0.5
            self.intercept_ = float(np.log(max(rate, 1e-3) / max(1 - rate, 1e-3)))
            return self
        model = LogisticRegression(C=self.c, max_iter=1000).fit(self._design(x), y)
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        return self

    def predict(self, x: F32) -> F64:
        """Expected P(good outcome) (or expected value) from the profile alone."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("CaseMix is not fitted")
        linear = self._design(x) @ self.coef_ + self.intercept_
        return linear if self.continuous else 1.0 / (1.0 + np.exp(-linear))

    def state(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """JSON-able parameters and arrays."""
        params = {"c": self.c, "continuous": self.continuous, "intercept": self.intercept_}
        return params, {
            "mean": self.mean_,
            "scale": self.scale_,
            "indicators": self.indicators_,
            "coef": self.coef_,
        }

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> CaseMix:
        """Rebuild from :meth:`state`."""
        cm = cls(c=float(params["c"]), continuous=bool(params.get("continuous", False)))
        cm.intercept_ = float(params["intercept"])
        cm.mean_ = np.asarray(arrays["mean"], dtype=np.float64)
        cm.scale_ = np.asarray(arrays["scale"], dtype=np.float64)
        cm.indicators_ = np.asarray(arrays["indicators"], dtype=np.int64)
        cm.coef_ = np.asarray(arrays["coef"], dtype=np.float64)
        return cm


__all__ = ["CaseMix"]
