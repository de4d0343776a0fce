"""Training end to end into a temporary MLflow store; promotion gate; batch ranking."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from cli import main
from core.errors import DataValidationError
from core.settings import Settings
from features.dataset import load_dataset
from matcher.engine import Matcher
from matcher.results import Status
from synth import WorldConfig, generate_world
from training.config import TrainConfig
from training.job import run_training
from training.registry import load_served_model

FAST = TrainConfig(folds=3, max_rounds=300, baselines=False)


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("world")
    return generate_world(WorldConfig(n_therapists=80, n_intakes=1500, seed=11)).write(folder)


def _versions(settings: Settings) -> list[str]:
    client = MlflowClient(settings.tracking, settings.tracking)
    return [mv.version for mv in client.search_model_versions(f"name='{settings.model_name}'")]


def test_train_register_load_and_rank(world_dir: Path, settings: Settings) -> None:
    result = run_training(world_dir, FAST, settings)
    assert result.decision is not None and result.decision.promoted
    assert "uplift_at_5" in result.scorecard.columns and "profile_oracle" in result.scorecard.index
    # A serving process has no global MLflow store of its own: the settings alone must suffice.
    mlflow.set_tracking_uri(f"sqlite:///{settings.home / 'elsewhere.db'}")
    mlflow.set_registry_uri(f"sqlite:///{settings.home / 'elsewhere.db'}")
    try:
        model = load_served_model(settings)
    finally:
        mlflow.set_tracking_uri(settings.tracking)
        mlflow.set_registry_uri(settings.tracking)
    assert model.version == result.version
    ds = load_dataset(world_dir)
    matcher = Matcher(model, ds.therapists)
    results = matcher.match_frame(ds.intakes.head(60), top_k=5)
    for r in results:
        assert len(r.matches) <= 5
        assert [m.rank for m in r.matches] == list(range(1, len(r.matches) + 1))
        if r.status is Status.MATCHED:
            assert all(m.reasons for m in r.matches)
    # A restart without the tracking store still serves the last good model.
    offline = settings.model_copy(
        update={"tracking_uri": f"sqlite:///{settings.home}/missing/x.db"}
    )
    assert load_served_model(offline).version == result.version


@pytest.mark.slow
def test_promotion_gate_both_ways(world_dir: Path, settings: Settings) -> None:
    first = run_training(world_dir, FAST, settings)
    same = run_training(world_dir, FAST, settings)
    assert first.decision and first.decision.promoted
    assert same.decision and not same.decision.promoted  # equal is not better
    assert "does not beat" in same.decision.reason
    forced = run_training(world_dir, FAST, settings, promote_override=True)
    assert forced.decision and forced.decision.promoted
    assert load_served_model(settings).version == forced.version
    kept = run_training(world_dir, FAST, settings, promote_override=False)
    assert kept.decision and not kept.decision.promoted
    assert load_served_model(settings).version == forced.version


def test_failed_validation_registers_nothing(
    tmp_path: Path, world_dir: Path, settings: Settings
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("therapists", "intakes", "interactions"):
        (bad / f"{name}.csv").write_bytes((world_dir / f"{name}.csv").read_bytes())
    frame = pd.read_csv(bad / "therapists.csv", dtype=str)
    frame.loc[3, "specialties"] = "anxiety;astrology"
    frame.to_csv(bad / "therapists.csv", index=False)
    with pytest.raises(DataValidationError):
        run_training(bad, FAST, settings)
    assert _versions(settings) == []


def test_rank_cli_writes_rows_and_applies_safety(
    world_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MATCHER_HOME", str(home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    from core.settings import get_settings

    get_settings.cache_clear()
    run_training(world_dir, FAST, get_settings())
    out = tmp_path / "ranked.parquet"
    main(
        [
            "rank",
            "--data",
            str(world_dir),
            "--intakes",
            str(world_dir / "intakes.csv"),
            "--top-k",
            "3",
            "--out",
            str(out),
        ]
    )
    get_settings.cache_clear()
    every = pd.read_parquet(out)
    assert list(every.columns) == ["intake_id", "therapist_id", "rank", "score", "status", "flags"]
    ds = load_dataset(world_dir)
    assert set(every["intake_id"]) == set(ds.intakes["intake_id"])
    ranked = every[every["status"] == "matched"]
    assert ranked["therapist_id"].notna().all()
    assert ranked.groupby("intake_id")["rank"].max().max() <= 3
    intakes = ds.intakes.set_index("intake_id")
    crisis = intakes.index[intakes["crisis_now"].astype(bool) | (intakes["phq9_item9"] >= 2)]
    crisis_rows = every[every["intake_id"].isin(crisis)]
    assert len(crisis) and (crisis_rows["status"] == "crisis").all()
    assert crisis_rows["therapist_id"].isna().all()
    assert crisis_rows["flags"].str.contains("clinical_follow_up").all()
    watch = intakes.index[intakes["phq9_item9"] == 1]
    trained = set(ds.therapists.loc[ds.therapists["crisis_trained"].astype(bool), "therapist_id"])
    assert ranked.loc[ranked["intake_id"].isin(watch), "therapist_id"].isin(trained).all()


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["validate", str(tmp_path / "nowhere")])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "not a folder" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["train"], "exactly one of --data DIR or --from-db"),
        (["rank", "--data", "x"], "Missing"),
        (["synth", "--out", "x", "--therapists", "3"], "--therapists"),
    ],
)
def test_cli_usage_errors_exit_nonzero_without_traceback(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code not in (0, None)
    captured = capsys.readouterr()
    text = captured.err + captured.out
    assert says in text and "Traceback" not in text


@pytest.mark.slow
def test_model_beats_baselines_and_profile_oracle_on_shipped_world() -> None:
    """SPEC §6 quality on the shipped world: the engine learns track records beyond profiles."""
    from training.job import fit_and_evaluate, load_truth

    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    result = fit_and_evaluate(load_dataset(sample), TrainConfig(), truth=load_truth(sample))
    uplift = result.scorecard["uplift_at_5"]
    for other in ("random", "rules", "logistic", "lambdarank_logged", "profile_oracle"):
        assert uplift["model"] > uplift[other], (other, uplift.to_dict())


def test_cv_folds_keep_intakes_whole_and_cover_every_row() -> None:
    import numpy as np

    from training.fit import group_folds

    group = np.repeat(np.arange(40), 3)
    folds = group_folds(group, 5, seed=0)
    seen = np.concatenate([valid for _, valid in folds])
    assert sorted(seen.tolist()) == list(range(len(group)))
    for train, valid in folds:
        assert not set(group[train]) & set(group[valid])
