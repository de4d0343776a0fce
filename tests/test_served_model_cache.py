"""The local copy of the served model survives crashes between its update steps, and serving
never creates a tracking store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import ModelNotFoundError
from core.settings import Settings
from training.registry import _cache_model, load_served_model, repair_cache


def _model_dir(folder: Path, marker: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.json").write_text(json.dumps({"marker": marker}))
    return folder


def _leftovers(cache: Path) -> list[Path]:
    return [p for p in cache.parent.iterdir() if p.name not in (cache.name, f"{cache.name}.lock")]


def test_update_replaces_the_copy_and_clears_crash_leftovers(tmp_path: Path) -> None:
    cache = tmp_path / "home" / "served-model"
    _cache_model(_model_dir(tmp_path / "v1", "v1"), cache, "m/1", "models:/m@champion")
    # A crash in an earlier update left a staging folder and a retired copy behind.
    _model_dir(cache.with_name(f".{cache.name}.staging-dead"), "half")
    _model_dir(cache.with_name(f".{cache.name}.old-dead"), "old")
    _model_dir(cache.with_name(f"{cache.name}.old"), "legacy")  # the layout before this one
    _model_dir(cache.parent / ".staging-legacy" / "model", "legacy")
    _cache_model(_model_dir(tmp_path / "v2", "v2"), cache, "m/2", "models:/m@champion")
    assert json.loads((cache / "model.json").read_text())["marker"] == "v2"
    assert json.loads((cache / "served.json").read_text()) == {
        "version": "m/2",
        "uri": "models:/m@champion",
    }
    assert _leftovers(cache) == []


def test_crash_after_retiring_the_old_copy_is_undone(tmp_path: Path) -> None:
    cache = tmp_path / "home" / "served-model"
    _cache_model(_model_dir(tmp_path / "v1", "v1"), cache, "m/1", "models:/m@champion")
    cache.rename(cache.with_name(f".{cache.name}.old-crash"))  # the crash: no copy in place
    _model_dir(cache.with_name(f".{cache.name}.staging-crash"), "half")
    repair_cache(cache)
    assert json.loads((cache / "model.json").read_text())["marker"] == "v1"
    assert _leftovers(cache) == []


def test_serving_never_creates_the_tracking_store(tmp_path: Path) -> None:
    moved = tmp_path / "moved" / "mlflow.db"
    settings = Settings(home=tmp_path / "home", tracking_uri=f"sqlite:///{moved}")
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_served_model(settings)
    assert not moved.exists()
    assert not moved.parent.exists()


def test_resolving_uses_the_configured_store_and_creates_none_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(store, store).create_registered_model("therapist-matcher")  # no versions
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    settings = Settings(home=tmp_path / "home", tracking_uri=store)
    with pytest.raises(ModelNotFoundError, match="therapist-matcher"):
        load_served_model(settings)
    assert list(workdir.iterdir()) == []
