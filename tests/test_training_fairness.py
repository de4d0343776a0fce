"""The offline fairness source: every training run logs the held-out fairness report; the
optional gate blocks promotion on a ``fail`` and says why; ``matcher fairness-report`` (offline)
writes and publishes the report with the mitigation trade-off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from cli import main
from core.errors import ConfigError, ModelNotFoundError
from core.settings import Settings, get_settings
from matcher.fairness import FairnessConfig, LevelThresholds, Thresholds
from synth import WorldConfig, generate_world
from training.config import TrainConfig
from training.job import run_training
from training.registry import load_served_model

FAIRNESS = FairnessConfig(n_bootstrap=30)
FAST = TrainConfig(folds=3, max_rounds=300, baselines=False, fairness=FAIRNESS)
IMPOSSIBLE = FairnessConfig(
    n_bootstrap=30,
    thresholds=Thresholds(
        gini=LevelThresholds(0.0, 0.0), exposure_disparity=LevelThresholds(0.0, 0.0)
    ),
)
"""Every Gini and exposure disparity is ≥ 0, so each one fails."""


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("world")
    return generate_world(WorldConfig(n_therapists=60, n_intakes=1500, seed=17)).write(folder)


def test_gate_blocks_promotion_on_a_fail_and_the_run_says_why(
    world_dir: Path, settings: Settings
) -> None:
    gated = FAST.with_overrides(fairness=IMPOSSIBLE, fairness_gate=True)
    blocked = run_training(world_dir, gated, settings)
    assert blocked.decision is not None and not blocked.decision.promoted
    assert blocked.decision.reason.startswith("fairness gate: ")
    assert "fairness figure(s) fail: " in blocked.decision.reason
    with pytest.raises(ModelNotFoundError):
        load_served_model(settings)

    client = MlflowClient(settings.tracking, settings.tracking)
    run = client.get_run(blocked.run_id)
    assert run.data.tags["promoted"] == "False"
    assert run.data.tags["promotion_reason"] == blocked.decision.reason
    assert run.data.tags["fairness_gate"] == "on"
    assert run.data.metrics["fairness_fail"] >= 1
    assert "fairness_warn" in run.data.metrics
    assert run.data.metrics["seconds_fairness"] >= 0  # measured and logged (speed: bench/)
    artifacts = {a.path for a in client.list_artifacts(blocked.run_id, "fairness")}
    assert artifacts == {"fairness/report.html", "fairness/report.json"}
    local = Path(client.download_artifacts(blocked.run_id, "fairness", str(settings.home)))
    report = json.loads((local / "report.json").read_text())
    assert report["summary"]["levels"]["fail"] == run.data.metrics["fairness_fail"]
    assert report["counts"]["eligible_pairs"] > 0 and report["tradeoff"] is not None
    assert "<html" in (local / "report.html").read_text()

    # The same failing report without the gate: logged, but promotion goes by the metric.
    ungated = run_training(world_dir, FAST.with_overrides(fairness=IMPOSSIBLE), settings)
    assert ungated.decision is not None and ungated.decision.promoted
    tags = client.get_run(ungated.run_id).data.tags
    assert tags["fairness_gate"] == "off" and "fairness figure(s) fail" in tags["fairness_verdict"]


def test_offline_cli_report_with_tradeoff(
    world_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MATCHER_HOME", str(home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    try:
        trained = run_training(world_dir, FAST, get_settings())
        out = tmp_path / "out" / "fairness.html"
        main(["fairness-report", "--data", str(world_dir), "--bootstrap", "30", "--out", str(out)])
        page = out.read_text()
        published = json.loads((home / "reports" / "fairness-offline.json").read_text())
        assert page == (home / "reports" / "fairness-offline.html").read_text()
        assert published["generated_at"] in page
        provenance = published["provenance"]
        assert provenance["source"] == "offline" and provenance["model_version"] == trained.version
        assert provenance["window_start"] <= provenance["window_end"]
        assert not (home / "reports" / "fairness-online.json").exists()
        rows = published["tradeoff"]["rows"]
        assert [r["strength"] for r in rows] == [0.0, 0.25, 0.5, 1.0]
        assert rows[0]["benefit_change"] == 0.0 and rows[-1]["benefit_change"] <= 0.0
        assert rows[-1]["gini"] <= rows[0]["gini"]
        assert trained.version is not None and trained.version in published["notes"][0]
        assert "truth" in published["notes"][0]  # the synthetic world's truth was used

        # --model picks another model; JSON by suffix.
        as_json = tmp_path / "v1.json"
        model_uri = f"models:/{get_settings().model_name}/1"
        main(["fairness-report", "--data", str(world_dir), "--model", model_uri,
              "--bootstrap", "20", "--out", str(as_json)])  # fmt: skip
        assert json.loads(as_json.read_text())["schema"] == "matcher.fairness-report"
    finally:
        get_settings.cache_clear()


def test_offline_cli_errors_are_one_line(
    world_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("MATCHER_HOME", str(tmp_path / "empty"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as done:
            main(["fairness-report", "--data", str(world_dir), "--out", str(tmp_path / "r.html")])
        assert done.value.code == 1
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if "error" in line]
        assert len(errors) == 1 and "no model at" in errors[0] and "Traceback" not in err
        assert not (tmp_path / "r.html").exists()
    finally:
        get_settings.cache_clear()


def test_fairness_settings_from_a_config_file(tmp_path: Path) -> None:
    path = tmp_path / "train.toml"
    path.write_text(
        "fairness_gate = true\n"
        "[fairness]\nn_bootstrap = 40\ntop_k = 3\n"
        "[fairness.thresholds]\nratio = 0.7\n"
        "[fairness.thresholds.gini]\nwarn = 0.5\nfail = 0.7\n"
        "[fairness.groups]\nexperience_edges = [5, 10]\n"
    )
    config = TrainConfig.from_file(path)
    assert config.fairness_gate
    assert config.fairness.n_bootstrap == 40 and config.fairness.top_k == 3
    assert config.fairness.thresholds.ratio == 0.7
    assert config.fairness.thresholds.gini == LevelThresholds(0.5, 0.7)
    assert config.fairness.groups.experience_edges == (5, 10)
    assert TrainConfig().fairness == FairnessConfig() and not TrainConfig().fairness_gate
    path.write_text("[fairness.thresholds.gini]\nwarn = 0.9\nfail = 0.1\n")
    with pytest.raises(ConfigError, match="fairness"):
        TrainConfig.from_file(path)
