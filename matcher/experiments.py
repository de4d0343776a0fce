"""Experiment assignment: which arm serves a client, by a pure hash every process agrees on.

u(unit) = first 8 bytes of sha256(experiment name ∥ 0x00 ∥ unit), big-endian, / 2⁶⁴ ∈ [0, 1).
The live arms take consecutive intervals [c_{k−1}, c_k) of their shares (c_k = Σ_{j≤k} share_j,
in the experiment's order); u ≥ c_K is the champion. The unit is the client id, else the intake
id, so a client keeps their arm across requests (sticky) and in every process (no state).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from core.config import CHAMPION_ARM, ExperimentConfig

_SCALE = float(2**64)


def assignment_unit(client_id: str | None, intake_id: str) -> str:
    """What an experiment assigns: the client, else (no client id) the intake."""
    return f"client:{client_id}" if client_id else f"intake:{intake_id}"


def bucket(experiment: str, unit: str) -> float:
    """u ∈ [0, 1) of ``unit`` in ``experiment`` (module docstring)."""
    digest = hashlib.sha256(f"{experiment}\x00{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def buckets(experiment: str, units: Sequence[str]) -> npt.NDArray[np.float64]:
    """:func:`bucket` of many units."""
    return np.fromiter((bucket(experiment, u) for u in units), np.float64, len(units))


def assign(config: ExperimentConfig, unit: str) -> str:
    """The arm (a live arm's name, or ``champion``) that serves ``unit``."""
    return assign_buckets(config, np.array([bucket(config.name, unit)]))[0]


def assign_buckets(config: ExperimentConfig, u: npt.NDArray[np.float64]) -> list[str]:
    """The arm of each bucket value ``u``: searchsorted over the cumulative live shares."""
    live = config.live
    edges = np.cumsum([a.share for a in live])
    names = [a.name for a in live] + [CHAMPION_ARM]
    index = np.searchsorted(edges, u, side="right")
    return [names[k] for k in index.tolist()]


__all__ = ["assign", "assign_buckets", "assignment_unit", "bucket", "buckets"]
