"""Free-text ↔ bio similarity: hashed TF-IDF reduced by SVD (latent semantic analysis).

The hashing vectoriser has no vocabulary to store, so the fitted state is two arrays (idf and the
SVD components) that save and load without pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from core.errors import NotFittedError

_HASHER = HashingVectorizer(
    n_features=2**13, alternate_sign=False, norm=None, stop_words="english", ngram_range=(1, 1)
)


def term_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Hashed term counts of ``texts``, one row each (an empty text gives an empty row). Each
    distinct text is analysed once (intakes repeat texts, and most leave theirs empty)."""
    if len(texts) == 0:
        return sp.csr_matrix((0, _HASHER.n_features), dtype=np.float64)
    codes, distinct = pd.factorize(pd.Series(texts, dtype=object), use_na_sentinel=False)
    counts: sp.csr_matrix = _HASHER.transform(list(distinct))
    return counts if len(distinct) == len(texts) else counts[codes]


_ANALYZER = _HASHER.build_analyzer()
_WIDTH = int(_HASHER.n_features)
_MIN_INT32 = -(2**31)


def hashed_terms(text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """One text's row of ``_HASHER.transform``: its hashed term indices (sorted) and counts.

    The same analyser and hash as the vectoriser (bucket = |murmurhash3_32(term)| mod width,
    signed hash, no alternate sign), without building a sparse matrix: a request's one text
    costs the tokens' hashing only."""
    buckets = [
        (2**31 - 1 - (_WIDTH - 1)) % _WIDTH if h == _MIN_INT32 else abs(h) % _WIDTH
        for h in (murmurhash3_32(term, seed=0) for term in _ANALYZER(text))
    ]
    indices, counts = np.unique(np.asarray(buckets, dtype=np.int64), return_counts=True)
    return indices, counts.astype(np.float64)


SMALL_BATCH = 16
"""Up to this many texts, :meth:`TextEmbedder.transform` skips the sparse matrix product."""


@dataclass
class TextEmbedder:
    """Texts → unit vectors; cosine(a, b) = a·b. Empty texts map to the zero vector."""

    dims: int = 32
    seed: int = 0

    def fit(self, texts: Sequence[str]) -> TextEmbedder:
        """Fit idf = ln((1+N)/(1+df)) + 1 and the SVD on non-empty ``texts``."""
        return self.fit_counts(term_counts([t for t in texts if t]))

    def fit_counts(self, counts: sp.csr_matrix) -> TextEmbedder:
        """:meth:`fit` on the :func:`term_counts` of the non-empty texts (one row each)."""
        if counts.shape[0] == 0:
            counts = term_counts(["empty"])
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf_ = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)
        weighted = counts.multiply(self.idf_).tocsr()
        k = max(1, min(self.dims, weighted.shape[0] - 1, weighted.shape[1] - 1))
        svd = TruncatedSVD(n_components=k, random_state=self.seed).fit(weighted)
        self.components_ = svd.components_.astype(np.float32)
        return self

    def transform(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit-norm LSA vectors, ``(len(texts), k)``; zero rows for empty texts."""
        out = self._empty(len(texts))
        filled = [i for i, t in enumerate(texts) if t]
        if not filled:
            return out
        if len(filled) > SMALL_BATCH:
            return _unit_rows(out, filled, self._projected(term_counts([texts[i] for i in filled])))
        # A request's few texts: hash their terms and gather the touched SVD columns directly
        # (the sparse matrices' setup costs ~100× the arithmetic at this size).
        rows = [hashed_terms(texts[i]) for i in filled]
        indices = np.concatenate([r[0] for r in rows])
        weight = np.concatenate([r[1] for r in rows]).astype(np.float32)
        weight = weight * self.idf_[indices]
        terms = self.components_[:, indices].T * weight[:, None]
        row = np.repeat(np.arange(len(filled)), [len(r[0]) for r in rows])
        vecs = np.zeros((len(filled), self.components_.shape[0]), dtype=np.float32)
        np.add.at(vecs, row, terms)
        return _unit_rows(out, filled, vecs)

    def transform_counts(self, counts: sp.csr_matrix) -> npt.NDArray[np.float32]:
        """:meth:`transform` of texts, more than :data:`SMALL_BATCH` of them non-empty, from
        their :func:`term_counts` (an empty text's row is empty and maps to the zero vector)."""
        out = self._empty(counts.shape[0])
        return _unit_rows(out, slice(None), self._projected(counts))

    def _empty(self, n: int) -> npt.NDArray[np.float32]:
        """Zero vectors for ``n`` texts (raises when not fitted)."""
        if not hasattr(self, "idf_"):
            raise NotFittedError("TextEmbedder is not fitted")
        return np.zeros((n, self.components_.shape[0]), dtype=np.float32)

    def _projected(self, counts: sp.csr_matrix) -> npt.NDArray[np.float32]:
        """idf-weighted counts projected on the SVD components (not yet unit-norm)."""
        weighted = counts.multiply(self.idf_).tocsr()
        return np.asarray(weighted @ self.components_.T, dtype=np.float32)

    def state(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """JSON-able parameters and arrays."""
        return {"dims": self.dims, "seed": self.seed}, {
            "idf": self.idf_,
            "components": self.components_,
        }

    @classmethod
    def from_state(
        cls, params: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
    ) -> TextEmbedder:
        """Rebuild from :meth:`state`."""
        emb = cls(dims=int(params["dims"]), seed=int(params["seed"]))
        emb.idf_ = np.asarray(arrays["idf"], dtype=np.float32)
        emb.components_ = np.asarray(arrays["components"], dtype=np.float32)
        return emb


def _unit_rows(
    out: npt.NDArray[np.float32], rows: Any, vecs: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """``out`` with ``out[rows]`` = ``vecs`` scaled to unit norm (zero where a vector is)."""
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    out[rows] = np.divide(vecs, norms, out=np.zeros_like(vecs), where=norms > 0)
    return out


__all__ = ["SMALL_BATCH", "TextEmbedder", "hashed_terms", "term_counts"]
