"""The shipped sample world (``data/sample``) and how to regenerate it.

``python -m synth.sample [FOLDER]`` rewrites it (default: the repository's data/sample).
Sized for fast tests and the demo while giving most bookable therapists ~15+ outcomes, so a model
can learn track records.
"""

from __future__ import annotations

import sys
from pathlib import Path

from synth.config import WorldConfig
from synth.world import generate_world

SAMPLE_CONFIG = WorldConfig(n_therapists=250, n_intakes=8000, seed=2024)
SAMPLE_FOLDER = Path(__file__).resolve().parents[1] / "data" / "sample"


def write_sample(folder: str | Path = SAMPLE_FOLDER) -> Path:
    """Generate the sample world and write it (tables as CSV plus ``truth/``) to ``folder``."""
    return generate_world(SAMPLE_CONFIG).write(folder)


def main(argv: list[str] | None = None) -> None:
    """Entry point: write the sample world to the folder given (or data/sample)."""
    args = sys.argv[1:] if argv is None else argv
    folder = write_sample(Path(args[0]) if args else SAMPLE_FOLDER)
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()


__all__ = ["SAMPLE_CONFIG", "SAMPLE_FOLDER", "main", "write_sample"]
