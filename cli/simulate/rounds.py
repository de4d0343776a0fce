"""One round of ``matcher simulate``: serve the intakes and post the drawn events, the
retraining config, and the off-policy estimate and offline reference printed beside the truth."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from cli.simulate.service import Service
    from core.settings import Settings
    from matcher.model import MatchModel
    from synth.loop import ClosedLoop, ServedLists
    from training.config import TrainConfig


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
    """time.monotonic() after which no new round starts."""
    skip: int = 0
    """World intakes passed over before round 1 (the history a given model was trained on)."""
    retrain: bool = True
    gate_truth: bool = False
    """Let the promotion gate read the world's truth (uplift on held-out intakes) instead of
    deciding off-policy; training itself never sees it."""


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
            max_eval_intakes=500,
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
