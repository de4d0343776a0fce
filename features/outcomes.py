"""What counts as a good therapy outcome in logged history (SPEC §2 label 4, §5 U)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd


def good_outcome(interactions: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Whether each row is a chosen therapist with a good outcome.

    good = chosen ∧ sessions_attended ≥ 4 ∧ ¬dropped_out ∧ improved, where improved is
    reliable_improvement, or alliance ≥ 4 where reliable_improvement is missing.
    """
    chosen = interactions["chosen"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    sessions = pd.to_numeric(interactions["sessions_attended"]).fillna(0).to_numpy()
    dropped = interactions["dropped_out"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ri = interactions["reliable_improvement"].astype("boolean")
    alliance = pd.to_numeric(interactions["alliance"]).astype("Float64")
    improved = ri.fillna(alliance.ge(4).fillna(False)).to_numpy(dtype=bool)
    return chosen & (sessions >= 4) & ~dropped & improved


def has_outcome(interactions: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Chosen rows whose course is known (sessions_attended reported)."""
    chosen = interactions["chosen"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return chosen & interactions["sessions_attended"].notna().to_numpy()


__all__ = ["good_outcome", "has_outcome"]
