"""The pairwise feature pipeline: (intakes × candidate therapists) → a numeric matrix.

One transformer, used unchanged by training and serving. ``fit`` learns from history only (the
text model and the therapists' track records); ``transform`` is pure and vectorised over pairs.
Feature names and meanings are in :data:`FEATURES`.
"""

from __future__ import annotations

import dataclasses
import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from core.errors import NotFittedError
from features.casemix import CaseMix
from features.dataset import Dataset
from features.encoding import CONCERN_DOMAIN_CODE, MAX_CONCERNS, IntakeBatch, Pairs, TherapistPool
from features.outcomes import good_outcome, has_outcome
from features.text import SMALL_BATCH, TextEmbedder, term_counts
from features.track_record import OutcomeTable, RecordOptions, TrackRecord
from features.vocab import CONCERN_DOMAIN, Concern, Domain, Format

F32 = npt.NDArray[np.float32]
ORDER_WEIGHTS = (1.0 / np.arange(1, MAX_CONCERNS + 1)).astype(np.float32)
"""Weight of the k-th most important concern: 1/k."""
_PHONE_CHAT = np.uint64(
    (1 << list(Format).index(Format.PHONE)) | (1 << list(Format).index(Format.CHAT))
)
_IN_PERSON = np.uint64(1 << list(Format).index(Format.IN_PERSON))
_ENGLISH = "en"
_FORMAT_CODE = {f: list(Format).index(f) for f in Format}
LIKELY_FORMAT_ORDER = (Format.VIDEO, Format.IN_PERSON, Format.PHONE, Format.CHAT)
"""Which shared format a course most likely used, most likely first (video is the most chosen
format where offered; on a low-bandwidth connection it moves last)."""
_LOW_BANDWIDTH_ORDER = (Format.IN_PERSON, Format.PHONE, Format.CHAT, Format.VIDEO)
_DOMAIN_OF_CONCERN = {c.value: list(Domain).index(CONCERN_DOMAIN[c]) for c in Concern}


@dataclass
class PairContext:
    """Everything a feature function may read for one batch of pairs."""

    batch: IntakeBatch
    pool: TherapistPool
    i: npt.NDArray[np.int64]
    j: npt.NDArray[np.int64]
    tables: dict[str, Any]
    intake_text: F32
    cache: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def single(self) -> bool:
        """Every pair has the same intake: the batch holds one (a serving request)."""
        return self.batch is not None and len(self.batch) == 1

    def client(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """The intake side of each pair, ``values[i]``. With one intake in the batch its row is
        returned once (leading length 1) and broadcast by the arithmetic instead of gathered
        per pair: the same numbers, without a copy per pair."""
        return values[:1] if self.single else values[self.i]

    def concerns(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], F32]:
        """``(P, 5)`` client concern codes (−1 padding), their domain codes (padding read as
        code 0) and weights w_k = 1/k (0 for padding), per pair (``(1, 5)`` for a single
        intake, see :meth:`client`); computed once per batch of pairs and shared by the
        features that weigh concerns."""
        if "concerns" not in self.cache:
            codes = self.client(self.batch.concerns)
            domains = CONCERN_DOMAIN_CODE[np.maximum(codes, 0)]
            weights = np.where(codes >= 0, ORDER_WEIGHTS[None, :], 0).astype(np.float32)
            self.cache["concerns"] = (codes, domains, weights)
        codes, domains, weights = self.cache["concerns"]
        return codes, domains, weights

    def concern_hits(self) -> tuple[F32, F32]:
        """``(P, 5)`` hits of each client concern among the specialties, and their weights."""
        if "hits" not in self.cache:
            codes, _, weights = self.concerns()
            shifts = np.maximum(codes, 0).astype(np.uint64)
            bits = np.where(codes >= 0, np.uint64(1) << shifts, np.uint64(0))
            hit = (self.pool.specialties[self.j][:, None] & bits) != 0
            self.cache["hits"] = (hit.astype(np.float32), weights)
        hits, weights = self.cache["hits"]
        return hits, weights

    def concern_domains(self) -> tuple[F32, F32]:
        """``(P, D)`` weight of each domain among the client's concerns, Σ_k w_k·[domain_k = d]
        (``(1, D)`` for a single intake), and the weights' sum Σ_k w_k: a 1/k-weighted mean
        over concerns of a per-domain table is then one weighted sum over its row."""
        if "domain_weights" not in self.cache:
            _, domains, weights = self.concerns()
            rows = np.repeat(np.arange(len(domains)), domains.shape[1])
            flat = rows * len(Domain) + domains.ravel()
            table = np.bincount(flat, weights.ravel(), minlength=len(domains) * len(Domain))
            self.cache["domain_weights"] = (
                table.reshape(len(domains), len(Domain)).astype(np.float32),
                np.maximum(weights.sum(1), 1e-9).astype(np.float32),
            )
        by_domain, total = self.cache["domain_weights"]
        return by_domain, total

    def once(self, name: str, compute: Callable[[PairContext], F32]) -> F32:
        """``compute(self)``, computed once per batch of pairs (features built on others)."""
        if name not in self.cache:
            self.cache[name] = compute(self)
        value: F32 = self.cache[name]
        return value


def _likely_format_table() -> npt.NDArray[np.int64]:
    """``[low_bandwidth, usable formats mask]`` → the format code :func:`likely_format` picks
    (−1 for an empty mask)."""
    table = np.full((2, 1 << len(Format)), -1, dtype=np.int64)
    for low, order in enumerate((LIKELY_FORMAT_ORDER, _LOW_BANDWIDTH_ORDER)):
        for mask in range(1 << len(Format)):
            table[low, mask] = next(
                (_FORMAT_CODE[f] for f in order if mask >> _FORMAT_CODE[f] & 1), -1
            )
    table.setflags(write=False)
    return table


_LIKELY_FORMAT = _likely_format_table()


def likely_format(batch: IntakeBatch, pool: TherapistPool, pairs: Pairs) -> npt.NDArray[np.int64]:
    """The format code each pair's sessions most likely use: the first of
    :data:`LIKELY_FORMAT_ORDER` (video last for low-bandwidth clients) that both accept, else
    the first the therapist offers. History does not record the format used (SPEC §2), so
    per-format records are attributed by this rule."""
    i, j = pairs.intake_idx, pairs.therapist_idx
    offered = pool.formats[j]
    shared = batch.formats[i] & offered
    usable = np.where(shared != 0, shared, offered)
    return _LIKELY_FORMAT[batch.low_bandwidth[i].astype(np.int64), usable.astype(np.int64)]


def _share(have: npt.NDArray[np.uint64], want: npt.NDArray[np.uint64]) -> F32:
    """|want ∩ have| / |want|; NaN where nothing is wanted."""
    wanted = np.bitwise_count(want).astype(np.float32)
    met = np.bitwise_count(want & have).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wanted > 0, met / wanted, np.nan).astype(np.float32)


def _concern_fit_value(c: PairContext) -> F32:
    hits, w = c.concern_hits()
    return (hits * w).sum(1) / np.maximum(w.sum(1), 1e-9)


def _concern_fit(c: PairContext) -> F32:
    return c.once("concern_fit", _concern_fit_value)


def _primary_concern_fit(c: PairContext) -> F32:
    return c.concern_hits()[0][:, 0]


def _concern_fit_severity(c: PairContext) -> F32:
    sev = np.nan_to_num(c.client(c.batch.severity), nan=0.5)
    return _concern_fit(c) * sev


def _n_specialties(c: PairContext) -> F32:
    return np.bitwise_count(c.pool.specialties[c.j]).astype(np.float32)


def _severity(c: PairContext) -> F32:
    return c.client(c.batch.severity)


def _modality_fit_value(c: PairContext) -> F32:
    return _share(c.pool.modalities[c.j], c.client(c.batch.modality_pref))


def _modality_fit(c: PairContext) -> F32:
    return c.once("modality_fit", _modality_fit_value)


def _cultural_fit_value(c: PairContext) -> F32:
    return _share(c.pool.cultural[c.j], c.client(c.batch.cultural_pref))


def _cultural_fit(c: PairContext) -> F32:
    return c.once("cultural_fit", _cultural_fit_value)


def _gender_fit_value(c: PairContext) -> F32:
    pref = c.client(c.batch.gender_pref)
    g = c.pool.gender[c.j]
    met = (g >= 0) & (((pref >> np.maximum(g, 0).astype(np.uint64)) & np.uint64(1)) == 1)
    return np.where(pref != 0, met, np.nan).astype(np.float32)


def _gender_fit(c: PairContext) -> F32:
    return c.once("gender_fit", _gender_fit_value)


def _preference_fit(c: PairContext) -> F32:
    kinds = np.stack([_gender_fit(c), _modality_fit(c), _cultural_fit(c)])
    stated = ~np.isnan(kinds)
    met = np.where(stated, kinds, 0).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(stated.any(0), met / stated.sum(0), np.nan).astype(np.float32)


def _ethnicity_fit(c: PairContext) -> F32:
    wants = c.client(c.batch.same_ethnicity) & (c.client(c.batch.client_ethnicity) >= 0)
    same = c.client(c.batch.client_ethnicity) == c.pool.ethnicity[c.j]
    return np.where(wants, same, np.nan).astype(np.float32)


def _format_fit(c: PairContext) -> F32:
    return _share(c.pool.formats[c.j], c.client(c.batch.formats))


def _low_bandwidth_fit(c: PairContext) -> F32:
    usable = (c.pool.formats[c.j] & c.client(c.batch.formats) & _PHONE_CHAT) != 0
    return np.where(c.client(c.batch.low_bandwidth), usable, np.nan).astype(np.float32)


def _in_person_fit(c: PairContext) -> F32:
    both = (c.pool.formats[c.j] & c.client(c.batch.formats) & _IN_PERSON) != 0
    return both.astype(np.float32)


def _severe_in_person(c: PairContext) -> F32:
    offers = (c.pool.formats[c.j] & _IN_PERSON) != 0
    return np.where(c.client(c.batch.severe), offers, np.nan).astype(np.float32)


def _availability_overlap(c: PairContext) -> F32:
    if "overlap" not in c.cache:
        both = c.client(c.batch.availability) & c.pool.availability[c.j]
        c.cache["overlap"] = np.bitwise_count(both).sum(1).astype(np.float32)
    overlap: F32 = c.cache["overlap"]
    return overlap


def _availability_share(c: PairContext) -> F32:
    client = np.bitwise_count(c.client(c.batch.availability)).sum(1).astype(np.float32)
    return _availability_overlap(c) / np.maximum(client, 1)


def _other_language_fit(c: PairContext) -> F32:
    english = c.tables["english_mask"]
    client = c.client(c.batch.languages) & ~english
    shared = (client & c.pool.languages[c.j]).any(1)
    return np.where(client.any(1), shared, np.nan).astype(np.float32)


def _years_experience(c: PairContext) -> F32:
    return c.pool.years[c.j]


def _load(c: PairContext) -> F32:
    return c.pool.load[c.j]


def _open_slots(c: PairContext) -> F32:
    return c.pool.open_slots[c.j]


def _fee_ratio(c: PairContext) -> F32:
    fee, cap = c.pool.fee[c.j], c.client(c.batch.max_fee)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = fee / cap
    return np.where(c.client(c.batch.self_pay) & (cap > 0), ratio, np.nan).astype(np.float32)


def _license(c: PairContext) -> F32:
    code = c.pool.license[c.j].astype(np.float32)
    return np.where(code >= 0, code, np.nan).astype(np.float32)


def _crisis_trained(c: PairContext) -> F32:
    return c.pool.crisis_trained[c.j].astype(np.float32)


def _age_group(c: PairContext) -> F32:
    return c.client(c.batch.age_group).astype(np.float32)


def _tr_overall(c: PairContext) -> F32:
    return np.asarray(c.tables["tr"]["overall"][c.j], dtype=np.float32)


def _tr_n(c: PairContext) -> F32:
    return np.log1p(c.tables["tr"]["n"][c.j]).astype(np.float32)


def _primary_domain(c: PairContext) -> npt.NDArray[np.int64]:
    return np.maximum(c.client(c.batch.primary_domain), 0)


def _tr_domain_value(c: PairContext) -> F32:
    return np.asarray(c.tables["tr"]["domain"][c.j, _primary_domain(c)], dtype=np.float32)


def _tr_domain(c: PairContext) -> F32:
    return c.once("tr_domain", _tr_domain_value)


def _tr_domain_n(c: PairContext) -> F32:
    return np.log1p(c.tables["tr"]["domain_n"][c.j, _primary_domain(c)]).astype(np.float32)


def _concern_mean(c: PairContext, table: F32) -> F32:
    """Σ_k w_k·table[therapist, domain_k] / Σ_k w_k over the client's concerns."""
    by_domain, total = c.concern_domains()
    return ((np.take(table, c.j, axis=0) * by_domain).sum(1) / total).astype(np.float32)


def _tr_concerns(c: PairContext) -> F32:
    return _concern_mean(c, c.tables["tr"]["domain"])


def _tr_domain_lift(c: PairContext) -> F32:
    return _tr_domain(c) - _tr_overall(c)


def _tr_adjusted(c: PairContext) -> F32:
    return np.asarray(c.tables["tr"]["adjusted"][c.j], dtype=np.float32)


def _tr_adjusted_domain(c: PairContext) -> F32:
    return np.asarray(c.tables["tr"]["adjusted_domain"][c.j, _primary_domain(c)], dtype=np.float32)


def _tr_adjusted_concerns(c: PairContext) -> F32:
    return _concern_mean(c, c.tables["tr"]["adjusted_domain"])


def _tr_alliance(c: PairContext) -> F32:
    return np.asarray(c.tables["tr"]["alliance"][c.j], dtype=np.float32)


def _tr_alliance_n(c: PairContext) -> F32:
    return np.log1p(c.tables["tr"]["alliance_n"][c.j]).astype(np.float32)


def _pair_format(c: PairContext) -> npt.NDArray[np.int64]:
    if "format" not in c.cache:
        c.cache["format"] = np.maximum(likely_format(c.batch, c.pool, Pairs(c.i, c.j)), 0)
    fmt: npt.NDArray[np.int64] = c.cache["format"]
    return fmt


def _tr_alliance_format(c: PairContext) -> F32:
    table = c.tables["tr"]["alliance_format"]
    return np.asarray(table[c.j, _pair_format(c)], dtype=np.float32)


def _tr_alliance_format_n(c: PairContext) -> F32:
    table = c.tables["tr"]["alliance_format_n"]
    return np.log1p(table[c.j, _pair_format(c)]).astype(np.float32)


def _tr_retention(c: PairContext) -> F32:
    return np.asarray(c.tables["tr"]["retention"][c.j], dtype=np.float32)


def _tr_improvement(c: PairContext) -> F32:
    return np.asarray(c.tables["tr"]["improvement"][c.j], dtype=np.float32)


TEXT_CHUNK = 16_384
"""Pairs per block of the text-similarity dot products (their gathered vectors stay in cache)."""


def _text_similarity(c: PairContext) -> F32:
    intake, bio = c.intake_text, c.tables["bio_text"]
    sim = np.empty(len(c.i), dtype=np.float32)
    if c.single:  # the same dot products against the one intake's vector, not a copy per pair
        sim[:] = np.einsum("ij,j->i", bio[c.j], intake[0])
    else:
        for start in range(0, len(c.i), TEXT_CHUNK):
            i, j = c.i[start : start + TEXT_CHUNK], c.j[start : start + TEXT_CHUNK]
            sim[start : start + TEXT_CHUNK] = np.einsum("ij,ij->i", intake[i], bio[j])
    empty = ~c.client(np.any(intake, axis=1)) | ~c.tables["bio_filled"][c.j]
    sim[empty] = np.nan
    return sim


@dataclass(frozen=True)
class Feature:
    """A named, documented feature."""

    name: str
    doc: str
    compute: Callable[[PairContext], F32]
    categorical: bool = False
    monotone: int = 0
    """+1 when more of it can only help the outcome (a constraint the booster may enforce)."""
    therapist_only: bool = False
    """Its value depends on the therapist alone (``compute`` reads no intake): computed once
    per (pool, track record) over the whole pool and gathered per pair."""


FEATURES: tuple[Feature, ...] = (
    Feature(
        "concern_fit",
        "Σ_k w_k·[concern_k ∈ specialties] / Σ_k w_k, w_k = 1/k",
        _concern_fit,
        monotone=1,
    ),
    Feature(
        "primary_concern_fit",
        "1 if the most important concern is a specialty",
        _primary_concern_fit,
        monotone=1,
    ),
    Feature(
        "concern_fit_severity",
        "concern_fit × severity (0.5 when unknown)",
        _concern_fit_severity,
        monotone=1,
    ),
    Feature("n_specialties", "number of specialties listed", _n_specialties, therapist_only=True),
    Feature("severity", "max(phq9/27, gad7/21); NaN when neither known", _severity),
    Feature(
        "modality_fit",
        "share of preferred modalities offered; NaN without",
        _modality_fit,
        monotone=1,
    ),
    Feature(
        "cultural_fit", "share of cultural preferences met; NaN without", _cultural_fit, monotone=1
    ),
    Feature(
        "gender_fit", "1 if therapist's gender is preferred; NaN without", _gender_fit, monotone=1
    ),
    Feature(
        "preference_fit",
        "mean of gender_fit, modality_fit, cultural_fit over the kinds stated; NaN if none",
        _preference_fit,
        monotone=1,
    ),
    Feature(
        "ethnicity_fit",
        "same ethnicity, where the client asked; NaN otherwise",
        _ethnicity_fit,
        monotone=1,
    ),
    Feature("format_fit", "share of accepted formats offered", _format_fit, monotone=1),
    Feature(
        "low_bandwidth_fit",
        "phone/chat usable, for low-bandwidth clients; else NaN",
        _low_bandwidth_fit,
        monotone=1,
    ),
    Feature("in_person_fit", "both accept in-person sessions", _in_person_fit),
    Feature(
        "severe_in_person", "offers in person, for severe clients; else NaN", _severe_in_person
    ),
    Feature("availability_overlap", "weekly hours both have free", _availability_overlap),
    Feature("availability_share", "overlap / client's hours", _availability_share),
    Feature(
        "other_language_fit",
        "shares a non-English language the client speaks; NaN if en only",
        _other_language_fit,
    ),
    Feature("years_experience", "years in practice", _years_experience, therapist_only=True),
    Feature("load", "current_caseload / max_caseload", _load, therapist_only=True),
    Feature("open_slots", "max_caseload − current_caseload", _open_slots, therapist_only=True),
    Feature("fee_ratio", "session_fee / max_session_fee for self-pay; else NaN", _fee_ratio),
    Feature("license", "license type code", _license, categorical=True, therapist_only=True),
    Feature("crisis_trained", "1 if crisis trained", _crisis_trained, therapist_only=True),
    Feature("age_group", "client age group code", _age_group, categorical=True),
    Feature(
        "tr_overall",
        "EB good-outcome rate (s+mμ)/(n+m)",
        _tr_overall,
        monotone=1,
        therapist_only=True,
    ),
    Feature("tr_n", "ln(1 + outcomes observed)", _tr_n, therapist_only=True),
    Feature("tr_domain", "EB rate in the primary concern's domain", _tr_domain, monotone=1),
    Feature("tr_domain_n", "ln(1 + outcomes in that domain)", _tr_domain_n),
    Feature(
        "tr_concerns",
        "1/k-weighted mean of domain rates over the client's concerns",
        _tr_concerns,
        monotone=1,
    ),
    Feature("tr_domain_lift", "tr_domain − tr_overall", _tr_domain_lift),
    Feature(
        "tr_adjusted",
        "case-mix-adjusted effect: shrunk mean of (good − expected from profile)",
        _tr_adjusted,
        monotone=1,
        therapist_only=True,
    ),
    Feature(
        "tr_adjusted_domain",
        "case-mix-adjusted effect in the primary concern's domain",
        _tr_adjusted_domain,
        monotone=1,
    ),
    Feature(
        "tr_adjusted_concerns",
        "1/k-weighted adjusted domain effects over the client's concerns",
        _tr_adjusted_concerns,
        monotone=1,
    ),
    Feature(
        "tr_alliance",
        "case-mix-adjusted alliance effect: shrunk mean of (WAI-SR − expected from profile)",
        _tr_alliance,
        monotone=1,
        therapist_only=True,
    ),
    Feature(
        "tr_alliance_n", "ln(1 + alliance ratings observed)", _tr_alliance_n, therapist_only=True
    ),
    Feature(
        "tr_alliance_format",
        "adjusted alliance effect in the pair's likely format, shrunk toward tr_alliance",
        _tr_alliance_format,
        monotone=1,
    ),
    Feature(
        "tr_alliance_format_n",
        "ln(1 + alliance ratings in that format)",
        _tr_alliance_format_n,
    ),
    Feature(
        "tr_retention",
        "case-mix-adjusted retention effect: shrunk mean of (retained − expected from profile)",
        _tr_retention,
        monotone=1,
        therapist_only=True,
    ),
    Feature(
        "tr_improvement",
        "case-mix-adjusted reliable-improvement effect: shrunk mean of (improved − expected)",
        _tr_improvement,
        monotone=1,
        therapist_only=True,
    ),
    Feature(
        "text_similarity", "cosine(LSA(free_text), LSA(bio)); NaN if either empty", _text_similarity
    ),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
CATEGORICAL: tuple[str, ...] = tuple(f.name for f in FEATURES if f.categorical)
PROFILE_COLUMNS = np.array([k for k, f in enumerate(FEATURES) if not f.name.startswith("tr_")])
"""Columns that describe the pair's profiles only (no therapist track record)."""
TRACK_RECORD_COLUMNS = np.array([k for k, f in enumerate(FEATURES) if f.name.startswith("tr_")])
"""Columns that read the therapist track record (the only ones that change per fold)."""
MONOTONE: dict[str, int] = {f.name: f.monotone for f in FEATURES if f.monotone}
_TEXT_COLUMN = FEATURE_NAMES.index("text_similarity")
THERAPIST_COLUMNS = np.array([k for k, f in enumerate(FEATURES) if f.therapist_only])
"""Columns that depend on the therapist alone (tabled once per pool and track record)."""
_THERAPIST_SLOT = np.full(len(FEATURES), -1, dtype=np.int64)
_THERAPIST_SLOT[THERAPIST_COLUMNS] = np.arange(len(THERAPIST_COLUMNS))
_CACHES = ("_bound", "_texts")
_CASEMIX = ("casemix", "casemix_alliance", "casemix_retained", "casemix_improved")
"""The case-mix models: good outcome, alliance rating, retention, reliable improvement."""


def outcome_rows(
    dataset: Dataset,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """History rows with a known outcome: therapist id, intake primary-domain code, good or not."""
    inter = dataset.interactions
    known = has_outcome(inter)
    rows = inter[known]
    first = dataset.intakes.set_index("intake_id")["concerns"].map(lambda xs: xs[0] if xs else None)
    concern = rows["intake_id"].map(first)
    domains = concern.map(_DOMAIN_OF_CONCERN).fillna(-1).to_numpy(dtype=np.int64)
    return rows["therapist_id"].to_numpy(dtype=object), domains, good_outcome(rows)


def _numbers(frame: Any, column: str) -> F32:
    return np.asarray(
        frame[column].astype("Float64").to_numpy(dtype=np.float32, na_value=np.nan),
        dtype=np.float32,
    )


def alliance_and_retention(started: Any) -> tuple[F32, F32]:
    """Alliance ratings (NaN where none) and retention (1 stayed, 0 dropped out, NaN unknown) of
    outcome rows."""
    dropped = _numbers(started, "dropped_out")
    return _numbers(started, "alliance"), (1.0 - dropped).astype(np.float32)


def improvement(started: Any) -> F32:
    """Reliable improvement of outcome rows (1, 0, NaN unknown)."""
    return _numbers(started, "reliable_improvement")


def _therapist_table(pool: TherapistPool, tables: dict[str, Any]) -> F32:
    """``(len(pool), len(THERAPIST_COLUMNS))``: each therapist-only feature of every therapist
    (its own ``compute``, over the whole pool; no intake is read)."""
    rows = np.arange(len(pool), dtype=np.int64)
    ctx = PairContext(
        batch=cast(IntakeBatch, None),  # therapist-only features read no intake
        pool=pool,
        i=np.zeros(len(pool), dtype=np.int64),
        j=rows,
        tables=tables,
        intake_text=np.zeros((0, 0), np.float32),
    )
    table = np.empty((len(pool), len(THERAPIST_COLUMNS)), dtype=np.float32)
    for slot, column in enumerate(THERAPIST_COLUMNS):
        table[:, slot] = FEATURES[column].compute(ctx)
    table.setflags(write=False)
    return table


class FeaturePipeline:
    """Fit on history, transform candidate pairs into the matrix of :data:`FEATURES`.

    ``fit`` learns the text embedder (bios and intake texts) and the therapists'
    :class:`TrackRecord`; pass ``track_record=`` to :meth:`transform` to score with another one
    (training uses out-of-fold track records so no row's own outcome leaks into its features).
    """

    def __init__(
        self, text_dims: int = 32, seed: int = 0, records: RecordOptions | None = None
    ) -> None:
        self.text_dims = text_dims
        self.seed = seed
        self.records = records or RecordOptions()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the derived caches (Dask ships pipelines)."""
        return {k: v for k, v in self.__dict__.items() if k not in _CACHES}

    def _cache(self, name: str) -> weakref.WeakKeyDictionary[Any, Any]:
        """A derived-state cache keyed weakly by pool or batch, created on first use."""
        cache: weakref.WeakKeyDictionary[Any, Any] | None = self.__dict__.get(name)
        if cache is None:
            cache = self.__dict__[name] = weakref.WeakKeyDictionary()
        return cache

    @property
    def feature_names(self) -> list[str]:
        """Column names of the transformed matrix."""
        return list(FEATURE_NAMES)

    def fit(
        self,
        dataset: Dataset,
        pool: TherapistPool | None = None,
        batch: IntakeBatch | None = None,
    ) -> FeaturePipeline:
        """Learn the text model, the case-mix model and the track record from ``dataset`` (its
        history only). ``pool`` and ``batch`` (an encoding of at least the dataset's intakes)
        are reused when given, so a job encodes each table once."""
        self._fit_text(dataset, batch)
        pool = pool or TherapistPool.from_frame(dataset.therapists)
        ids, domains, good = outcome_rows(dataset)
        self.track_record_ = TrackRecord().fit(ids, domains, good)
        profile = self.profile_matrix(dataset, pool, batch)
        self.casemix_ = CaseMix().fit(profile, good)
        started = dataset.interactions[has_outcome(dataset.interactions)]
        alliance, retained = alliance_and_retention(started)
        rated, known = ~np.isnan(alliance), ~np.isnan(retained)
        self.casemix_alliance_ = CaseMix(continuous=True).fit(profile[rated], alliance[rated])
        self.casemix_retained_ = CaseMix().fit(profile[known], retained[known] > 0.5)
        improved = improvement(started)
        seen = ~np.isnan(improved)
        self.casemix_improved_ = CaseMix().fit(profile[seen], improved[seen] > 0.5)
        self.track_record_ = self.fit_track_record(dataset, pool, batch)
        return self

    def _fit_text(self, dataset: Dataset, batch: IntakeBatch | None) -> None:
        """Fit the text model on the bios and the dataset's intake texts. With the job's
        ``batch`` its texts are hashed once, for the fit and for :meth:`intake_text`."""
        bios = list(dataset.therapists["bio"].dropna().astype(str))
        embedder = TextEmbedder(dims=self.text_dims, seed=self.seed)
        if batch is not None:
            filled = np.asarray(batch.free_text, dtype=object) != ""
            rows = batch.rows_of(dataset.intakes["intake_id"])
            if filled.sum() > SMALL_BATCH and (rows >= 0).all():
                counts = term_counts(batch.free_text)
                bio_counts = term_counts([t for t in bios if t])
                docs = sp.vstack([bio_counts, counts[rows[filled[rows]]]], format="csr")
                self.text_ = embedder.fit_counts(docs)
                self._cache("_texts")[batch] = self.text_.transform_counts(counts)
                return
        texts = bios + list(dataset.intakes["free_text"].dropna().astype(str))
        self.text_ = embedder.fit(texts)

    def profile_matrix(
        self, dataset: Dataset, pool: TherapistPool, batch: IntakeBatch | None = None
    ) -> F32:
        """Profile-only feature columns of the outcome rows (``outcome_rows`` order)."""
        inter = dataset.interactions[has_outcome(dataset.interactions)]
        if batch is None:
            intakes = dataset.intakes[dataset.intakes["intake_id"].isin(set(inter["intake_id"]))]
            batch = pool.encode_intakes(intakes)
        pairs = Pairs.of_interactions(inter, batch, pool)
        return self.transform(batch, pool, pairs, columns=PROFILE_COLUMNS)

    def outcome_table(
        self, dataset: Dataset, pool: TherapistPool, batch: IntakeBatch | None = None
    ) -> OutcomeTable:
        """Outcome rows of ``dataset`` (``outcome_rows`` order) with their case-mix expectations."""
        inter = dataset.interactions[has_outcome(dataset.interactions)]
        if batch is None:
            intakes = dataset.intakes[dataset.intakes["intake_id"].isin(set(inter["intake_id"]))]
            batch = pool.encode_intakes(intakes)
        pairs = Pairs.of_interactions(inter, batch, pool)
        profile = self.transform(batch, pool, pairs, columns=PROFILE_COLUMNS)
        return self.outcomes_of(inter, batch, pool, pairs, profile)

    def outcomes_of(
        self,
        started: Any,
        batch: IntakeBatch,
        pool: TherapistPool,
        pairs: Pairs,
        profile: F32,
    ) -> OutcomeTable:
        """The outcome table of logged rows with a known outcome (``started``, as ``pairs`` into
        ``batch`` × ``pool``, with their ``PROFILE_COLUMNS`` matrix ``profile``)."""
        alliance, retained = alliance_and_retention(started)
        return OutcomeTable(
            started["therapist_id"].to_numpy(dtype=object),
            batch.primary_domain[pairs.intake_idx],
            good_outcome(started),
            self.expected(profile),
            formats=likely_format(batch, pool, pairs),
            alliance=alliance,
            alliance_expected=self.casemix_alliance_.predict(profile).astype(np.float32),
            retained=retained,
            retained_expected=self.casemix_retained_.predict(profile).astype(np.float32),
            improved=improvement(started),
            improved_expected=self.casemix_improved_.predict(profile).astype(np.float32),
        )

    def expected(self, profile: F32) -> F32:
        """The outcome the case-mix model expects from profile columns (``PROFILE_COLUMNS``)."""
        return self.casemix_.predict(profile).astype(np.float32)

    def fit_track_record(
        self,
        dataset: Dataset,
        pool: TherapistPool | None = None,
        batch: IntakeBatch | None = None,
    ) -> TrackRecord:
        """A track record fitted on ``dataset``'s outcomes only, adjusted for case mix, with the
        records of :attr:`records`."""
        pool = pool or TherapistPool.from_frame(dataset.therapists)
        return self.outcome_table(dataset, pool, batch).fit_track_record(self.records)

    def bind_pool(self, pool: TherapistPool, *, bio_text: F32 | None = None) -> None:
        """Build the per-pool tables now (serving does it with the engine, not on the first
        request); ``bio_text`` gives the bio embeddings when the caller already has them."""
        self._pool_tables(pool, self.track_record_, bio_text=bio_text)

    def _pool_tables(
        self, pool: TherapistPool, track_record: TrackRecord, *, bio_text: F32 | None = None
    ) -> dict[str, Any]:
        """Per-pool derived arrays, cached: bio embeddings and the English mask once per pool,
        track-record tables once per (pool, track record)."""
        cache = self._cache("_bound").setdefault(pool, {})
        if "bio_text" not in cache:
            english = pool.languages_vocab.index.get(_ENGLISH, -1)
            mask = np.zeros(pool.languages.shape[1], dtype=np.uint64)
            if english >= 0:
                mask[english // 64] = np.uint64(1) << np.uint64(english % 64)
            cache["bio_text"] = self.text_.transform(pool.bios) if bio_text is None else bio_text
            cache["bio_filled"] = np.any(cache["bio_text"], axis=1)
            cache["english_mask"] = mask
            cache["records"] = {}
        records: dict[int, tuple[TrackRecord, dict[str, Any]]] = cache["records"]
        if id(track_record) not in records:
            if len(records) > 8:
                records.clear()
            tables = {
                "tr": track_record.align(pool.ids),
                "bio_text": cache["bio_text"],
                "bio_filled": cache["bio_filled"],
                "english_mask": cache["english_mask"],
            }
            tables["therapist"] = _therapist_table(pool, tables)
            # The record itself is kept so its id cannot be reused while cached.
            records[id(track_record)] = (track_record, tables)
        return records[id(track_record)][1]

    def intake_text(self, batch: IntakeBatch) -> F32:
        """LSA vectors of the batch's free texts, computed once per batch (cached)."""
        cache = self._cache("_texts")
        if batch not in cache:
            cache[batch] = self.text_.transform(batch.free_text)
        text: F32 = cache[batch]
        return text

    def transform(
        self,
        batch: IntakeBatch,
        pool: TherapistPool,
        pairs: Pairs,
        *,
        track_record: TrackRecord | None = None,
        intake_text: F32 | None = None,
        columns: npt.NDArray[np.int64] | None = None,
        into: F32 | None = None,
    ) -> F32:
        """The ``(len(pairs), len(FEATURES))`` float32 matrix; NaN marks a missing value.

        With ``columns`` (positions in :data:`FEATURES`) only those features are computed, in
        that order: training computes the profile columns once and the track-record columns
        (:data:`TRACK_RECORD_COLUMNS`) once per fold. With ``into`` (a full-width matrix with a
        row per pair) the features are written into their own columns of it, which is returned.
        """
        if not hasattr(self, "text_"):
            raise NotFittedError("FeaturePipeline is not fitted")
        tr = track_record or self.track_record_
        wanted = np.arange(len(FEATURES)) if columns is None else np.asarray(columns)
        needs_text = _TEXT_COLUMN in wanted
        if intake_text is None and needs_text:
            intake_text = self.intake_text(batch)
        ctx = PairContext(
            batch=batch,
            pool=pool,
            i=pairs.intake_idx,
            j=pairs.therapist_idx,
            tables=self._pool_tables(pool, tr),
            intake_text=intake_text if intake_text is not None else np.zeros((0, 0), np.float32),
        )
        if into is None:
            # Column by column into a Fortran-order matrix (each write contiguous), returned in
            # C order (what the boosters read) by one copy.
            out = np.empty((len(pairs), len(wanted)), dtype=np.float32, order="F")
            targets: npt.NDArray[np.int64] = np.arange(len(wanted))
        else:
            out, targets = into, wanted
        slots = _THERAPIST_SLOT[wanted]
        tabled = slots >= 0
        if tabled.any():  # one gather of rows for every therapist-only column
            rows = np.take(ctx.tables["therapist"], ctx.j, axis=0)
            out[:, targets[tabled]] = rows[:, slots[tabled]]
        for k, column in zip(targets[~tabled], wanted[~tabled], strict=True):
            out[:, k] = FEATURES[column].compute(ctx)
        return out if into is not None else np.ascontiguousarray(out)

    def state(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """JSON-able parameters and named arrays of the fitted pipeline (no pickle)."""
        text_params, text_arrays = self.text_.state()
        tr_params, tr_arrays = self.track_record_.state()
        params: dict[str, Any] = {
            "text_dims": self.text_dims,
            "seed": self.seed,
            "records": dataclasses.asdict(self.records),
            "features": list(FEATURE_NAMES),
            "text": text_params,
            "track_record": tr_params,
        }
        arrays = {f"text.{k}": v for k, v in text_arrays.items()}
        arrays |= {f"track_record.{k}": v for k, v in tr_arrays.items()}
        for name in _CASEMIX:
            cm_params, cm_arrays = getattr(self, f"{name}_").state()
            params[name] = cm_params
            arrays |= {f"{name}.{k}": v for k, v in cm_arrays.items()}
        return params, arrays

    @classmethod
    def from_state(
        cls, params: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
    ) -> FeaturePipeline:
        """Rebuild a fitted pipeline from :meth:`state`."""
        pipe = cls(
            text_dims=int(params["text_dims"]),
            seed=int(params["seed"]),
            records=RecordOptions(**params.get("records", {})),
        )
        pipe.text_ = TextEmbedder.from_state(
            params["text"], {k[5:]: v for k, v in arrays.items() if k.startswith("text.")}
        )
        pipe.track_record_ = TrackRecord.from_state(
            params["track_record"],
            {k[13:]: v for k, v in arrays.items() if k.startswith("track_record.")},
        )
        for name in _CASEMIX:
            prefix = f"{name}."
            part = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            setattr(pipe, f"{name}_", CaseMix.from_state(params[name], part))
        return pipe


__all__ = [
    "CATEGORICAL",
    "FEATURES",
    "FEATURE_NAMES",
    "MONOTONE",
    "PROFILE_COLUMNS",
    "THERAPIST_COLUMNS",
    "TRACK_RECORD_COLUMNS",
    "Feature",
    "FeaturePipeline",
    "PairContext",
    "alliance_and_retention",
    "likely_format",
]
