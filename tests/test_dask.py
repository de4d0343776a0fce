"""``matcher train --engine dask``: lightgbm.dask on a LocalCluster, groups kept whole."""

from __future__ import annotations

import pytest
from distributed import Client, LocalCluster

from synth import WorldConfig, generate_world
from training.config import TrainConfig
from training.job import fit_and_evaluate


@pytest.mark.slow
def test_dask_training_on_local_cluster() -> None:
    world = generate_world(WorldConfig(n_therapists=60, n_intakes=1500, seed=4))
    config = TrainConfig(folds=3, dask_rounds=80, baselines=False)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        result = fit_and_evaluate(world.dataset, config, truth=world.truth, client=client)
    model = result.model
    assert model.outcome.current_iteration() == 80
    assert model.engagement is not None
    assert model.engagement.num_feature() == model.outcome.num_feature() + 1  # + position
    # Uplift is 0 for a random order by definition; the distributed model must do better.
    assert result.scorecard.loc["model", "uplift_at_5"] > 0
