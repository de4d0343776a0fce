"""``matcher evaluate``: SPEC §7 JSON, policies beside logging and rules, estimated propensities."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from cli.main import main
from features.dataset import load_dataset, write_dataset
from synth import WorldConfig, generate_world
from training.config import TrainConfig
from training.job import fit_and_evaluate


@pytest.fixture(scope="module")
def world_and_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("eval")
    folder = generate_world(WorldConfig(n_therapists=80, n_intakes=1200, seed=21)).write(
        root / "world"
    )
    result = fit_and_evaluate(
        load_dataset(folder), TrainConfig(folds=3, max_rounds=200, baselines=False)
    )
    model_dir = result.model.save(root / "model")
    return folder, model_dir


def _run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--json"])
        raise SystemExit(0)
    assert exit_info.value.code in (0, None)
    return json.loads(capsys.readouterr().out)


def test_json_has_the_spec_shape_and_every_policy(
    world_and_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, model_dir = world_and_model
    ranked = tmp_path / "ranked.csv"
    inter = load_dataset(folder).interactions
    # a "ranked file": the logged lists themselves, plus the row `matcher rank` writes for an
    # intake that got no list (crisis or nobody eligible), which must be ignored
    lists = inter.rename(columns={"position": "rank"})[["intake_id", "therapist_id", "rank"]]
    no_list = pd.DataFrame({"intake_id": [inter["intake_id"].iloc[0]], "status": ["crisis"]})
    pd.concat([lists.assign(status="matched"), no_list]).to_csv(ranked, index=False)
    doc = _run_json(
        ["evaluate", "--data", str(folder), "--model", str(model_dir), "--ranked", str(ranked)],
        capsys,
    )
    assert set(doc) == {"policies", "caveats"}
    rows = doc["policies"]
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) == {"name", "estimator", "value", "ci_low", "ci_high", "n"}
        assert row["ci_low"] <= row["value"] <= row["ci_high"]
    names = {(r["name"], r["estimator"]) for r in rows}
    assert ("logging", "observed") in names
    for name in ("rules", str(model_dir), str(ranked)):
        assert {(name, e) for e in ("ips", "snips", "pbm_ips", "pbm_snips", "dr")} <= names
    logging = next(r for r in rows if r["name"] == "logging")
    assert logging["value"] == pytest.approx(
        (
            inter["chosen"]
            & inter["reliable_improvement"].fillna(False)
            & (inter["sessions_attended"].fillna(0) >= 4)
            & ~inter["dropped_out"].fillna(False)
        ).sum()
        / inter["intake_id"].nunique()
    )


def test_history_without_propensities_says_how_it_got_them(
    world_and_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, model_dir = world_and_model
    data = load_dataset(folder)
    old = data.interactions.drop(columns=["propensity", "shown_propensity", "policy"])
    write_dataset(dataclasses.replace(data, interactions=old), tmp_path / "old")
    doc = _run_json(
        ["evaluate", "--data", str(tmp_path / "old"), "--model", str(model_dir)], capsys
    )
    caveats = " ".join(map(str, doc["caveats"]))
    assert "had no propensity" in caveats and "estimated" in caveats
    values = pd.DataFrame(doc["policies"])
    assert values["value"].notna().all()
