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
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.app import app, console, out
from core.errors import MatcherError

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from core.settings import Settings
    from matcher.model import MatchModel
    from synth.loop import ClosedLoop, ServedLists
    from training.config import TrainConfig

START_DEADLINE_S = 120.0
HTTP_TIMEOUT_S = 60.0
EVENT_WORKERS = 4
"""Events are posted by a few threads at once (the service is I/O bound on them)."""
SERVE_LOG = "simulate-server.log"
TABLE_WIDTH = 150
"""The round table is printed this wide at least (a log or a pipe is 80 columns)."""


class ServiceError(MatcherError):
    """The service answered something the simulator cannot go on from (one-line CLI error)."""


class Service:
    """The HTTP side: one keep-alive client with the bearer key, retries on 429; requests go
    out ``workers`` at a time."""

    def __init__(self, client: httpx.Client, key: str, *, workers: int = EVENT_WORKERS) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}
        self.workers = workers

    @classmethod
    def connect(cls, url: str, key: str) -> Service:
        """A service at ``url``."""
        import httpx

        return cls(
            httpx.Client(base_url=url.rstrip("/"), timeout=HTTP_TIMEOUT_S, trust_env=False), key
        )

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a 429 waits ``Retry-After`` and tries again (at most 20 times)."""
        headers = self.headers | kwargs.pop("headers", {})
        for _ in range(20):
            response = self.client.request(method, path, headers=headers, **kwargs)
            if response.status_code != 429:
                return response
            threading.Event().wait(float(response.headers.get("Retry-After", "1")))
        return response

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a 2xx answer; anything else is a :class:`ServiceError` naming it."""
        response = self.call(method, path, **kwargs)
        if response.status_code >= 300:
            raise ServiceError(
                f"{method} {path}: HTTP {response.status_code} {response.text[:300]}"
            )
        return response.json()

    def close(self) -> None:
        self.client.close()


@dataclass
class RoundRow:
    """What one round printed."""

    round: int
    requests: int
    lists: int
    choices: int
    served_by: str
    uplift: float
    value: float
    reference: float | None = None
    decision: str = ""
    ope: tuple[float, float, float] | None = None
    ope_truth: float | None = None
    arms: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Plan:
    """How long the run is."""

    rounds: int
    requests: int
    top_k: int
    reference: bool
    deadline: float
    skip: int = 0
    """World intakes passed over before round 1 (the history a given model was trained on)."""
    retrain: bool = True
    gate_truth: bool = False
    """Let the promotion gate read the world's truth (uplift on held-out intakes) instead of
    deciding off-policy; training itself never sees it."""
    """time.monotonic() after which no new round starts."""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def own_service(settings: Settings) -> Iterator[str]:
    """``matcher serve`` as a subprocess on a free loopback port, its store the simulator's
    (``MATCHER_HOME``); safe exploration on so the logs carry propensities; stopped at the end.
    Yields its base URL."""
    import httpx

    port = _free_port()
    env = {
        **os.environ,
        "MATCHER_HOME": str(settings.home),
        "MATCHER_DATABASE_URL": settings.database,
        "MLFLOW_TRACKING_URI": settings.tracking,
        "MATCHER_RATE_LIMIT_PER_MINUTE": "100000000",
        "MATCHER_SERVING__EXPLORATION": "true",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = settings.home / SERVE_LOG
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        end = time.monotonic() + START_DEADLINE_S
        pause = threading.Event()
        while True:
            if proc.poll() is not None:
                raise ServiceError(f"the service exited at start (see {log_path})")
            try:
                if httpx.get(f"{base}/healthz", timeout=2.0, trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > end:
                raise ServiceError(f"the service did not start in {START_DEADLINE_S:.0f} s")
            pause.wait(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def prepare_store(settings: Settings, therapists: pd.DataFrame) -> str:
    """Load the world's pool into the simulator's own database and mint an admin key."""
    from api import create_api_key, open_database
    from api.storage import upsert_therapists

    settings.home.mkdir(parents=True, exist_ok=True)
    db = open_database(settings.database)
    try:
        with db.session() as session:
            upsert_therapists(session, therapists)
            session.commit()
            return create_api_key(session, f"simulate-{time.time_ns()}", ["admin"])
    finally:
        db.dispose()


def choose_start(settings: Settings, *, cold_start: bool, model: str | None) -> str:
    """Make the registry's ``@champion`` what the run starts from; returns a description."""
    from core.errors import ConfigError
    from training import tracking
    from training.promotion import load_champion
    from training.registry import CHAMPION, promote

    registry = tracking.configure(settings)
    champion, version = load_champion(settings, registry)
    if cold_start:
        if champion is not None:
            raise ConfigError(
                f"--cold-start needs a registry without @{CHAMPION} ({version} is one); "
                "set MATCHER_HOME to an empty folder"
            )
        return "cold start (rules)"
    if model is not None:
        name, _, number = model.removeprefix("models:/").partition("/")
        if not model.startswith("models:/") or not number.isdigit():
            raise ConfigError("--model must be models:/NAME/VERSION from the registry")
        if name != settings.model_name:
            raise ConfigError(f"--model must be a version of {settings.model_name}")
        promote(registry, name, number)
        return f"{name}/{number}"
    if champion is None:
        raise ConfigError(
            f"no @{CHAMPION} to start from: pass --cold-start, or train one (matcher train)"
        )
    return str(version)


def serve_round(
    service: Service, bodies: list[dict[str, Any]], top_k: int
) -> tuple[ServedLists, dict[str, int]]:
    """POST each intake to /v1/matches; the lists served and the count per model version."""
    from synth.loop import ServedLists

    intakes: list[str] = []
    therapists: list[str] = []
    positions: list[int] = []
    versions: dict[str, int] = {}

    def one(body: dict[str, Any]) -> dict[str, Any]:
        return dict(service.ok("POST", "/v1/matches", json=body | {"top_k": top_k}))

    with ThreadPoolExecutor(service.workers) as pool:
        answers = list(pool.map(one, bodies))
    for answer in answers:
        versions[answer["model_version"]] = versions.get(answer["model_version"], 0) + 1
        for m in answer["matches"]:
            intakes.append(answer["intake_id"])
            therapists.append(m["therapist_id"])
            positions.append(int(m["rank"]))
    return ServedLists.of(intakes, therapists, positions), versions


def post_events(service: Service, events: list[dict[str, Any]]) -> None:
    """POST every event (a few threads at once); any refusal stops the run."""

    def one(body: dict[str, Any]) -> None:
        service.ok("POST", "/v1/events", json=body)

    with ThreadPoolExecutor(service.workers) as pool:
        list(pool.map(one, events))


def simulate_config(quick: bool, seed: int) -> TrainConfig:
    """The retraining config: the defaults without baselines (the loop never reads them);
    ``quick`` also trims folds, boosting rounds and the fairness bootstrap."""
    from matcher.fairness import FairnessConfig
    from training.config import TrainConfig

    if quick:
        return TrainConfig(
            seed=seed,
            folds=2,
            max_rounds=150,
            baselines=False,
            max_truth_intakes=500,
            fairness=FairnessConfig(n_bootstrap=20, min_group_size=5),
        )
    return TrainConfig(
        seed=seed,
        folds=3,
        max_rounds=600,
        baselines=False,
        fairness=FairnessConfig(n_bootstrap=50),
    )


def offpolicy_vs_truth(
    dataset: Any, model: MatchModel, config: TrainConfig, loop: ClosedLoop, top_k: int
) -> tuple[tuple[float, float, float], float] | None:
    """The doubly robust estimate (95% interval) of ``model``'s good outcomes per intake at
    top-``top_k``, as ``matcher evaluate`` computes it, on the held-out logs of the gate's split
    (track records from the training part only) — and the world's true value of the same lists
    on the same intakes."""
    from training.offpolicy.evaluate import OffPolicyContext
    from training.offpolicy.report import HEADLINE
    from training.promotion import held_out, past_only

    train, valid = held_out(dataset, config)
    if len(valid.interactions) == 0:
        return None
    fair = past_only(model, train)
    ctx = OffPolicyContext(valid, fair, labels=config.labels)
    lists = ctx.lists_of(fair, top_k)
    est = next(e for e in ctx.estimate("served", lists) if e.estimator == HEADLINE)
    ids = ctx.feedback.intake_ids
    truth = loop.replay.value(
        ids[lists.group], lists.therapist_ids, lists.position, over=ids, seed=loop.seed
    )
    return (est.value, est.ci_low, est.ci_high), truth


def reference_uplift(
    loop: ClosedLoop,
    seen: tuple[int, int],
    arrivals: pd.DataFrame,
    settings: Settings,
    config: TrainConfig,
) -> float | None:
    """Uplift@5 on this round's intakes of a model trained offline on the world's own logged
    history of the intakes the loop has served so far (``seen`` = (first, count) in arrival
    order): the same amount of history, logged by the world's old policy."""
    from matcher.engine import Matcher
    from synth.loop import ServedLists
    from training.job import fit_and_evaluate
    from training.splits import subset

    first, used = seen
    if used == 0:
        return None
    history = subset(loop.world.dataset, loop.history_ids(first, used))
    model = fit_and_evaluate(history, config).model
    matcher = Matcher(model, loop.world.dataset.therapists, settings.serving)
    results = matcher.match_frame(arrivals, top_k=5)
    rows = [(r.intake_id, m.therapist_id, int(m.rank)) for r in results for m in r.matches]
    if not rows:
        return None
    served = ServedLists.of(*zip(*rows, strict=True))  # type: ignore[arg-type]
    return loop.uplift(served, 5)


SHOWN_RATES = ("chose", "good")
"""Experiment report rates printed per arm (the report itself holds every metric)."""


def _figure(fig: dict[str, Any] | None) -> str:
    if not fig or fig.get("value") is None:
        return "—"
    lo, hi = fig.get("ci_low"), fig.get("ci_high")
    ci = "" if lo is None or hi is None else f" ({lo:+.3f} to {hi:+.3f})"
    return f"{fig['value']:+.3f}{ci}" if ci else f"{fig['value']:.3f}"


def experiment_lines(service: Service) -> list[str]:
    """One line per arm of ``GET /v1/reports/experiments`` (JSON): lists shown, the choice and
    good-outcome rates per intake with 95% intervals and their difference to the champion.
    None when the service has no such route or no experiment."""
    response = service.call("GET", "/v1/reports/experiments", params={"format": "json"})
    if response.status_code != 200:
        return []
    doc = response.json()
    lines = []
    for arm in doc.get("arms", []) if isinstance(doc, dict) else []:
        head = f"{arm.get('arm')} ({','.join(_short(v) for v in arm.get('model_versions', []))})"
        parts = [f"lists {arm.get('lists')}"]
        if not arm.get("enough_data", True):
            parts.append(str(arm.get("note") or "too little data"))
        for metric in arm.get("metrics", []):
            if metric.get("metric") not in SHOWN_RATES:
                continue
            est = metric.get("estimate") or {}
            value = est.get("value")
            if value is not None:
                lo, hi = est.get("ci_low"), est.get("ci_high")
                parts.append(f"{metric['metric']} {value:.3f} ({lo:.3f}–{hi:.3f})")
            if metric.get("difference"):
                parts.append(f"Δ{metric['metric']} {_figure(metric['difference'])}")
        if arm.get("off_policy"):
            parts.append(f"off-policy {_figure(arm['off_policy'].get('estimate'))}")
        lines.append(f"{head}: " + " · ".join(parts))
    return lines


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "—" if value is None or math.isnan(value) else format(value, spec)


def _short(version: str) -> str:
    """``therapist-matcher/3`` → ``v3``; ``rules`` stays."""
    tail = version.rsplit("/", 1)[-1]
    return f"v{tail}" if tail.isdigit() else version


def _versions(counts: dict[str, int]) -> str:
    """Who served the round: ``v3``, or ``v3:251,v4:249`` when arms split it."""
    if len(counts) == 1:
        return _short(next(iter(counts)))
    return ",".join(f"{_short(v)}:{n}" for v, n in sorted(counts.items()))


def round_table(rows: list[RoundRow], reference: bool) -> Any:
    """The per-round table."""
    from rich import box
    from rich.table import Table

    table = Table(
        title="closed loop, one row per round",
        box=box.SIMPLE,
        caption="uplift@5, good: true uplift captured and good outcomes/intake of the lists "
        "served · ref: offline model on the same history · ope: DR estimate (95%) of the "
        "champion after the round on held-out logs, truth: its true value there",
    )
    for col in ("round", "req", "lists", "chose", "served", "uplift@5", "good"):
        table.add_column(col, justify="left" if col == "served" else "right")
    if reference:
        table.add_column("ref@5", justify="right")
    for col in ("ope", "95% ci", "truth", "gate"):
        table.add_column(col, justify="left" if col == "gate" else "right")
    for r in rows:
        cells = [
            str(r.round),
            str(r.requests),
            str(r.lists),
            str(r.choices),
            r.served_by,
            _fmt(r.uplift),
            _fmt(r.value),
        ]
        if reference:
            cells.append(_fmt(r.reference))
        ci = "—" if r.ope is None else f"{r.ope[1]:.3f}–{r.ope[2]:.3f}"
        cells += [_fmt(None if r.ope is None else r.ope[0]), ci, _fmt(r.ope_truth), r.decision]
        table.add_row(*cells)
    return table


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
                served_by=_versions(versions),
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
                row.decision = f"{_short(str(result.version))} {verdict}"
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
                f"uplift@5 {_fmt(row.uplift)}, {row.decision} ({row.seconds:.0f} s)",
                highlight=False,
            )
            progress.advance(task)
    return rows
