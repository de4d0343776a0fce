"""``matcher simulate``: the closed loop (SPEC §7) — a synthetic world played against a running
service over HTTP, retrained from the service's own database round after round.

The world's side (arrivals, choices, outcomes, true value) is :mod:`synth.loop`; this module is
the driver: it starts the service (or talks to ``--url``), posts the round's intakes to
``/v1/matches`` and the drawn events to ``/v1/events``, retrains from the database with the
code of ``matcher train --from-db`` (the gate sees no truth: it decides off-policy), reloads the
service, and prints one row per round (docs/closed-loop.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.app import app, console, out
from cli.simulate.rounds import (
    Plan,
    RoundRow,
    offpolicy_vs_truth,
    post_events,
    reference_uplift,
    serve_round,
    simulate_config,
)
from cli.simulate.service import Service, choose_start, own_service, prepare_store
from cli.simulate.table import (
    TABLE_WIDTH,
    cell,
    experiment_lines,
    round_table,
    serving_versions,
    short_version,
)

if TYPE_CHECKING:
    from core.settings import Settings
    from synth.loop import ClosedLoop
    from training.config import TrainConfig


@app.command()
def simulate(
    world: Annotated[
        Path, typer.Option("--world", help="A synthetic world folder (matcher synth --out).")
    ],
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Rounds to play.")] = 4,
    requests: Annotated[
        int, typer.Option("--requests", min=1, help="Intakes requesting matches per round.")
    ] = 300,
    url: Annotated[
        str | None, typer.Option("--url", help="A running service (default: start one).")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="Admin API key for --url.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the choice and outcome draws.")] = 0,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Start from models:/NAME/VERSION (made @champion)."),
    ] = None,
    cold_start: Annotated[
        bool, typer.Option("--cold-start", help="Start with no model: the service ranks by rules.")
    ] = False,
    top_k: Annotated[int, typer.Option("--top-k", min=5, max=50)] = 5,
    quick: Annotated[
        bool, typer.Option("--quick", help="A small, fast retraining config.")
    ] = False,
    reference: Annotated[
        bool,
        typer.Option(
            "--reference/--no-reference",
            help="Also train offline on the world's logged history of the same intakes and "
            "show its uplift@5 on each round's intakes.",
        ),
    ] = False,
    as_json: Annotated[
        Path | None, typer.Option("--json", help="Also write the rounds to this JSON file.")
    ] = None,
    skip: Annotated[
        int,
        typer.Option(
            "--skip", min=0, help="Pass over the world's first N intakes (a model's history)."
        ),
    ] = 0,
    retrain: Annotated[
        bool,
        typer.Option("--retrain/--no-retrain", help="Retrain after each round (off: fixed arms)."),
    ] = True,
    gate_truth: Annotated[
        bool,
        typer.Option(
            "--gate-with-truth",
            help="The promotion gate compares uplift on the world's truth (default: off-policy, "
            "as on a real platform); training never sees the truth.",
        ),
    ] = False,
    experiment: Annotated[
        Path | None,
        typer.Option(
            "--experiment", help="JSON experiment definition PUT to /v1/experiments first."
        ),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=1, help="Start no new round after this (s).")
    ] = 3600.0,
) -> None:
    """Play a synthetic world against the service in rounds: matches, drawn choices and
    outcomes posted as events, retraining from the service's database, gate, reload
    (docs/closed-loop.md). The last line is ``final true uplift@5=<value>``."""

    from core.errors import ConfigError
    from core.settings import get_settings
    from synth import SyntheticWorld
    from synth.loop import ClosedLoop, json_records

    if cold_start and model:
        raise typer.BadParameter("give at most one of --cold-start and --model")
    if (url is None) != (key is None):
        raise typer.BadParameter("--url and --key go together")
    settings = get_settings()
    with console.status("loading the world"):
        loaded = SyntheticWorld.load(world)
        loop = ClosedLoop(loaded, seed=seed)
    if skip + rounds * requests > len(loop):
        raise ConfigError(
            f"{skip:,} skipped + {rounds} rounds × {requests} requests need "
            f"{skip + rounds * requests:,} intakes; the world has {len(loop):,}"
        )
    config = simulate_config(quick, seed)
    started = time.monotonic()
    start = choose_start(settings, cold_start=cold_start, model=model)
    if url is None:
        secret = prepare_store(settings, loaded.dataset.therapists)
        context = own_service(settings)
    else:
        assert key is not None
        secret, context = key, _given(url)
    with context as base:
        service = Service.connect(base, secret)
        try:
            if url is not None:
                bodies = json_records(loaded.dataset.therapists)
                for i in range(0, len(bodies), 1000):
                    service.ok(
                        "POST", "/v1/therapists:bulk", json={"therapists": bodies[i : i + 1000]}
                    )
            gate = "the world's truth" if gate_truth else "off-policy (no truth)"
            out.print(f"start: {start}; service {base}; world {world} ({len(loop):,} intakes)")
            out.print(f"promotion gate: {gate}")
            if url is not None and model is not None:
                service.ok("POST", "/v1/model/reload")  # serve the --model just made @champion
            if experiment is not None:
                body = json.loads(experiment.read_text())
                service.ok("PUT", "/v1/experiments", json=body)
                out.print(f"experiment {body.get('name')}: {experiment}")
            deadline = started + time_limit
            plan = Plan(rounds, requests, top_k, reference, deadline, skip, retrain, gate_truth)
            rows = _play(service, loop, settings, config, plan)
        finally:
            service.close()
    from rich.console import Console

    Console(width=max(out.width, TABLE_WIDTH), soft_wrap=True).print(round_table(rows, reference))
    if as_json is not None:
        as_json.write_text(json.dumps([asdict(r) for r in rows], indent=1, default=str) + "\n")
    for r in rows:
        for line in r.arms:
            out.print(f"  round {r.round} arm {line}", highlight=False)
    final = rows[-1].uplift if rows else float("nan")
    out.print(f"final true uplift@5={final:.4f}", highlight=False)


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def _play(
    service: Service, loop: ClosedLoop, settings: Settings, config: TrainConfig, plan: Plan
) -> list[RoundRow]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from api import export_database
    from synth.loop import event_payloads, json_records
    from training import tracking
    from training.job import run_training
    from training.promotion import load_champion

    rows: list[RoundRow] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("rounds", total=plan.rounds)
        for r in range(plan.rounds):
            if time.monotonic() > plan.deadline:
                console.print(f"[yellow]time limit reached after {r} round(s)[/yellow]")
                break
            t0 = time.monotonic()
            arrivals = loop.arrivals(r, plan.requests, skip=plan.skip)
            progress.update(task, description=f"round {r + 1}: matching")
            served, versions = serve_round(service, json_records(arrivals), plan.top_k)
            draws = loop.draw(served, r)
            progress.update(task, description=f"round {r + 1}: events")
            post_events(service, event_payloads(draws, loop.submitted))
            row = RoundRow(
                round=r + 1,
                requests=len(arrivals),
                lists=len(set(served.intake_ids.tolist())),
                choices=draws.choices,
                served_by=serving_versions(versions),
                uplift=loop.uplift(served, 5),
                value=loop.true_value(served.top(5)),
            )
            if plan.reference:
                progress.update(task, description=f"round {r + 1}: offline reference")
                row.reference = reference_uplift(
                    loop, (plan.skip, r * plan.requests), arrivals, settings, config
                )
            if plan.retrain:
                progress.update(task, description=f"round {r + 1}: retraining")
                dataset = export_database(settings.database)
                truth = loop.world.truth if plan.gate_truth else None
                result = run_training(dataset, config, settings, truth=truth)
                decision = result.decision
                promoted = decision is not None and decision.promoted
                verdict = "promoted" if promoted else "held"
                row.decision = f"{short_version(str(result.version))} {verdict}"
                if promoted:
                    service.ok("POST", "/v1/model/reload")
            else:
                dataset = export_database(settings.database)
                row.decision = "no retraining"
            champion, _ = load_champion(settings, tracking.configure(settings))
            if champion is not None:
                progress.update(task, description=f"round {r + 1}: off-policy vs truth")
                found = offpolicy_vs_truth(dataset, champion, config, loop, 5)
                if found is not None:
                    row.ope, row.ope_truth = found
            row.arms = experiment_lines(service)
            row.seconds = time.monotonic() - t0
            rows.append(row)
            console.print(
                f"round {row.round}: {row.requests} requests, {row.choices} choices, "
                f"uplift@5 {cell(row.uplift)}, {row.decision} ({row.seconds:.0f} s)",
                highlight=False,
            )
            progress.advance(task)
    return rows
