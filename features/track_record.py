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
from core.ids import positions
from features.vocab import Domain, Format

N_DOMAINS = len(Domain)


def _noise_share(n: npt.NDArray[np.float64], consistent: bool) -> float:
    """The sampling-noise factor of a count-weighted variance of unit means: mean(1/n), or
    (``consistent``) U/Σn, the exact one for weights n since E[n_u·(x̄_u − c)²] = n_u·τ² + σ².
    mean(1/n) ≥ U/Σn, so with many sparse units it over-subtracts noise and finds no
    between-unit variance at all (prior strength at its 1000 cap)."""
    return float(len(n) / n.sum()) if consistent else float(np.mean(1.0 / n))


def beta_prior_strength(
    successes: npt.ArrayLike,
    trials: npt.ArrayLike,
    center: npt.ArrayLike | None = None,
    *,
    consistent: bool = False,
) -> float:
    """Prior strength m of a beta-binomial by the method of moments.

    With pooled rate μ and between-unit variance τ² = Var_w(p̂ − c) − μ(1−μ)·ν,
    m = μ(1−μ)/τ² − 1 (the number of pseudo-outcomes a unit's own record must outweigh).
    c is what each unit shrinks toward: μ by default, or a per-unit ``center`` (a therapist's
    own rate, for hierarchical domain cells); ν = mean(1/n), or U/Σn with ``consistent`` (see
    :func:`_noise_share`). Clipped to [2, 1000]; 1000 when no between-unit variance is
    detectable.
    """
    successes = np.asarray(successes, dtype=np.float64)
    trials = np.asarray(trials, dtype=np.float64)
    seen = trials > 0
    if seen.sum() < 3:
        return 1000.0
    s, n = successes[seen], trials[seen]
    mu = s.sum() / n.sum()
    p = s / n
    c = mu if center is None else np.asarray(center, dtype=np.float64).ravel()[seen]
    var_obs = np.average((p - c) ** 2, weights=n)
    tau2 = var_obs - mu * (1 - mu) * _noise_share(n, consistent)
    if tau2 <= 1e-6:
        return 1000.0
    return float(np.clip(mu * (1 - mu) / tau2 - 1, 2.0, 1000.0))


def _residual_prior(
    sums: npt.ArrayLike,
    counts: npt.ArrayLike,
    residual: npt.ArrayLike,
    floor: float,
    center: npt.ArrayLike | None = None,
    *,
    consistent: bool = False,
) -> float:
    """Shrinkage strength k = σ²_r / τ² of mean residuals (see :func:`shrunk_effects`); with
    ``center`` (per unit) τ² is the variance of the units' means around it."""
    sums = np.asarray(sums, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    residual = np.asarray(residual, dtype=np.float64)
    seen = counts > 0
    if seen.sum() < 3 or len(residual) < 3:
        return 1000.0
    noise = float(np.var(residual))
    means = sums[seen] / counts[seen]
    if center is not None:
        means = means - np.asarray(center, dtype=np.float64).ravel()[seen]
    spread = np.average(means**2, weights=counts[seen])
    tau2 = spread - noise * _noise_share(counts[seen], consistent)
    if tau2 <= 1e-6:
        return 1000.0
    return float(np.clip(noise / tau2, floor, 1000.0))


CV_PRIORS = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 1000.0)
"""Cell prior strengths :func:`cv_cell_prior` chooses among."""
CV_FOLDS = 5


def cv_cell_prior(
    units: npt.NDArray[np.int64],
    n_units: int,
    cells: npt.NDArray[np.int64],
    n_cells: int,
    values: npt.NDArray[np.float64],
    *,
    unit_prior: float,
    unit_mean: float = 0.0,
    floor: float,
    seed: int = 0,
) -> float:
    """The cell prior strength k_c among :data:`CV_PRIORS` (≥ ``floor``) of least squared error
    predicting held-out rows' values by their cell's shrunk mean (Σ v_uc + k_c·c_u)/(n_uc + k_c),
    over :data:`CV_FOLDS` random folds of rows, c_u the unit's own shrunk mean over the training
    rows (every cell), (Σ v_u + k_u·m)/(n_u + k_u) with k_u = ``unit_prior``, m = ``unit_mean``.
    Rows with cell −1 are not predicted."""
    grid = [k for k in CV_PRIORS if k >= floor] or [floor]
    valid = cells >= 0
    if valid.sum() < 3 * CV_FOLDS:
        return 1000.0
    fold = np.random.default_rng(seed).integers(0, CV_FOLDS, len(values))
    errors = np.zeros(len(grid))
    for f in range(CV_FOLDS):
        train = fold != f
        n_u = np.bincount(units[train], minlength=n_units)
        v_u = np.bincount(units[train], weights=values[train], minlength=n_units)
        c_u = (v_u + unit_prior * unit_mean) / (n_u + unit_prior)
        fit = train & valid
        code = units[fit] * n_cells + cells[fit]
        n_uc = np.bincount(code, minlength=n_units * n_cells).astype(np.float64)
        v_uc = np.bincount(code, weights=values[fit], minlength=n_units * n_cells)
        test = ~train & valid
        tc = units[test] * n_cells + cells[test]
        n_t, v_t, c_t = n_uc[tc], v_uc[tc], c_u[units[test]]
        for g, k in enumerate(grid):
            errors[g] += float(np.sum((values[test] - (v_t + k * c_t) / (n_t + k)) ** 2))
    return float(grid[int(np.argmin(errors))])


@dataclass(frozen=True)
class ShrunkEffects:
    """Two-level shrunk mean residuals: per unit (therapist) and per unit × cell."""

    unit: npt.NDArray[np.float32]
    unit_n: npt.NDArray[np.float32]
    cell: npt.NDArray[np.float32]
    cell_n: npt.NDArray[np.float32]
    prior: float
    cell_prior: float


def shrunk_effects(
    units: npt.NDArray[np.int64],
    n_units: int,
    cells: npt.NDArray[np.int64],
    n_cells: int,
    residual: npt.NDArray[np.float64],
    *,
    floor: float,
    hierarchical: bool,
    cv: bool = False,
) -> ShrunkEffects:
    """The one shrinkage formula of every case-mix-adjusted record (population → unit → cell).

    With r = observed − expected (case mix) on each row,
    a_u = Σ r_u / (n_u + k)  and  a_uc = (Σ r_uc + k_c·a_u) / (n_uc + k_c),
    k = σ²_r / τ², τ² = Σ_u n_u r̄_u² / Σ n_u − σ²_r·ν (method of moments), and k_c likewise
    from the cell means r̄_uc. Flat (main's estimator): ν = mean(1/n_u) and cells measured
    around 0. With ``hierarchical``: ν = U/Σn_u (consistent, :func:`_noise_share`) and cells
    measured around the unit's own a_u (so k_c reflects only how much cells differ *within* a
    unit).
    Cells coded −1 count for the unit only. Units with no rows get 0; cells with none get a_u.
    """
    n_u = np.bincount(units, minlength=n_units).astype(np.float64)
    r_u = np.bincount(units, weights=residual, minlength=n_units)
    prior = _residual_prior(r_u, n_u, residual, floor, consistent=hierarchical)
    unit = r_u / (n_u + prior)
    valid = cells >= 0
    cell = units[valid] * n_cells + cells[valid]
    n_uc = np.bincount(cell, minlength=n_units * n_cells).astype(np.float64)
    r_uc = np.bincount(cell, weights=residual[valid], minlength=n_units * n_cells)
    if cv and n_cells > 1:
        k = cv_cell_prior(units, n_units, cells, n_cells, residual, unit_prior=prior, floor=floor)
    else:
        center = np.repeat(unit, n_cells) if hierarchical else None
        k = _residual_prior(r_uc, n_uc, residual, floor, center, consistent=hierarchical)
    n_uc, r_uc = n_uc.reshape(n_units, n_cells), r_uc.reshape(n_units, n_cells)
    by_cell = (r_uc + k * unit[:, None]) / (n_uc + k)
    return ShrunkEffects(
        unit.astype(np.float32),
        n_u.astype(np.float32),
        by_cell.astype(np.float32),
        n_uc.astype(np.float32),
        prior,
        k,
    )


@dataclass(frozen=True)
class RecordOptions:
    """Which track records a pipeline learns (the rest stay at their zero-history prior, so the
    features exist but carry nothing and an ablation is one code path)."""

    alliance: bool = True
    """Case-mix-adjusted working alliance, overall and per (likely) format."""
    dropout: bool = True
    """Case-mix-adjusted retention (not dropping out)."""
    hierarchical: bool = True
    """Priors estimated as a two-level model: consistent between-therapist variance
    (:func:`_noise_share`) and domain (format) cells measured around the therapist's own
    record, not the population mean."""
    improvement: bool = True
    """Case-mix-adjusted reliable improvement (observed for every client who attended, dropouts
    included): the therapist part of the improvement logit with less noise than good outcomes."""
    cv_domain_prior: bool = True
    """Domain cells' prior strengths (outcome rate and case-mix-adjusted effect) chosen by
    cross-validated squared error (:func:`cv_cell_prior`) instead of the method of moments
    (which, on worlds of ≈ 8 booked outcomes per therapist, hit its cap of 1,000: every domain
    record equal to the therapist's overall one)."""


N_FORMATS = len(Format)
_EMPTY = np.zeros(0)


@dataclass
class TrackRecord:
    """Empirical-Bayes track records per therapist, fitted only on the history given.

    Outcome rates, raw: overall_t = (s_t + m·μ) / (n_t + m);
    domain_td = (s_td + m_d·overall_t) / (n_td + m_d), μ the pooled rate and m, m_d fitted by
    :func:`beta_prior_strength` (domain cells shrink toward the therapist's own overall rate;
    with ``hierarchical`` m_d is also *measured* around it and every prior uses the consistent
    noise term of :func:`_noise_share`). Case-mix-adjusted outcome,
    alliance (overall and per format) and retention effects all use :func:`shrunk_effects`.
    A therapist with no history gets the prior: μ for rates, 0 (= as the case mix expects)
    for every adjusted effect, and counts of 0.
    """

    min_prior: float = 5.0
    hierarchical: bool = False
    cv_domain_prior: bool = False

    def fit(
        self,
        therapist_ids: npt.NDArray[np.object_],
        domains: npt.NDArray[np.int64],
        success: npt.NDArray[np.bool_],
        expected: npt.ArrayLike | None = None,
        *,
        formats: npt.NDArray[np.int64] | None = None,
        alliance: npt.ArrayLike | None = None,
        alliance_expected: npt.ArrayLike | None = None,
        retained: npt.ArrayLike | None = None,
        retained_expected: npt.ArrayLike | None = None,
        improved: npt.ArrayLike | None = None,
        improved_expected: npt.ArrayLike | None = None,
    ) -> TrackRecord:
        """Fit on outcome rows: the therapist, the intake's primary domain code, good or not,
        and (optionally) the outcome the client's profile predicted (case mix). Optionally also
        the format each course most likely used, the alliance rating (NaN where none) and
        whether the client was retained (1/0, NaN unknown), each with its case-mix expectation;
        without them those records stay at the prior."""
        ids, t = np.unique(np.asarray(therapist_ids, dtype=str), return_inverse=True)
        y = np.asarray(success, dtype=np.float64)
        n_t = np.bincount(t, minlength=len(ids)).astype(np.float64)
        s_t = np.bincount(t, weights=y, minlength=len(ids))
        self.mean_ = float(y.mean()) if len(y) else 0.4
        h = self.hierarchical
        self.prior_ = max(self.min_prior, beta_prior_strength(s_t, n_t, consistent=h))
        overall = (s_t + self.prior_ * self.mean_) / (n_t + self.prior_)
        valid = domains >= 0
        cell = t[valid] * N_DOMAINS + domains[valid]
        n_td = np.bincount(cell, minlength=len(ids) * N_DOMAINS).astype(np.float64)
        s_td = np.bincount(cell, weights=y[valid], minlength=len(ids) * N_DOMAINS)
        if self.cv_domain_prior:
            self.domain_prior_ = cv_cell_prior(
                t,
                len(ids),
                domains,
                N_DOMAINS,
                y,
                unit_prior=self.prior_,
                unit_mean=self.mean_,
                floor=self.min_prior,
            )
        else:
            center = np.repeat(overall, N_DOMAINS) if self.hierarchical else None
            self.domain_prior_ = max(
                self.min_prior,
                beta_prior_strength(s_td.ravel(), n_td.ravel(), center, consistent=h),
            )
        n_td = n_td.reshape(len(ids), N_DOMAINS)
        s_td = s_td.reshape(len(ids), N_DOMAINS)
        self.ids_ = ids
        self.overall_ = overall.astype(np.float32)
        self.n_ = n_t.astype(np.float32)
        self.domain_ = (
            (s_td + self.domain_prior_ * overall[:, None]) / (n_td + self.domain_prior_)
        ).astype(np.float32)
        self.domain_n_ = n_td.astype(np.float32)
        base = np.full(len(y), self.mean_) if expected is None else np.asarray(expected, float)
        adjusted = self._effects(
            t,
            len(ids),
            domains,
            N_DOMAINS,
            y - base,
            cv=self.cv_domain_prior,
        )
        self.adjust_prior_, self.adjust_domain_prior_ = adjusted.prior, adjusted.cell_prior
        self.adjusted_, self.adjusted_domain_ = adjusted.unit, adjusted.cell
        fmt = np.full(len(y), -1, np.int64) if formats is None else np.asarray(formats, np.int64)
        rated = self._residuals(alliance, alliance_expected, len(y))
        ally = self._effects(t[rated[0]], len(ids), fmt[rated[0]], N_FORMATS, rated[1])
        self.alliance_prior_, self.alliance_format_prior_ = ally.prior, ally.cell_prior
        self.alliance_, self.alliance_n_ = ally.unit, ally.unit_n
        self.alliance_format_, self.alliance_format_n_ = ally.cell, ally.cell_n
        kept = self._residuals(retained, retained_expected, len(y))
        none = np.full(int(kept[0].sum()), -1, np.int64)
        retention = self._effects(t[kept[0]], len(ids), none, 1, kept[1])
        self.retention_prior_ = retention.prior
        self.retention_, self.retention_n_ = retention.unit, retention.unit_n
        better = self._residuals(improved, improved_expected, len(y))
        none = np.full(int(better[0].sum()), -1, np.int64)
        improvement = self._effects(t[better[0]], len(ids), none, 1, better[1])
        self.improvement_prior_ = improvement.prior
        self.improvement_, self.improvement_n_ = improvement.unit, improvement.unit_n
        return self

    @staticmethod
    def _residuals(
        observed: npt.ArrayLike | None, expected: npt.ArrayLike | None, n: int
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
        """Rows with an observation, and observed − expected on them (none without data)."""
        if observed is None:
            return np.zeros(n, dtype=bool), _EMPTY
        value = np.asarray(observed, dtype=np.float64)
        seen = ~np.isnan(value)
        base = np.nanmean(value) if expected is None else np.asarray(expected, np.float64)[seen]
        return seen, value[seen] - base

    def _effects(
        self,
        t: npt.NDArray[np.int64],
        n_ids: int,
        cells: npt.NDArray[np.int64],
        n_cells: int,
        residual: npt.NDArray[np.float64],
        *,
        cv: bool = False,
    ) -> ShrunkEffects:
        return shrunk_effects(
            t,
            n_ids,
            cells,
            n_cells,
            residual,
            floor=self.min_prior,
            hierarchical=self.hierarchical,
            cv=cv,
        )

    def _check(self) -> None:
        if not hasattr(self, "ids_"):
            raise NotFittedError("TrackRecord is not fitted")

    def align(self, pool_ids: npt.NDArray[np.object_]) -> dict[str, npt.NDArray[np.float32]]:
        """Tables indexed by pool row: overall (P,), n (P,), domain (P, D), domain_n (P, D),
        adjusted (P,), adjusted_domain (P, D), alliance (P,), alliance_n (P,),
        alliance_format (P, F), alliance_format_n (P, F), retention (P,), retention_n (P,);
        therapists without history get the prior (see the class docstring)."""
        self._check()
        rows = positions(self.ids_, pool_ids)
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
            "alliance": pick(self.alliance_, 0.0),
            "alliance_n": pick(self.alliance_n_, 0.0),
            "alliance_format": pick(self.alliance_format_, 0.0),
            "alliance_format_n": pick(self.alliance_format_n_, 0.0),
            "retention": pick(self.retention_, 0.0),
            "retention_n": pick(self.retention_n_, 0.0),
            "improvement": pick(self.improvement_, 0.0),
        }

    _ARRAYS = (
        "overall",
        "n",
        "domain",
        "domain_n",
        "adjusted",
        "adjusted_domain",
        "alliance",
        "alliance_n",
        "alliance_format",
        "alliance_format_n",
        "retention",
        "retention_n",
        "improvement",
        "improvement_n",
    )
    _PRIORS = (
        "prior",
        "domain_prior",
        "adjust_prior",
        "adjust_domain_prior",
        "alliance_prior",
        "alliance_format_prior",
        "retention_prior",
        "improvement_prior",
    )

    def state(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """JSON-able parameters and arrays (for saving without pickle)."""
        self._check()
        params: dict[str, Any] = {"min_prior": self.min_prior, "mean": self.mean_}
        params["hierarchical"] = self.hierarchical
        params |= {p: getattr(self, f"{p}_") for p in self._PRIORS}
        arrays = {"ids": self.ids_.astype(str)}
        arrays |= {a: getattr(self, f"{a}_") for a in self._ARRAYS}
        return params, arrays

    @classmethod
    def from_state(cls, params: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> TrackRecord:
        """Rebuild a fitted track record from :meth:`state`."""
        tr = cls(
            min_prior=float(params["min_prior"]),
            hierarchical=bool(params.get("hierarchical", False)),
        )
        tr.mean_ = float(params["mean"])
        for p in cls._PRIORS:
            setattr(tr, f"{p}_", float(params[p]))
        tr.ids_ = np.asarray(arrays["ids"]).astype(str)
        for a in cls._ARRAYS:
            setattr(tr, f"{a}_", np.asarray(arrays[a], dtype=np.float32))
        return tr


@dataclass(frozen=True)
class OutcomeTable:
    """Logged rows with a known outcome, as a track record is fitted on them."""

    therapist_ids: npt.NDArray[np.object_]
    domains: npt.NDArray[np.int64]
    good: npt.NDArray[np.bool_]
    expected: npt.NDArray[np.float32]
    """The outcome the case-mix model expects from the client's profile."""
    formats: npt.NDArray[np.int64] | None = None
    """Format code each course most likely used (``features.pipeline.likely_format``)."""
    alliance: npt.NDArray[np.float32] | None = None
    """WAI-SR rating, NaN where none."""
    alliance_expected: npt.NDArray[np.float32] | None = None
    retained: npt.NDArray[np.float32] | None = None
    """1 stayed, 0 dropped out, NaN unknown."""
    retained_expected: npt.NDArray[np.float32] | None = None
    improved: npt.NDArray[np.float32] | None = None
    """1 reliably improved, 0 not, NaN unknown."""
    improved_expected: npt.NDArray[np.float32] | None = None

    _OPTIONAL = (
        "formats",
        "alliance",
        "alliance_expected",
        "retained",
        "retained_expected",
        "improved",
        "improved_expected",
    )

    def take(self, keep: npt.NDArray[np.bool_]) -> OutcomeTable:
        """The rows selected by ``keep``."""
        extra = {
            k: None if getattr(self, k) is None else getattr(self, k)[keep] for k in self._OPTIONAL
        }
        return OutcomeTable(
            self.therapist_ids[keep],
            self.domains[keep],
            self.good[keep],
            self.expected[keep],
            **extra,
        )

    def fit_track_record(self, options: RecordOptions | None = None) -> TrackRecord:
        """A case-mix-adjusted track record fitted on these outcomes, learning the records
        ``options`` switch on (without options: the outcome records only)."""
        options = options or RecordOptions(alliance=False, dropout=False, hierarchical=False)
        return TrackRecord(
            hierarchical=options.hierarchical,
            cv_domain_prior=options.cv_domain_prior,
        ).fit(
            self.therapist_ids,
            self.domains,
            self.good,
            self.expected,
            formats=self.formats,
            alliance=self.alliance if options.alliance else None,
            alliance_expected=self.alliance_expected,
            retained=self.retained if options.dropout else None,
            retained_expected=self.retained_expected,
            improved=self.improved if options.improvement else None,
            improved_expected=self.improved_expected,
        )

    @staticmethod
    def concat(tables: list[OutcomeTable]) -> OutcomeTable:
        """The rows of several tables, in order."""

        def join(name: str) -> Any:
            parts = [getattr(t, name) for t in tables]
            return None if any(p is None for p in parts) else np.concatenate(parts)

        return OutcomeTable(
            np.concatenate([t.therapist_ids for t in tables]),
            np.concatenate([t.domains for t in tables]),
            np.concatenate([t.good for t in tables]),
            np.concatenate([t.expected for t in tables]),
            **{k: join(k) for k in OutcomeTable._OPTIONAL},
        )


__all__ = [
    "N_DOMAINS",
    "N_FORMATS",
    "OutcomeTable",
    "RecordOptions",
    "ShrunkEffects",
    "TrackRecord",
    "beta_prior_strength",
    "shrunk_effects",
]
