"""Graded relevance labels from logged outcomes (SPEC §2), configurable."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import with_config

from core.config import STRICT


@with_config(STRICT)
@dataclass(frozen=True)
class LabelConfig:
    """Thresholds of the graded label.

    0 shown, not chosen · 1 chosen, < ``engaged_sessions`` sessions or dropped out ·
    2 ≥ ``engaged_sessions`` sessions · 3 ≥ ``retained_sessions`` sessions, not dropped out ·
    4 as 3 and reliable_improvement (or, where missing, alliance ≥ ``good_alliance``).
    """

    engaged_sessions: int = 2
    retained_sessions: int = 4
    good_alliance: float = 4.0


def graded_label(
    interactions: pd.DataFrame, config: LabelConfig | None = None
) -> npt.NDArray[np.int64]:
    """The 0–4 label of each interaction row (see :class:`LabelConfig`)."""
    cfg = config or LabelConfig()
    chosen = interactions["chosen"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    sessions = pd.to_numeric(interactions["sessions_attended"]).fillna(0).to_numpy()
    dropped = interactions["dropped_out"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ri = interactions["reliable_improvement"].astype("boolean")
    alliance = pd.to_numeric(interactions["alliance"]).astype("Float64")
    improved = ri.fillna(alliance.ge(cfg.good_alliance).fillna(False)).to_numpy(dtype=bool)
    label = np.where(chosen, 1, 0)
    label = np.where(chosen & ~dropped & (sessions >= cfg.engaged_sessions), 2, label)
    retained = chosen & ~dropped & (sessions >= cfg.retained_sessions)
    label = np.where(retained, 3, label)
    label = np.where(retained & improved, 4, label)
    return label.astype(np.int64)


__all__ = ["LabelConfig", "graded_label"]
