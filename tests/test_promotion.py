"""Promotion on evidence: the champion is re-scored on the candidate's held-out data (issue 8)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import pytest

from core.settings import Settings
from features.dataset import load_dataset
from synth import WorldConfig, WorldTruth, generate_world
from training.config import TrainConfig
from training.job import run_training
from training.model_uris import load_model_uri
from training.promotion import _uplift, held_out, past_only

FAST = TrainConfig(folds=3, max_rounds=300, baselines=False)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("worlds")
    a = generate_world(WorldConfig(n_therapists=80, n_intakes=1500, seed=11)).write(root / "a")
    b = generate_world(WorldConfig(n_therapists=80, n_intakes=1500, seed=12)).write(root / "b")
    blind = root / "b_without_truth"
    shutil.copytree(b, blind)
    shutil.rmtree(blind / "truth")
    return a, b, blind


@pytest.mark.slow
def test_champion_from_another_world_is_rescored_not_compared_by_its_old_number(
    worlds: tuple[Path, Path, Path], settings: Settings
) -> None:
    a, b, _ = worlds
    first = run_training(a, FAST, settings)
    # Before any champion the service serves the rules: the first model must beat them.
    opening = first.evidence
    assert opening is not None and opening.champion_version == "rules"
    assert opening.champion is not None and 0 < opening.champion < 1
    assert first.decision is not None and "rules baseline" in first.decision.reason
    assert first.decision.promoted == (opening.candidate > opening.champion)
    old_number = first.metrics["uplift_at_5"]
    second = run_training(b, FAST, settings)
    evidence = second.evidence
    assert evidence is not None and evidence.champion is not None
    champion = load_model_uri(settings, f"models:/{first.version}")
    train, valid = held_out(load_dataset(b), FAST)
    rescored, _ = _uplift(past_only(champion, train), valid, WorldTruth.load(b), FAST)
    assert evidence.champion == pytest.approx(rescored)
    assert evidence.champion != pytest.approx(old_number)
    assert second.decision is not None
    assert str(first.version) in second.decision.reason
    assert "same held-out" in second.decision.reason
    assert second.decision.promoted == (evidence.candidate > evidence.champion)


def test_without_truth_the_gate_uses_the_off_policy_difference(
    worlds: tuple[Path, Path, Path], settings: Settings
) -> None:
    a, _, blind = worlds
    run_training(a, FAST, settings)
    result = run_training(blind, FAST, settings)
    evidence = result.evidence
    assert evidence is not None and evidence.basis == "off-policy choice_dr"
    assert evidence.ci_low is not None and evidence.ci_high is not None
    assert evidence.difference is not None
    assert evidence.ci_low <= evidence.difference <= evidence.ci_high
    rule_holds = evidence.difference > 0 and evidence.ci_low > -0.01
    assert result.decision is not None and result.decision.promoted == rule_holds
    run = mlflow.get_run(str(result.run_id))
    assert run.data.tags["gate_basis"] == "off-policy choice_dr"
    assert "gate_difference" in run.data.metrics
    local = mlflow.artifacts.download_artifacts(
        run_id=str(result.run_id), artifact_path="gate.json"
    )
    doc = json.loads(Path(local).read_text())
    assert doc["decision"] == result.decision.promoted
    assert doc["rule"].startswith("promote iff")
