"""Free-text embedding: hashing once per job gives what hashing per call gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from features.dataset import load_dataset
from features.encoding import TherapistPool
from features.pipeline import FeaturePipeline
from features.text import SMALL_BATCH, TextEmbedder, term_counts
from training.splits import subset, time_split

WORDS = ["anxiety", "sleep", "the", "and", "grief", "work", "panic", "family", "trauma", ""]
CORPUS = [
    "panic attacks at work and trouble sleeping",
    "grief after losing my father",
    "family conflict, trauma and anxiety",
    "the and of",
    "",
] * 8


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join), max_size=60))
def test_embedding_from_counts_equals_embedding_from_texts(texts: list[str]) -> None:
    """Empty and stop-word-only texts included; up to SMALL_BATCH non-empty texts transform
    takes its own path, so the comparison is made on batches with more."""
    embedder = TextEmbedder(dims=4).fit(CORPUS)
    texts = texts + [t for t in CORPUS if t][: SMALL_BATCH + 1]
    expected = embedder.transform(texts)
    assert np.array_equal(embedder.transform_counts(term_counts(texts)), expected)


def test_fitting_on_counts_equals_fitting_on_texts() -> None:
    docs = [t for t in CORPUS if t]
    a, b = TextEmbedder(dims=3).fit(CORPUS), TextEmbedder(dims=3).fit_counts(term_counts(docs))
    assert np.array_equal(a.idf_, b.idf_) and np.array_equal(a.components_, b.components_)


def test_pipeline_fitted_on_the_job_s_batch_embeds_as_without_it(small_world: Path) -> None:
    """The job's encoding of every intake (training and held-out, shuffled) gives the same
    text model and the same intake vectors as a pipeline that hashes the texts itself."""
    ds = load_dataset(small_world)
    train_ids, _ = time_split(ds, 0.2)
    train = subset(ds, train_ids)
    pool = TherapistPool.from_frame(ds.therapists)
    batch = pool.encode_intakes(ds.intakes.sample(frac=1.0, random_state=1))
    assert sum(not t for t in batch.free_text) > 0
    with_batch = FeaturePipeline(text_dims=8).fit(train, pool, batch)
    alone = FeaturePipeline(text_dims=8).fit(train, pool)
    assert np.array_equal(with_batch.text_.idf_, alone.text_.idf_)
    assert np.array_equal(with_batch.text_.components_, alone.text_.components_)
    assert np.array_equal(with_batch.intake_text(batch), alone.intake_text(batch))
