"""Regenerate the shipped sample world: ``python -m training.synth.sample [FOLDER]``."""

from __future__ import annotations

import sys
from pathlib import Path

from training.synth.config import WorldConfig
from training.synth.world import generate_world

SAMPLE = WorldConfig(n_therapists=300, n_intakes=6000, seed=7)
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "data" / "sample"


def main() -> None:
    """Write the sample world (default: ``data/sample``)."""
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER
    generate_world(SAMPLE).write(folder)
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
