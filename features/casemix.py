"""Case-mix model: the outcome a client's profile alone predicts, so track records can be
measured against it (a therapist who sees harder cases is not penalised for it).

expected(x) = σ(b + Σ_f w_f · z_f) over the profile features (no track-record feature), where
z_f = (x_f − μ_f)/s_f with missing values at μ_f plus a 0/1 missing indicator per feature that was
ever missing in training. Fitted by L2-regularised logistic regression, or (``continuous``, for a
rating such as alliance) ridge regression with expected(x) = b + Σ_f w_f · z_f; the learned state
is plain arrays, so it saves without pickle.

The same estimator on every feature (track records included) is the linear half of the outcome
model (:mod:`matcher.model`). There ``monotone`` gives the sign each coefficient must keep, as
the booster's monotone constraints do: on a few hundred outcome rows correlated records
otherwise take opposite signs (a model that ranks worse than random), so the fit minimises
Σ log-loss + ‖w‖²/(2c) subject to s_f·w_f ≥ 0 (L-BFGS-B with bounds; missing indicators and
the intercept are free), the objective of the unconstrained fit. With ``penalty="l1"`` it
minimises Σ log-loss + ‖w‖₁/c instead (the lasso: coefficients of features that do not help
are exactly 0), solved the same way with w = w⁺ − w⁻, w⁺, w⁻ ≥ 0 (a sign constraint fixes
one of the two at 0), which makes the objective smooth. ``penalty_scale`` multiplies each
column's penalty (0: unpenalised; inf: the coefficient is held at 0).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit
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
    monotone: tuple[int, ...] | None = None
    """Per input column: +1 coefficient ≥ 0, −1 ≤ 0, 0 free (binary outcomes only)."""
    penalty: Literal["l1", "l2"] = "l2"
    """``"l2"`` (‖w‖²/(2c)) or ``"l1"`` (‖w‖₁/c; binary outcomes only)."""
    penalty_scale: tuple[float, ...] | None = None
    """Per input column (binary outcomes only): its penalty × this (0 unpenalised, inf: its
    coefficient is held at 0); columns past the tuple's end × 1."""

    @staticmethod
    def indicator_columns(x: F32) -> npt.NDArray[np.int64]:
        """The columns that get a missing indicator when fitted on ``x``: those ever missing."""
        if not len(x):
            return np.zeros(0, np.int64)
        return np.flatnonzero(np.isnan(x).any(axis=0)).astype(np.int64)

    def _design(self, x: F32) -> F64:
        """The fitted design matrix ``[z | missing indicators]`` (see :meth:`_terms`)."""
        return np.hstack(self._terms(np.asfortranarray(x)))

    def _terms(self, x: F32) -> tuple[F64, F64]:
        """The design's two blocks: standardised values z = (x − mean) / scale (0 where
        missing, i.e. a missing value filled with the mean) and the missing indicators; kept
        apart when scoring so no ``[z | missing]`` copy is made per request."""
        nan = np.isnan(x)
        z = np.where(nan, 0.0, (x - self.mean_) / self.scale_)
        return z, nan[:, self.indicators_].astype(np.float64)

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
        self.indicators_ = self.indicator_columns(x)
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
        if self.penalty == "l1":
            self.coef_, self.intercept_ = self._fit_lasso(self._design(x), y)
            return self
        if (self.monotone is not None and any(self.monotone)) or self.penalty_scale is not None:
            self.coef_, self.intercept_ = self._fit_signed(self._design(x), y)
            return self
        model = LogisticRegression(C=self.c, max_iter=1000).fit(self._design(x), y)
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        return self

    def _signs(self, columns: int) -> F64:
        """The sign each design column's coefficient must keep (0: free)."""
        signs = np.zeros(columns)
        if self.monotone is not None:
            signs[: len(self.monotone)] = self.monotone
        return signs

    def _scales(self, columns: int) -> tuple[F64, npt.NDArray[np.bool_]]:
        """Each design column's penalty multiplier (1 where held at 0) and whether it is held
        at 0."""
        scale = np.ones(columns)
        if self.penalty_scale is not None:
            if len(self.penalty_scale) > columns:
                raise ValueError(
                    f"penalty_scale has {len(self.penalty_scale)} entries for {columns} columns"
                )
            scale[: len(self.penalty_scale)] = self.penalty_scale
        off = ~np.isfinite(scale)
        return np.where(off, 1.0, scale), off

    def _fit_lasso(self, design: F64, y: npt.NDArray[np.int_]) -> tuple[F64, float]:
        """Σ log-loss + ‖w‖₁/c with the coefficients' signs bounded, over w = w⁺ − w⁻ (see
        the module docstring)."""
        signs = self._signs(design.shape[1])
        d = design.shape[1]
        scale, off = self._scales(d)
        pairs = list(zip(signs, off, strict=True))
        bounds = [(0.0, 0.0) if v < 0 or o else (0.0, None) for v, o in pairs]
        bounds += [(0.0, 0.0) if v > 0 or o else (0.0, None) for v, o in pairs]
        pen = np.concatenate([scale, scale]) / self.c
        target = y.astype(np.float64)

        def objective(w: F64) -> tuple[float, F64]:
            z = design @ (w[:d] - w[d : 2 * d]) + w[-1]
            residual = expit(z) - target
            loss = float(np.sum(np.logaddexp(0.0, z) - target * z))
            g = design.T @ residual
            grad = np.concatenate([g + pen[:d], -g + pen[d:], [residual.sum()]])
            return loss + float(w[:-1] @ pen), grad

        rate = float(np.clip(target.mean(), 1e-3, 1 - 1e-3))
        start = np.append(np.zeros(2 * d), np.log(rate / (1 - rate)))
        fitted = minimize(
            objective, start, jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)]
        )
        w = np.asarray(fitted.x, dtype=np.float64)
        return w[:d] - w[d : 2 * d], float(w[-1])

    def _fit_signed(self, design: F64, y: npt.NDArray[np.int_]) -> tuple[F64, float]:
        """Σ log-loss + ‖w‖²/(2c) with the coefficients' signs bounded (see the module
        docstring)."""
        signs = self._signs(design.shape[1])
        scale, off = self._scales(design.shape[1])
        bounds = [
            (0.0, 0.0) if o else (0.0, None) if v > 0 else (None, 0.0) if v < 0 else (None, None)
            for v, o in zip(signs, off, strict=True)
        ]
        pen = scale / self.c
        target = y.astype(np.float64)

        def objective(w: F64) -> tuple[float, F64]:
            z = design @ w[:-1] + w[-1]
            residual = expit(z) - target
            loss = float(np.sum(np.logaddexp(0.0, z) - target * z))
            grad = np.append(design.T @ residual + w[:-1] * pen, residual.sum())
            return loss + float((w[:-1] * w[:-1]) @ pen) / 2, grad

        rate = float(np.clip(target.mean(), 1e-3, 1 - 1e-3))
        start = np.append(np.zeros(design.shape[1]), np.log(rate / (1 - rate)))
        fitted = minimize(
            objective, start, jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)]
        )
        return np.asarray(fitted.x[:-1], dtype=np.float64), float(fitted.x[-1])

    def predict(self, x: F32) -> F64:
        """Expected P(good outcome) (or expected value) from the profile alone."""
        linear = self.linear(x)
        return linear if self.continuous else 1.0 / (1.0 + np.exp(-linear))

    def linear(self, x: F32) -> F64:
        """The linear predictor b + Σ_f w_f·z_f (log-odds for a binary outcome)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("CaseMix is not fitted")
        z, missing = self._terms(x)
        n_features = len(self.mean_)
        linear = z @ self.coef_[:n_features] + missing @ self.coef_[n_features:]
        return np.asarray(linear + self.intercept_, dtype=np.float64)

    def contributions(self, x: F32) -> F64:
        """``(n, F + 1)``: each input column's term of :meth:`linear` (its standardised value's
        and, where fitted, its missing indicator's), the intercept last; rows sum to
        :meth:`linear`."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("CaseMix is not fitted")
        z, missing = self._terms(x)
        n_features = len(self.mean_)
        out = np.empty((len(x), n_features + 1))
        out[:, :n_features] = z * self.coef_[:n_features]
        out[:, self.indicators_] += missing * self.coef_[n_features:]
        out[:, n_features] = self.intercept_
        return out

    def state(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """JSON-able parameters and arrays."""
        params = {"c": self.c, "continuous": self.continuous, "intercept": self.intercept_}
        return params, {
            "mean": self.mean_,
            "scale": self.scale_,
            "indicators": self.indicators_,
            "coef": self.coef_,
        }

    def to_json(self) -> dict[str, Any]:
        """:meth:`state` as one JSON-able document (arrays as lists)."""
        params, arrays = self.state()
        return params | {"arrays": {k: v.tolist() for k, v in arrays.items()}}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CaseMix:
        """Inverse of :meth:`to_json`."""
        params = {k: v for k, v in doc.items() if k != "arrays"}
        return cls.from_state(params, {k: np.asarray(v) for k, v in doc["arrays"].items()})

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
