"""``matcher validate`` and ``matcher synth``: check a data folder, make a synthetic world."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app, console, out


@app.command()
def validate(
    folder: Annotated[Path, typer.Argument(help="Folder with therapists/intakes/interactions.")],
) -> None:
    """Check a data folder against the data contract; every problem on its own line."""
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
) -> None:
    """Generate a synthetic world (tables + hidden truth) calibrated to SPEC §5."""
    from features.dataset import load_dataset
    from synth import WorldConfig, generate_world

    with console.status("generating world"):
        world = generate_world(WorldConfig(n_therapists=therapists, n_intakes=intakes, seed=seed))
        world.write(out_dir)
    dataset = load_dataset(out_dir)
    counts = ", ".join(f"{n:,} {name}" for name, n in dataset.summary().items())
    out.print(f"[green]wrote[/green] {out_dir}: {counts} (validated)")
