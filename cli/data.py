"""``matcher validate`` and ``matcher synth``: check a data folder, make a synthetic world."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app, console, out

_WORLD_FILES = frozenset({"therapists", "intakes", "interactions", "truth"})


@app.command()
def validate(
    folder: Annotated[Path, typer.Argument(help="Folder with therapists/intakes/interactions.")],
) -> None:
    """Check a data folder against the data contract (docs/data-contract.md); every problem on
    its own line naming file, row and column."""
    from features.dataset import load_dataset

    dataset = load_dataset(folder)
    counts = ", ".join(f"{n:,} {name}" for name, n in dataset.summary().items())
    out.print(f"[green]ok[/green] {folder}: {counts}")


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the world to.")],
    therapists: Annotated[int, typer.Option(min=10, help="Number of therapists.")] = 300,
    intakes: Annotated[int, typer.Option(min=10, help="Number of intakes.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same world).")] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the tables and truth already in --out.")
    ] = False,
) -> None:
    """Generate a synthetic world: tables plus its hidden truth (docs/synthetic-world.md)."""
    from core.errors import ConfigError
    from features.dataset import load_dataset
    from synth import WorldConfig, generate_world

    existing = sorted(p.name for p in out_dir.glob("*") if p.stem in _WORLD_FILES)
    if existing and not force:
        raise ConfigError(
            f"{out_dir}: already holds {', '.join(existing)}; "
            "pass --force to replace them, or choose another --out"
        )

    with console.status("generating world"):
        world = generate_world(WorldConfig(n_therapists=therapists, n_intakes=intakes, seed=seed))
        world.write(out_dir)
    dataset = load_dataset(out_dir)
    counts = ", ".join(f"{n:,} {name}" for name, n in dataset.summary().items())
    out.print(f"[green]wrote[/green] {out_dir}: {counts} (validated)")
