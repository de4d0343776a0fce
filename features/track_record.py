"""Therapists' outcome track records per problem domain, shrunk toward the mean (empirical Bayes).

Fitted only on the history it is given, so training can keep it out of fold (Constantino et al.
2021: matching on domain-specific track record helps; Kraus et al. 2011: some therapists are
reliably worse in a domain).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.errors import NotFittedError
from features.vocab import Domain

N_DOMAINS = len(Domain)


def beta_prior_strength(successes: npt.ArrayLike, trials: npt.ArrayLike) -> float:
    """Prior strength m of a beta-binomial by the method of moments.

    With pooled rate μ and between-unit variance τ² = Var_w(p̂) − μ(1−μ)·mean(1/n),
    m = μ(1−μ)/τ² − 1 (the number of pseudo-outcomes a unit's own record must outweigh).
    Clipped to [2, 1000]; 1000 when no between-unit variance is detectable.
    """
    successes = np.asarray(successes, dtype=np.float64)
    trials = np.asarray(trials, dtype=np.float64)
    seen = trials > 0
    if seen.sum() < 3:
        return 1000.0
    s, n = successes[seen], trials[seen]
    mu = s.sum() / n.sum()
    p = s / n
    var_obs = np.average((p - mu) ** 2, weights=n)
    tau2 = var_obs - mu * (1 - mu) * np.mean(1.0 / n)
    if tau2 <= 1e-6:
        return 1000.0
    return float(np.clip(mu * (1 - mu) / tau2 - 1, 2.0, 1000.0))


def _residual_prior(
    sums: npt.ArrayLike, counts: npt.ArrayLike, residual: npt.ArrayLike, floor: float
) -> float:
    """Shrinkage strength k = σ²_r / τ² of mean residuals (see ``TrackRecord._fit_adjusted``)."""
    sums = np.asarray(sums, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    residual = np.asarray(residual, dtype=np.float64)
    seen = counts > 0
    if seen.sum() < 3 or len(residual) < 3:
        return 1000.0
    noise = float(np.var(residual))
    means = sums[seen] / counts[seen]
    tau2 = np.average(means**2, weights=counts[seen]) - noise * np.mean(1.0 / counts[seen])
    if tau2 <= 1e-6:
        return 1000.0
    return float(np.clip(noise / tau2, floor, 1000.0))


@dataclass
class TrackRecord:
    """Empirical-Bayes good-outcome rates per therapist, overall and per domain, raw and
    adjusted for case mix (observed minus the outcome each client's profile predicted).

    overall_t = (s_t + m·μ) / (n_t + m);  domain_td = (s_td + m_d·overall_t) / (n_td + m_d),
    with μ the pooled rate and m, m_d fitted by :func:`beta_prior_strength` (domain cells shrink
    toward the therapist's own overall rate). Unseen therapists get μ.
    """

    min_prior: float = 5.0

    def fit(
        self,
        therapist_ids: npt.NDArray[np.object_],
        domains: npt.NDArray[np.int64],
        success: npt.NDArray[np.bool_],
        expected: npt.ArrayLike | None = None,
    ) -> TrackRecord:
        """Fit on outcome rows: the therapist, the intake's primary domain code, good or not,
        and (optionally) the outcome the client's profile predicted (case mix)."""
        ids, t = np.unique(np.asarray(therapist_ids, dtype=str), return_inverse=True)
        y = np.asarray(success, dtype=np.float64)
        n_t = np.bincount(t, minlength=len(ids)).astype(np.float64)
        s_t = np.bincount(t, weights=y, minlength=len(ids))
        self.mean_ = float(y.mean()) if len(y) else 0.4
        self.prior_ = max(self.min_prior, beta_prior_strength(s_t, n_t))
        overall = (s_t + self.prior_ * self.mean_) / (n_t + self.prior_)
        valid = domains >= 0
        cell = t[valid] * N_DOMAINS + domains[valid]
        n_td = np.bincount(cell, minlength=len(ids) * N_DOMAINS).astype(np.float64)
        s_td = np.bincount(cell, weights=y[valid], minlength=len(ids) * N_DOMAINS)
        n_td = n_td.reshape(len(ids), N_DOMAINS)
        s_td = s_td.reshape(len(ids), N_DOMAINS)
        self.domain_prior_ = max(self.min_prior, beta_prior_strength(s_td.ravel(), n_td.ravel()))
        self.ids_ = ids
        self.overall_ = overall.astype(np.float32)
        self.n_ = n_t.astype(np.float32)
        self.domain_ = (
            (s_td + self.domain_prior_ * overall[:, None]) / (n_td + self.domain_prior_)
        ).astype(np.float32)
        self.domain_n_ = n_td.astype(np.float32)
        base = np.full(len(y), self.mean_) if expected is None else np.asarray(expected, float)
        self._fit_adjusted(t, len(ids), domains, y - base)
        return self

    def _fit_adjusted(
        self,
        t: npt.NDArray[np.int64],
        n_ids: int,
        domains: npt.NDArray[np.int64],
        residual: npt.NDArray[np.float64],
    ) -> None:
        """Case-mix-adjusted effects: shrunk mean residuals (observed − expected).

        adjusted_t = Σ r_t / (n_t + k), adjusted_td = (Σ r_td + k_d·adjusted_t) / (n_td + k_d),
        k = σ²_r / τ² with τ² = Σ_t n_t r̄_t² / Σ n_t − σ²_r·mean(1/n_t) (method of moments).
        """
        n_t = np.bincount(t, minlength=n_ids).astype(np.float64)
        r_t = np.bincount(t, weights=residual, minlength=n_ids)
        self.adjust_prior_ = _residual_prior(r_t, n_t, residual, self.min_prior)
        adjusted = r_t / (n_t + self.adjust_prior_)
        valid = domains >= 0
        cell = t[valid] * N_DOMAINS + domains[valid]
        n_td = np.bincount(cell, minlength=n_ids * N_DOMAINS).astype(np.float64)
        r_td = np.bincount(cell, weights=residual[valid], minlength=n_ids * N_DOMAINS)
        self.adjust_domain_prior_ = _residual_prior(r_td, n_td, residual, self.min_prior)
        k = self.adjust_domain_prior_
        domain = (r_td.reshape(n_ids, N_DOMAINS) + k * adjusted[:, None]) / (
            n_td.reshape(n_ids, N_DOMAINS) + k
        )
        self.adjusted_ = adjusted.astype(np.float32)
        self.adjusted_domain_ = domain.astype(np.float32)

    def _check(self) -> None:
        if not hasattr(self, "ids_"):
            raise NotFittedError("TrackRecord is not fitted")

    def align(self, pool_ids: npt.NDArray[np.object_]) -> dict[str, npt.NDArray[np.float32]]:
        """Tables indexed by pool row: overall (P,), n (P,), domain (P, D), domain_n (P, D)."""
        self._check()
        index = {t: i for i, t in enumerate(self.ids_)}
        rows = np.array([index.get(str(t), -1) for t in pool_ids], dtype=np.int64)
        known = rows >= 0
        safe = np.maximum(rows, 0)

        def pick(table: npt.NDArray[np.float32], default: float) -> npt.NDArray[np.float32]:
            out = table[safe] if len(table) else np.zeros((len(rows), *table.shape[1:]))
            shape = (-1,) + (1,) * (out.ndim - 1)
            return np.where(known.reshape(shape), out, default).astype(np.float32)

        return {
            "overall": pick(self.overall_, self.mean_),
            "n": pick(self.n_, 0.0),
            "domain": pick(self.domain_, self.mean_),
            "domain_n": pick(self.domain_n_, 0.0),
            "adjusted": pick(self.adjusted_, 0.0),
            "adjusted_domain": pick(self.adjusted_domain_, 0.0),
        }

    def state(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """JSON-able parameters and arrays (for saving without pickle)."""
        self._check()
        params = {"min_prior": self.min_prior, "mean": self.mean_, "prior": self.prior_}
        params["domain_prior"] = self.domain_prior_
        params["adjust_prior"] = self.adjust_prior_
        params["adjust_domain_prior"] = self.adjust_domain_prior_
        arrays = {
            "ids": self.ids_.astype(str),
            "overall": self.overall_,
            "n": self.n_,
            "domain": self.domain_,
            "domain_n": self.domain_n_,
            "adjusted": self.adjusted_,
            "adjusted_domain": self.adjusted_domain_,
        }
        return params, arrays

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> TrackRecord:
        """Rebuild a fitted track record from :meth:`state`."""
        tr = cls(min_prior=float(params["min_prior"]))
        tr.mean_ = float(params["mean"])
        tr.prior_ = float(params["prior"])
        tr.domain_prior_ = float(params["domain_prior"])
        tr.ids_ = np.asarray(arrays["ids"]).astype(str)
        tr.overall_ = np.asarray(arrays["overall"], dtype=np.float32)
        tr.n_ = np.asarray(arrays["n"], dtype=np.float32)
        tr.domain_ = np.asarray(arrays["domain"], dtype=np.float32)
        tr.domain_n_ = np.asarray(arrays["domain_n"], dtype=np.float32)
        tr.adjust_prior_ = float(params["adjust_prior"])
        tr.adjust_domain_prior_ = float(params["adjust_domain_prior"])
        tr.adjusted_ = np.asarray(arrays["adjusted"], dtype=np.float32)
        tr.adjusted_domain_ = np.asarray(arrays["adjusted_domain"], dtype=np.float32)
        return tr


__all__ = ["N_DOMAINS", "TrackRecord", "beta_prior_strength"]
