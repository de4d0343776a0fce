"""Typed configuration: training config files and the nested serving settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import MatcherConfig
from core.errors import ConfigError
from core.settings import Settings
from training.config import DEFAULT_BOOSTER, TrainConfig


def test_toml_config_builds_nested_typed_configs(tmp_path: Path) -> None:
    path = tmp_path / "train.toml"
    path.write_text(
        "seed = 7\ntop_k = [1, 3]\n[labels]\nretained_sessions = 5\n"
        "[booster]\nlearning_rate = 0.05\n"
        "[fairness]\nn_bootstrap = 50\n[fairness.thresholds.gini]\nwarn = 0.5\nfail = 0.7\n"
    )
    config = TrainConfig.from_file(path)
    assert config.seed == 7 and config.top_k == (1, 3)
    assert config.labels.retained_sessions == 5
    assert config.booster["learning_rate"] == 0.05
    assert config.booster["num_leaves"] == DEFAULT_BOOSTER["num_leaves"]
    assert config.fairness.n_bootstrap == 50
    assert (config.fairness.thresholds.gini.warn, config.fairness.thresholds.gini.fail) == (
        0.5,
        0.7,
    )


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("sed = 1\n", "sed"),
        ("[labels]\nretained = 4\n", "labels.retained"),
        ("[fairness.thresholds.gini]\nwarn = 0.9\nfail = 0.7\n", "fairness.thresholds.gini"),
        ("top_k = 'five'\n", "top_k"),
        # λ outside [0, 1] would negate or overweight a half of the outcome log-odds.
        ("outcome_linear_weight = 2.0\n", "outcome_linear_weight"),
        ("outcome_linear_weight = -0.5\n", "outcome_linear_weight"),
        ("outcome_linear_epv = -1\n", "outcome_linear_epv"),
    ],
)
def test_bad_config_is_one_error_naming_the_file_and_key(
    tmp_path: Path, text: str, names: str
) -> None:
    path = tmp_path / "train.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_file(path)
    message = str(caught.value)
    assert str(path) in message and names in message and "\n" not in message


def test_serving_settings_nest_and_forbid_unknown_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHER_SERVING__LOAD_PENALTY", "0.3")
    monkeypatch.setenv("MATCHER_SERVING__SEVERE_IN_PERSON_BOOST", "0.2")
    serving = Settings().serving
    assert serving == MatcherConfig(load_penalty=0.3, severe_in_person_boost=0.2)
    with pytest.raises(ValueError, match="bogus"):
        Settings(serving={"bogus": 1})


def test_example_config_holds_every_key_at_its_default() -> None:
    import dataclasses
    import tomllib

    path = Path(__file__).resolve().parents[1] / "docs" / "train-config.example.toml"
    assert TrainConfig.from_file(path) == TrainConfig()

    def keys(obj: object, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for f in dataclasses.fields(obj):  # type: ignore[arg-type]
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                out |= keys(value, f"{prefix}{f.name}.")
            elif f.name != "as_of":  # a timestamp; unset means "the latest in the data"
                out.add(prefix + f.name)
        return out

    def written(table: dict, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for k, v in table.items():
            nested = isinstance(v, dict) and k != "booster"
            out |= written(v, f"{prefix}{k}.") if nested else {prefix + k}
        return out

    assert written(tomllib.loads(path.read_text())) == keys(TrainConfig())
