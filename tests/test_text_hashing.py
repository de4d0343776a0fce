"""A request's text is hashed without the vectoriser's sparse matrix, to the same terms."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from features.dataset import load_dataset
from features.text import _HASHER, hashed_terms, term_counts

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_hashed_terms_are_the_vectorisers_row() -> None:
    data = load_dataset(SAMPLE)
    texts = list(data.intakes["free_text"].dropna().astype(str))[:400]
    texts += ["", "the and of", "Ünïcödé naïve café, stress!!", "worry worry worry sleep"]
    for text in texts:
        row = _HASHER.transform([text])
        row.sum_duplicates()
        indices, counts = hashed_terms(text)
        assert np.array_equal(row.indices, indices), text
        assert np.array_equal(row.data, counts), text
    assert len(hashed_terms("worry worry worry sleep")[0]) == 2


def test_term_counts_analyse_each_distinct_text_once_to_the_vectorisers_rows() -> None:
    """Repeated and empty texts (most intakes') get the rows the vectoriser gives them."""
    data = load_dataset(SAMPLE)
    texts = list(data.intakes["free_text"].fillna("").astype(str))[:300]
    texts = texts + texts[:50] + ["", "worry sleep", "", "worry sleep"]
    got, expected = term_counts(texts), _HASHER.transform(texts)
    assert got.shape == expected.shape and (got != expected).nnz == 0
    assert got[-1].nnz == 2 and got[-2].nnz == 0
