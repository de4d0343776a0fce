"""Track records from sparse histories: the shrinkage estimator, alliance and retention records,
the zero-history prior and the likely-format rule."""

from __future__ import annotations

import numpy as np
import pytest

from features.encoding import Pairs, TherapistPool
from features.pipeline import likely_format
from features.track_record import (
    CV_PRIORS,
    OutcomeTable,
    RecordOptions,
    TrackRecord,
    cv_cell_prior,
    shrunk_effects,
)
from features.vocab import Format
from tests.factories import intake, intakes_frame, therapist, therapists_frame


def _sparse_units(seed: int, tau: float = 0.3, sigma: float = 1.0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n_units = 600
    counts = rng.integers(1, 15, n_units)
    units = np.repeat(np.arange(n_units), counts)
    effect = rng.normal(0, tau, n_units)
    residual = effect[units] + rng.normal(0, sigma, len(units))
    return units, residual, effect


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_consistent_prior_recovers_the_true_shrinkage_on_sparse_units(seed: int) -> None:
    """k = σ²/τ² ≈ 11 here; main's flat estimator over-subtracts noise with few rows per unit."""
    units, residual, _ = _sparse_units(seed)
    cells = np.full(len(units), -1)
    two_level = shrunk_effects(units, 600, cells, 1, residual, floor=1, hierarchical=True)
    flat = shrunk_effects(units, 600, cells, 1, residual, floor=1, hierarchical=False)
    truth = (1.0 + 0.3**2) / 0.3**2
    assert abs(np.log(two_level.prior / truth)) < abs(np.log(flat.prior / truth))
    assert 0.5 * truth < two_level.prior < 2 * truth


def test_shrunk_effects_track_true_effects_and_unseen_units_get_zero() -> None:
    units, residual, effect = _sparse_units(3)
    fit = shrunk_effects(
        units, 601, np.full(len(units), -1), 1, residual, floor=1, hierarchical=True
    )
    assert np.corrcoef(fit.unit[:600], effect)[0, 1] > 0.5
    assert fit.unit[600] == 0 and fit.unit_n[600] == 0


def _table(n: int, seed: int) -> tuple[OutcomeTable, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"t{k}" for k in rng.integers(0, 40, n)], dtype=object)
    warmth = {f"t{k}": w for k, w in enumerate(rng.normal(0, 0.4, 40))}
    alliance = np.array([3.9 + warmth[t] for t in ids]) + rng.normal(0, 0.5, n)
    alliance[rng.random(n) < 0.1] = np.nan
    retained = (rng.random(n) < 0.8).astype(np.float32)
    skill = {f"t{k}": v for k, v in enumerate(rng.normal(0, 0.25, 40))}
    improved = (rng.random(n) < 0.5 + np.array([skill[t] for t in ids])).astype(np.float32)
    improved[rng.random(n) < 0.1] = np.nan
    table = OutcomeTable(
        ids,
        rng.integers(0, 5, n),
        rng.random(n) < 0.4,
        np.full(n, 0.4, np.float32),
        formats=rng.integers(0, 4, n),
        alliance=alliance.astype(np.float32),
        alliance_expected=np.full(n, 3.9, np.float32),
        retained=retained,
        retained_expected=np.full(n, 0.8, np.float32),
        improved=improved,
        improved_expected=np.full(n, 0.5, np.float32),
    )
    return (
        table,
        np.array([warmth[f"t{k}"] for k in range(40)]),
        np.array([skill[f"t{k}"] for k in range(40)]),
    )


def test_alliance_record_ranks_warm_therapists_and_new_ones_get_the_prior() -> None:
    table, warmth, skill = _table(2000, 4)
    record = table.fit_track_record(RecordOptions())
    pool_ids = np.array([*(f"t{k}" for k in range(40)), "newcomer"], dtype=object)
    tables = record.align(pool_ids)
    assert np.corrcoef(tables["alliance"][:40], warmth)[0, 1] > 0.7
    assert np.corrcoef(tables["improvement"][:40], skill)[0, 1] > 0.7
    # Per-format cells sit between the therapist's own record and the cell's mean.
    assert tables["alliance_format"].shape == (41, len(Format))
    # Zero history: every adjusted effect 0, counts 0, the rate the population mean.
    zero = ("alliance", "alliance_n", "retention", "retention_n", "adjusted", "n", "improvement")
    for key in zero:
        assert tables[key][40] == 0
    assert tables["overall"][40] == pytest.approx(record.mean_)
    assert np.all(tables["alliance_format"][40] == 0)


def test_switched_off_records_stay_at_the_prior_and_state_round_trips() -> None:
    table, _, _ = _table(500, 5)
    off = table.fit_track_record(
        RecordOptions(alliance=False, dropout=False, hierarchical=False, improvement=False)
    )
    tables = off.align(np.array(["t1", "t2"], dtype=object))
    assert not tables["alliance"].any() and not tables["retention"].any()
    assert not tables["improvement"].any()
    assert tables["n"].all()
    on = table.fit_track_record(RecordOptions())
    again = TrackRecord.from_state(*on.state())
    ids = np.array(["t1", "t3", "zz"], dtype=object)
    for key, value in on.align(ids).items():
        np.testing.assert_array_equal(value, again.align(ids)[key])


def test_likely_format_prefers_video_and_avoids_it_on_low_bandwidth() -> None:
    therapists = therapists_frame(
        [
            therapist(therapist_id="a", formats=["video", "phone", "chat"]),
            therapist(therapist_id="b", formats=["chat"]),
        ]
    )
    intakes = intakes_frame(
        [
            intake(intake_id="x", preferred_formats=["video", "chat"]),
            intake(intake_id="y", preferred_formats=["video", "chat"], low_bandwidth=True),
            intake(intake_id="z", preferred_formats=["in_person"]),
        ]
    )
    pool = TherapistPool.from_frame(therapists)
    batch = pool.encode_intakes(intakes)
    pairs = Pairs(np.array([0, 1, 0, 2]), np.array([0, 0, 1, 1]))
    got = [list(Format)[k] for k in likely_format(batch, pool, pairs)]
    # z shares no format with b: the therapist's own format.
    assert got == [Format.VIDEO, Format.CHAT, Format.CHAT, Format.CHAT]


def test_alliance_reason_only_when_it_drives_the_score_and_rests_on_enough_ratings() -> None:
    from features.pipeline import FEATURE_NAMES
    from matcher.explanations import MIN_ALLIANCE_RATINGS, reasons, reasons_batch

    pool = TherapistPool.from_frame(therapists_frame([therapist(formats=["video"])]))
    batch = pool.encode_intakes(intakes_frame([intake(preferred_formats=["video"])]))
    k, n = FEATURE_NAMES.index("tr_alliance_format"), FEATURE_NAMES.index("tr_alliance_format_n")
    x = np.zeros((3, len(FEATURE_NAMES)), dtype=np.float32)
    x[:, k] = 0.2
    x[:, n] = np.log1p([MIN_ALLIANCE_RATINGS, MIN_ALLIANCE_RATINGS - 1, MIN_ALLIANCE_RATINGS])
    contrib = np.zeros((3, len(FEATURE_NAMES) + 1))
    contrib[:2, k] = 0.5
    contrib[2, k] = -0.5  # rated highly, but not what drives this score
    said = "Clients rate their connection with this therapist highly on video"
    rows = np.zeros(3, dtype=np.int64)
    batched = reasons_batch(batch, pool, rows, rows, x=x, contrib=contrib)
    single = [reasons(batch, pool, 0, 0, x=x[r], contrib=contrib[r]) for r in range(3)]
    assert batched == single
    assert [said in found for found in batched] == [True, False, False]


@pytest.mark.parametrize("seed", [0, 1])
def test_cross_validated_cell_prior_follows_how_much_cells_differ(seed: int) -> None:
    """Cells that differ from their unit's mean by far more than the noise get the weakest prior
    of the grid (each cell stands on its own rows); cells that do not differ at all get a strong
    one (every cell pooled into its unit's record)."""
    # Not seed 0's stream, which cv_cell_prior draws its folds from.
    rng = np.random.default_rng(100 + seed)
    units = rng.integers(0, 300, 6000)
    cells = rng.integers(0, 4, 6000)
    cell_effect = rng.normal(0, 1.0, (300, 4))
    noise = rng.normal(0, 0.2, 6000)

    distinct = cell_effect[units, cells] + noise
    alike = 5 * noise
    k_distinct = cv_cell_prior(units, 300, cells, 4, distinct, unit_prior=1.0, floor=1.0, seed=seed)
    k_alike = cv_cell_prior(units, 300, cells, 4, alike, unit_prior=1.0, floor=1.0)
    assert k_distinct == CV_PRIORS[0]
    assert k_alike >= 100.0
