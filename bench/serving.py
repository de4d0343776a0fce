"""Serving latency: in-process matching on a 20,000-therapist pool, and over HTTP.

Run: ``python bench/serving.py [--requests N] [--http] [--shadow] [--pool-ops 50000]``. One run
prints p50/p95/p99 per scenario, the share of time spent outside the model's own predict calls
(and, apart, outside those and phase one's linear proxy), and (with ``--http``) the same over
uvicorn with 8 concurrent clients. SPEC §6 targets: p99 ≤ 10 ms with the pool split across 50
regions, ≤ 50 ms when one region holds all 20,000; ≤ 35 % of time outside predict; HTTP p99 ≤ 30
ms at 8 concurrent clients with 0 errors and throughput ≥ 0.8 × (cores ÷ in-process CPU seconds
per match), printed as a multiple of that target. ``--pool-ops`` alone: the pool's upkeep at that
size (whole-pool read, one upsert/delete, catch_up).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds scripts named like the packages (features.py, training.py); keep it off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pycountry  # noqa: E402

from api.schemas import MatchRequest  # noqa: E402
from api.storage.records import frame_records  # noqa: E402
from core.config import MatcherConfig  # noqa: E402
from features.dataset import load_dataset  # noqa: E402
from features.schemas import INTAKES  # noqa: E402
from matcher.engine import Matcher  # noqa: E402
from matcher.model import MatchModel  # noqa: E402
from matcher.triage import triage  # noqa: E402
from synth import WorldConfig, generate_world  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.job import fit_and_evaluate  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
HOST = "127.0.0.1"
READY_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 30.0
WARMUP_PER_CLIENT = 5
# The per-key rate limit (600/min by default) would answer most of a load test with 429: the bench
# lifts it so the figures are about serving, not about the limiter.
BENCH_RATE_LIMIT = 10_000_000


class PredictTimer:
    """Wraps a booster's ``predict`` (or another method: ``name``) to add up the time spent
    inside it."""

    def __init__(self, booster: Any, name: str = "predict") -> None:
        self.booster = booster
        self.name = name
        self.inner: Callable[..., Any] = getattr(booster, name)
        self.seconds = 0.0
        setattr(booster, name, self)

    def restore(self) -> None:
        """Put the wrapped method back."""
        setattr(self.booster, self.name, self.inner)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def regional_world(
    n_therapists: int, n_regions: int, n_intakes: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic pool and intakes relabelled onto ``n_regions`` regions."""
    world = generate_world(WorldConfig(n_therapists=n_therapists, n_intakes=n_intakes, seed=9))
    therapists = world.dataset.therapists.copy()
    intakes = world.dataset.intakes.copy()
    rng = np.random.default_rng(0)
    # Real ISO 3166-2 codes, as the input contract requires: the 50 US states.
    states = sorted(
        s.code for s in pycountry.subdivisions.get(country_code="US") if s.type == "State"
    )
    names = states[:n_regions]
    therapists["licensed_regions"] = [
        [names[k]] for k in rng.integers(0, n_regions, len(therapists))
    ]
    intakes["region"] = [names[k] for k in rng.integers(0, n_regions, len(intakes))]
    # Keep clinical routing out of the latency figures: every request is a standard match.
    intakes["phq9_item9"] = pd.array([0] * len(intakes), dtype="Int64")
    intakes["crisis_now"] = pd.array([False] * len(intakes), dtype="boolean")
    return therapists, intakes


def percentiles(ms: list[float]) -> str:
    """p50/p95/p99 in milliseconds."""
    p = np.percentile(ms, [50, 95, 99])
    return f"p50 {p[0]:6.2f}  p95 {p[1]:6.2f}  p99 {p[2]:6.2f} ms"


def in_process(model: MatchModel, n_regions: int, requests: int) -> float:
    """Latency of ``Matcher.match`` on one intake record each, as ``POST /v1/matches`` hands
    the engine its body (a plain record, no DataFrame)."""
    therapists, frame = regional_world(20_000, n_regions, requests)
    intakes = frame_records(frame, INTAKES)
    matcher = Matcher(model, therapists)
    timers = [PredictTimer(model.outcome)] + (
        [PredictTimer(model.engagement)] if model.engagement else []
    )
    if model.outcome_linear is not None and model.outcome_linear_weight > 0:
        # The outcome model's logistic half is part of its predict.
        timers.append(PredictTimer(model.outcome_linear, "linear"))
    # Phase one's linear proxy is timed apart: not the boosters' predict, but model scoring.
    # The engine calls score_columns (phase one's matrix holds only the columns it reads).
    phase_one = (
        PredictTimer(model.prefilter, "score_columns") if model.prefilter is not None else None
    )
    for k in range(20):
        matcher.match([intakes[k]], top_k=10)
    for t in timers + ([phase_one] if phase_one else []):
        t.seconds = 0.0
    latencies, eligible = [], []
    cpu_start = time.process_time()
    for k in range(requests):
        start = time.perf_counter()
        result = matcher.match([intakes[k]], top_k=10)
        latencies.append((time.perf_counter() - start) * 1000)
        eligible.append(result.eligible)
    cpu = (time.process_time() - cpu_start) / requests
    total = sum(latencies) / 1000
    inside = sum(t.seconds for t in timers)
    proxy = phase_one.seconds if phase_one else 0.0
    for t in timers + ([phase_one] if phase_one else []):
        t.restore()
    recall = phase_one_recall(matcher, therapists, intakes[:RECALL_REQUESTS])
    print(
        f"20,000 therapists / {n_regions:>2} region(s): {percentiles(latencies)}  "
        f"eligible/request median {int(np.median(eligible)):,}  "
        f"outside predict {100 * (total - inside) / total:4.1f}% "
        f"(and outside phase one's proxy {100 * (total - inside - proxy) / total:4.1f}%)  "
        f"cpu {1000 * cpu:.2f} ms/match  {recall}"
    )
    return cpu


RECALL_REQUESTS = 100
"""Requests whose full scoring is compared with phase one's cut."""


def phase_one_recall(
    matcher: Matcher, therapists: pd.DataFrame, intakes: list[dict[str, Any]], k: int = 10
) -> str:
    """The share of the full model's top ``k`` (by score, every eligible pair scored) that phase
    one keeps, over the requests whose eligible pairs phase one cuts."""
    full = Matcher(matcher.model, therapists, MatcherConfig(phase_one_size=10**9))
    kept = total = 0
    for record in intakes:
        batch = matcher.pool.encode_intakes([record])
        routes = triage(batch)
        _, everything = full.score_batch(batch, routes)
        if len(everything.score) <= matcher.config.phase_one_size:
            continue
        _, phased = matcher.score_batch(batch, routes)
        best = everything.pairs.therapist_idx[np.argsort(-everything.score)[:k]]
        kept += int(np.isin(best, phased.pairs.therapist_idx).sum())
        total += len(best)
    if total == 0:
        return "phase one cut no request"
    return f"phase one keeps {100 * kept / total:.1f}% of the full score's top {k}"


def shadow_cost(model: MatchModel, n_regions: int, requests: int) -> None:
    """Extra cost of experiment shadow arms: per request the champion's ``match`` (top 10,
    explained as served) and then each shadow arm's ``ranked`` list (what
    ``POST /v1/matches`` adds per shadow arm). The model shadow is a second engine with the same
    model (the same cost as any challenger of its size); the rules shadow scores by the rule."""
    from matcher.rules import RulesModel

    therapists, intakes = regional_world(20_000, n_regions, requests)
    champion = Matcher(model, therapists)
    shadows = {"model": Matcher(model, therapists), "rules": Matcher(RulesModel(), therapists)}
    for k in range(20):
        champion.match(intakes.iloc[[k]], top_k=10)
        for engine in shadows.values():
            engine.ranked(intakes.iloc[[k]], top_k=10)
    spent: dict[str, list[float]] = {"match": [], **{name: [] for name in shadows}}
    for k in range(requests):
        row = intakes.iloc[[k]]
        start = time.perf_counter()
        champion.match(row, top_k=10)
        spent["match"].append((time.perf_counter() - start) * 1000)
        for name, engine in shadows.items():
            start = time.perf_counter()
            engine.ranked(row, top_k=10)
            spent[name].append((time.perf_counter() - start) * 1000)
    base = float(np.mean(spent["match"]))
    print(f"20,000 therapists / {n_regions:>2} region(s): match {percentiles(spent['match'])}")
    for name in shadows:
        with_shadow = np.add(spent["match"], spent[name])
        print(
            f"  + one {name:>5} shadow arm: {percentiles(list(with_shadow))}  "
            f"extra {float(np.mean(spent[name])) / base:5.2f} × a match (mean)"
        )


def bench_settings(home: Path, model_dir: Path) -> Any:
    """The service settings of one HTTP run: its own home (SQLite db) and a plain model folder."""
    from core.settings import Settings

    return Settings(
        home=home,
        model_uri=str(model_dir),
        database_url=None,
        rate_limit_per_minute=BENCH_RATE_LIMIT,
    )


def serve_child(home: Path, model_dir: Path, port: int) -> None:
    """Server process: the app as ``matcher serve`` builds it, on 127.0.0.1:``port``."""
    import uvicorn

    from api import create_app
    from cli.serve import limit_blas_threads
    from training.registry import load_served_model

    limit_blas_threads()
    settings = bench_settings(home, model_dir)

    def load(therapists: pd.DataFrame) -> Matcher:  # as cli.serve._engine_loader
        return Matcher(load_served_model(settings), therapists, settings.serving)

    app = create_app(settings, engine_loader=load, freeze_heap=True)
    uvicorn.run(app, host=HOST, port=port, access_log=False, log_level="warning")


def floor_child(response_path: Path, port: int) -> None:
    """Server process of the HTTP floor: FastAPI and uvicorn as the service runs them, one
    route ``POST /v1/matches`` that validates the service's own request model and answers a
    real response's bytes; no middleware, key check, engine or database."""
    import uvicorn
    from fastapi import FastAPI, Response

    canned = response_path.read_bytes()
    app = FastAPI()

    @app.post("/v1/matches")
    def create_match(body: MatchRequest) -> Response:
        return Response(canned, media_type="application/json")

    @app.get("/readyz")
    def ready() -> dict[str, str]:
        return {"status": "ready"}

    uvicorn.run(app, host=HOST, port=port, access_log=False, log_level="warning")


def http_floor(model_dir: Path, requests: int, concurrency: int, cpu_50: float) -> None:
    """Server CPU per request of :func:`floor_child` under the same load as :func:`over_http`
    (one process), against what the throughput target leaves for everything but the engine.

    With every core busy, throughput = cores / S (S: server CPU per request), so throughput ≥
    0.8 × cores / E (E: in-process CPU per match) needs S ≤ E / 0.8: at most 0.25 × E per request
    for HTTP, validation, keys, storage and the response together.
    """
    import httpx

    therapists, intakes = regional_world(20_000, 50, requests)
    bodies = intake_bodies(intakes, top_k=10)
    with tempfile.TemporaryDirectory(prefix="matcher-bench-") as tmp:
        home = Path(tmp)
        key = prepare_home(home, model_dir, therapists)
        canned = home / "response.json"
        with Server(home, model_dir) as server:
            answer = httpx.post(
                f"{server.base}/v1/matches",
                content=bodies[0],
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                timeout=REQUEST_TIMEOUT_S,
                trust_env=False,
            )
            answer.raise_for_status()
            canned.write_bytes(answer.content)
        with Server(home, model_dir, child=["--floor-child", str(canned)]) as server:
            drive(server.base, key, bodies, WARMUP_PER_CLIENT * concurrency, concurrency)
            cpu_before = server.cpu_seconds()
            result = drive(server.base, key, bodies, requests, concurrency)
            floor = (server.cpu_seconds() - cpu_before) / requests
    print(
        f"\nHTTP floor (one process, {concurrency} clients, {requests:,} requests, "
        f"{len(answer.content):,}-byte response, "
        f"{result.non_2xx + result.transport_errors} errors{_statuses(result)}): "
        "a bare FastAPI route that validates "
        f"MatchRequest and answers fixed bytes takes {1000 * floor:.2f} ms of server CPU per "
        f"request; the 50-region target leaves 0.25 × {1000 * cpu_50:.2f} = "
        f"{250 * cpu_50:.2f} ms per request for everything but the engine "
        f"(floor / budget {floor / (0.25 * cpu_50):.2f})"
    )


def _statuses(result: LoadResult) -> str:
    """``" by status: 422×n, …"`` for the non-2xx answers, else ``""``."""
    other = {c: n for c, n in sorted(result.statuses.items()) if not 200 <= c < 300}
    return (" by status: " + ", ".join(f"{c}×{n}" for c, n in other.items())) if other else ""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def intake_bodies(intakes: pd.DataFrame, top_k: int) -> list[bytes]:
    """Each typed intake row as a ``POST /v1/matches`` JSON body (no nulls, ISO times)."""
    from api.storage.records import frame_records
    from features.schemas import INTAKES

    bodies = []
    for record in frame_records(intakes, INTAKES):
        body = {k: v for k, v in record.items() if v is not None}
        body = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in body.items()}
        body["top_k"] = top_k
        bodies.append(json.dumps(body, allow_nan=False).encode())
    return bodies


def prepare_home(
    home: Path, model_dir: Path, therapists: pd.DataFrame, scopes: tuple[str, ...] = ("matches",)
) -> str:
    """Create the service database in ``home``, load the pool, and return a new API key."""
    from api import create_api_key, open_database
    from api.storage import upsert_therapists

    db = open_database(bench_settings(home, model_dir).database)
    try:
        with db.session() as session:
            upsert_therapists(session, therapists)
            session.commit()
            return create_api_key(session, "bench", list(scopes))
    finally:
        db.dispose()


class Server:
    """A uvicorn server in a child process, stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(
        self, home: Path, model_dir: Path, workers: int = 1, child: list[str] | None = None
    ) -> None:
        self.home = home
        self.model_dir = model_dir
        self.workers = workers
        self.child = child
        """Other arguments for this script's child process (``--serve-child`` by default)."""
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = home / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.workers > 1:  # exactly `matcher serve --workers N`, configured by environment
            args = [sys.executable, "-m", "cli", "serve", "--host", HOST, "--port", str(self.port)]
            args += ["--workers", str(self.workers)]
            env |= {
                "MATCHER_HOME": str(self.home),
                "MATCHER_MODEL_URI": str(self.model_dir),
                "MATCHER_RATE_LIMIT_PER_MINUTE": str(BENCH_RATE_LIMIT),
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            }
            env.pop("MATCHER_DATABASE_URL", None)
        elif self.child is not None:
            args = [sys.executable, str(Path(__file__).resolve()), *self.child, str(self.port)]
        else:
            args = [sys.executable, str(Path(__file__).resolve()), "--serve-child"]
            args += [str(self.home), str(self.model_dir), str(self.port)]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def wait_ready(self) -> None:
        """Poll ``/readyz`` until 200 (bounded by READY_TIMEOUT_S)."""
        import httpx

        assert self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(base_url=self.base, timeout=5.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited early:\n{self.log_tail()}")
                try:
                    if client.get("/readyz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise RuntimeError(f"server not ready after {READY_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server printed."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) the server process has used; NaN off Linux."""
        assert self.proc is not None
        total = 0.0
        for pid in [self.proc.pid, *_descendants(self.proc.pid)]:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                if pid == self.proc.pid:
                    return float("nan")
                continue
            fields = stat.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        """Stop the server process started by this object."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (the worker processes of ``--workers``)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class LoadResult:
    """What one load run saw, client side."""

    latencies_ms: list[float] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    """``time.perf_counter()`` at each request's start (same order as ``latencies_ms``)."""
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    """CPU time of this process (the clients) while the load ran."""

    @property
    def non_2xx(self) -> int:
        """Responses whose status is not 2xx."""
        return sum(n for code, n in self.statuses.items() if not 200 <= code < 300)


def drive(base: str, key: str, bodies: list[bytes], requests: int, concurrency: int) -> LoadResult:
    """``requests`` POSTs of ``bodies`` (in turn) from ``concurrency`` keep-alive clients.

    The clients are the standard library's ``http.client`` (one connection per thread): the
    load generator shares the machine with the server, so it should take as little CPU as a
    Python client can (httpx, used before, took about twice as much per request).
    """
    import http.client
    from urllib.parse import urlsplit

    result = LoadResult()
    lock = threading.Lock()
    issued = 0
    url = urlsplit(base)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def take() -> int | None:
        nonlocal issued
        with lock:
            if issued >= requests:
                return None
            issued += 1
            return issued - 1

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection(url.hostname, url.port, timeout=REQUEST_TIMEOUT_S)

    def client_loop() -> None:
        conn = connect()
        try:
            while (k := take()) is not None:
                start = time.perf_counter()
                try:
                    conn.request(
                        "POST", "/v1/matches", body=bodies[k % len(bodies)], headers=headers
                    )
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = connect()
                    with lock:
                        result.transport_errors += 1
                    continue
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    result.latencies_ms.append(elapsed)
                    result.started.append(start)
                    code = response.status
                    result.statuses[code] = result.statuses.get(code, 0) + 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(concurrency)]
    cpu = time.process_time()
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - start
    result.client_cpu_seconds = time.process_time() - cpu
    return result


_SERVER_SECONDS = re.compile(
    r'^matcher_http_request_duration_seconds_(sum|count)\{[^}]*method="POST"[^}]*'
    r'route="/v1/matches"[^}]*status="2\d\d"[^}]*\}\s+(\S+)$',
    re.MULTILINE,
)


def server_totals(base: str) -> tuple[float, float]:
    """Seconds spent in and count of 2xx ``POST /v1/matches`` as the server measured them."""
    import httpx

    text = httpx.get(f"{base}/metrics", timeout=10.0, trust_env=False).text
    totals = {"sum": 0.0, "count": 0.0}
    for kind, value in _SERVER_SECONDS.findall(text):
        totals[kind] += float(value)
    return totals["sum"], totals["count"]


def over_http(
    model_dir: Path, n_regions: int, requests: int, concurrency: int, workers: int = 1
) -> tuple[str, float]:
    """One table row (latency of ``POST /v1/matches`` over uvicorn on a 20,000 pool) and the
    throughput in requests per second."""
    therapists, intakes = regional_world(20_000, n_regions, requests)
    bodies = intake_bodies(intakes, top_k=10)
    with tempfile.TemporaryDirectory(prefix="matcher-bench-") as tmp:
        home = Path(tmp)
        key = prepare_home(home, model_dir, therapists)
        with Server(home, model_dir, workers) as server:
            drive(server.base, key, bodies, WARMUP_PER_CLIENT * concurrency, concurrency)
            before, cpu_before = server_totals(server.base), server.cpu_seconds()
            result = drive(server.base, key, bodies, requests, concurrency)
            after, cpu_after = server_totals(server.base), server.cpu_seconds()
    ms = result.latencies_ms or [float("nan")]
    p = np.percentile(ms, [50, 95, 99])
    served = after[1] - before[1]
    server_mean = 1000 * (after[0] - before[0]) / served if served else float("nan")
    row = (
        f"{n_regions:>7}  {workers:>7}  {requests:>8,}  {concurrency:>4}"
        f"  {p[0]:7.2f}  {p[1]:7.2f}  {p[2]:7.2f}"
        f"  {requests / result.seconds:8.1f}  {result.non_2xx:7}  {result.transport_errors:9}"
        f"  {server_mean:9.2f}  {1000 * (cpu_after - cpu_before) / requests:10.2f}"
        f"  {(cpu_after - cpu_before) / result.seconds:9.2f}"
        f"  {result.client_cpu_seconds / result.seconds:12.2f}"
    )
    if result.non_2xx:
        row += "  non-2xx" + _statuses(result)
    return row, requests / result.seconds


def reload_under_load(model_dir: Path, therapists: int, concurrency: int) -> None:
    """Reload the model of a ``therapists``-strong pool while ``concurrency`` clients match:
    how long the reload took and the longest request that overlapped it, against the longest
    and p99 of the requests that did not (SPEC §6: no request delayed by more than 1 s)."""
    import httpx

    pool, intakes = regional_world(therapists, 50, 2000)
    bodies = intake_bodies(intakes, top_k=10)
    with tempfile.TemporaryDirectory(prefix="matcher-bench-reload-") as tmp:
        home = Path(tmp)
        key = prepare_home(home, model_dir, pool, ("admin",))
        with Server(home, model_dir) as server:
            drive(server.base, key, bodies, WARMUP_PER_CLIENT * concurrency, concurrency)
            window: list[float] = []
            status: list[int] = []

            def reload() -> None:
                time.sleep(2.0)  # let the load reach a steady state first (not a sync)
                window.append(time.perf_counter())
                response = httpx.post(
                    f"{server.base}/v1/model/reload",
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=600.0,
                    trust_env=False,
                )
                window.append(time.perf_counter())
                status.append(response.status_code)

            trigger = threading.Thread(target=reload)
            trigger.start()
            result = drive(server.base, key, bodies, 3000, concurrency)
            trigger.join()
    start, end = window
    during = [
        ms
        for ms, t in zip(result.latencies_ms, result.started, strict=True)
        if t < end and t + ms / 1000 > start
    ]
    outside = [
        ms
        for ms, t in zip(result.latencies_ms, result.started, strict=True)
        if not (t < end and t + ms / 1000 > start)
    ]
    print(
        f"\nreload of a {therapists:,}-therapist pool under {concurrency} clients: "
        f"status {status[0]}, took {end - start:.2f} s; requests overlapping it {len(during)}, "
        f"max {max(during, default=float('nan')):.0f} ms; others {len(outside)}, "
        f"p99 {np.percentile(outside, 99):.0f} ms, max {max(outside):.0f} ms; "
        f"non-2xx {result.non_2xx}, transport errors {result.transport_errors}; "
        f"delay added ≈ {max(during, default=0.0) - max(outside):.0f} ms (target ≤ 1000)"
    )


def pool_ops(model: MatchModel, therapists: int, repeats: int) -> None:
    """The pool's upkeep at ``therapists`` on SQLite, through the functions the service calls:
    reading the whole pool (``load_pool``, at startup), a one-therapist upsert and a delete
    as ``PUT`` / ``DELETE /v1/therapists/{id}`` do it (``write_pool``: engine update, write,
    commit), and ``catch_up`` after one change made by another process. Median of
    ``repeats`` runs of each; one table."""
    from contextlib import contextmanager
    from types import SimpleNamespace

    from api import open_database
    from api.engine_state import EngineState
    from api.routers.therapists import write_pool
    from api.storage import load_pool, pool_changes, upsert_therapists
    from api.storage.changes import Topic, counter
    from core.settings import Settings

    pool, _ = regional_world(therapists, 50, 10)
    timings: dict[str, list[float]] = {}

    @contextmanager
    def timed(name: str) -> Any:
        start = time.perf_counter()
        yield
        timings.setdefault(name, []).append(time.perf_counter() - start)

    with tempfile.TemporaryDirectory(prefix="matcher-bench-pool-") as tmp:
        db = open_database(Settings(home=Path(tmp), model_uri="unused", database_url=None).database)
        try:
            with db.session() as session:
                upsert_therapists(session, pool)
                session.commit()
            for _ in range(repeats):
                with db.read_session() as session, timed("load_pool (whole pool, startup)"):
                    served = load_pool(session)
            with db.read_session() as session:
                revision = counter(session, Topic.THERAPISTS)
            state = EngineState(lambda p: Matcher(model, p), "bench", served, revision=revision)
            with timed("engine build over the pool (startup, reload)"):
                state.load()
            runtime: Any = SimpleNamespace(engines=state)  # write_pool uses only the engines

            def changed(k: int) -> pd.DataFrame:
                row = served.iloc[[k]].reset_index(drop=True)
                caseload = int(row["current_caseload"].iloc[0]) + 1
                return row.assign(current_caseload=pd.array([caseload], dtype="Int64"))

            def read(since: int) -> Any:
                with db.read_session() as session:
                    return pool_changes(session, since)

            for k in range(repeats):
                upserted, gone = changed(k), [str(served["therapist_id"].iloc[-1 - k])]
                with db.session() as session, timed("upsert one therapist (PUT: engine + write)"):
                    write_pool(runtime, session, upserted=upserted)
                with (
                    db.session() as session,
                    timed("delete one therapist (DELETE: engine + write)"),
                ):
                    write_pool(runtime, session, removed=gone)
                with db.session() as session:  # another process writes one profile
                    upsert_therapists(session, changed(repeats + k))
                    session.commit()
                with timed("catch_up after one remote change"):
                    state.catch_up(read)
        finally:
            db.dispose()
    print(f"\npool upkeep, {therapists:,} therapists on SQLite (median of {repeats}):")
    print(f"{'operation':<50}{'seconds':>9}")
    for name, seconds in timings.items():
        print(f"{name:<50}{float(np.median(seconds)):9.3f}")


HTTP_HEADER = (
    "regions  workers  requests  conc  p50 ms   p95 ms   p99 ms     req/s  non-2xx  transport  "
    "server ms  cpu ms/req  cpu cores  client cores"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--http", action="store_true", help="Also measure over uvicorn.")
    parser.add_argument("--http-requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="Server processes per HTTP run (several: `matcher serve --workers N`).",
    )
    parser.add_argument(
        "--reload",
        type=int,
        default=0,
        metavar="THERAPISTS",
        help="Also reload the model of a pool this large under load (e.g. 50000).",
    )
    parser.add_argument("--reload-only", action="store_true", help="Run only the reload bench.")
    parser.add_argument(
        "--shadow", action="store_true", help="Only the extra cost of experiment shadow arms."
    )
    parser.add_argument(
        "--pool-ops",
        type=int,
        default=0,
        metavar="THERAPISTS",
        help="Only the pool's upkeep at this size: load_pool, an upsert, a delete, catch_up.",
    )
    parser.add_argument("--pool-repeats", type=int, default=3)
    parser.add_argument(
        "--floor",
        action="store_true",
        help="With --http: also the CPU per request of a bare FastAPI route (no engine, no db).",
    )
    parser.add_argument("--serve-child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--floor-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_child:
        home, model_dir, port = args.serve_child
        serve_child(Path(home), Path(model_dir), int(port))
        return
    if args.floor_child:
        floor_child(Path(args.floor_child[0]), int(args.floor_child[1]))
        return
    model = fit_and_evaluate(load_dataset(SAMPLE), TrainConfig(baselines=False)).model
    print(
        f"model: outcome booster {model.outcome.current_iteration()} rounds, "
        f"phase one keeps {300} candidates per intake"
    )
    if args.pool_ops:
        pool_ops(model, args.pool_ops, args.pool_repeats)
        return
    if args.shadow:
        for regions in (50, 1):
            shadow_cost(model, regions, args.requests)
        return
    if args.reload_only and args.reload:
        with tempfile.TemporaryDirectory(prefix="matcher-bench-model-") as tmp:
            reload_under_load(model.save(Path(tmp) / "model"), args.reload, args.concurrency)
        return
    cpu = {regions: in_process(model, regions, args.requests) for regions in (50, 1)}
    cores = os.cpu_count() or 1
    if not args.http:
        return
    with tempfile.TemporaryDirectory(prefix="matcher-bench-model-") as tmp:
        model_dir = model.save(Path(tmp) / "model")
        print(
            f"\nHTTP: POST /v1/matches (top_k 10) over uvicorn on {HOST}, 20,000 therapists, "
            f"{WARMUP_PER_CLIENT * args.concurrency} warm-up requests not counted; "
            "latency in ms as the clients saw it; server ms = mean time inside the app; "
            "cpu = the server process's CPU time per request and in cores used; client cores = the "
            "load generator's (this process's) CPU in cores"
        )
        print(HTTP_HEADER)
        for workers in args.workers:
            for regions in (50, 1):
                row, rate = over_http(
                    model_dir, regions, args.http_requests, args.concurrency, workers
                )
                target = 0.8 * cores / cpu[regions]
                print(
                    f"{row}  (target 0.8 × {cores} cores / in-process cpu = {target:.0f} req/s; "
                    f"measured {rate / target:.2f} × target)"
                )
        if args.floor:
            http_floor(model_dir, args.http_requests, args.concurrency, cpu[50])
        if args.reload:
            reload_under_load(model_dir, args.reload, args.concurrency)


if __name__ == "__main__":
    main()
