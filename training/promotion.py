"""Promotion on evidence: candidate and champion scored on the SAME held-out data (SPEC §7).

The champion is re-scored on the candidate's held-out intakes, never compared by the number
logged on its own run (which came from other data).

Rule with a world truth: promote iff uplift_at_5(candidate) > uplift_at_5(champion), both
computed on the held-out intakes with the truth.

Rule without one: Δ = CDR(candidate) − CDR(champion), the choice-aware doubly robust estimate of the
difference in good-outcome rate per intake on the held-out logged lists, with a paired 95%
interval over intakes. Promote iff Δ > 0 and the interval's lower bound > −margin (non-inferior
by ``margin``, absolute rate): a candidate that is estimated better and, with 95% confidence, is
not worse by more than the margin.

Before any champion is registered the service ranks by the rules baseline (cold start,
:mod:`matcher.rules`), so the first candidate must beat *that* by the same rule: its champion
figure is the rules policy's, on the same held-out intakes (truth) or logged lists (off-policy).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any

import mlflow
import numpy as np
import numpy.typing as npt
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.settings import Settings
from features.dataset import Dataset
from features.encoding import IntakeBatch, TherapistPool
from matcher.model import MatchModel
from matcher.rules import RULES_VERSION, rule_score
from training.config import TrainConfig
from training.heldout import Candidates, HeldOut, evaluation_split, score_holdout
from training.model_uris import load_model_uri
from training.offpolicy.candidates import heldout_scoring, scored_candidate_set
from training.offpolicy.evaluate import OffPolicyContext
from training.offpolicy.intervals import Estimate, mean_estimate
from training.offpolicy.report import HEADLINE
from training.offpolicy.targets import TargetLists
from training.registry import CHAMPION, PromotionDecision
from training.scorecard import Truth, truth_metrics
from training.splits import subset, time_split

F64 = npt.NDArray[np.float64]
UPLIFT = "uplift_at_5"
MARGIN = 0.01
"""Default non-inferiority margin of the off-policy rule (absolute good-outcome rate)."""


@dataclass(frozen=True)
class Evidence:
    """What the gate saw and decided (logged to MLflow as ``gate.json``)."""

    basis: str
    """``uplift_at_5 (truth)`` or ``off-policy dr``."""
    rule: str
    candidate: float
    promote: bool
    reason: str
    champion: float | None = None
    """The champion's figure on the same held-out data (before any champion: the rules
    baseline's, which a cold-started service serves)."""
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    outcome: dict[str, float] = field(default_factory=dict)
    """Candidate's headline good-outcome estimate on the held-out logs: value, ci_low, ci_high."""
    champion_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return asdict(self)

    def metrics(self) -> dict[str, float]:
        """Finite figures to log as MLflow metrics."""
        figures = {
            "gate_candidate": self.candidate,
            "gate_champion": self.champion,
            "gate_difference": self.difference,
            "gate_ci_low": self.ci_low,
            "gate_ci_high": self.ci_high,
            **{f"ope_{HEADLINE}_{k}": v for k, v in self.outcome.items()},
        }
        return {k: float(v) for k, v in figures.items() if v is not None and np.isfinite(v)}


def held_out(dataset: Dataset, config: TrainConfig) -> tuple[Dataset, Dataset]:
    """The training split and the evaluated held-out intakes the training job used (same split
    function, seed and :func:`~training.heldout.evaluation_split`)."""
    train_ids, valid_ids = time_split(dataset, config.holdout_fraction, seed=config.seed)
    valid = evaluation_split(subset(dataset, valid_ids), config.max_eval_intakes, config.seed)
    return subset(dataset, train_ids), valid


def past_only(
    model: MatchModel,
    train: Dataset,
    pool: TherapistPool | None = None,
    batch: IntakeBatch | None = None,
) -> MatchModel:
    """A copy of ``model`` whose therapist track records come from ``train``'s outcomes only.

    Track records are history, not learned parameters: scored on held-out intakes, both
    candidate and champion must see the same past, and neither the held-out outcomes.
    ``pool`` and ``batch`` are the job's encodings of the therapists and (at least) the
    training intakes, reused when given.
    """
    pipeline = copy.copy(model.pipeline)
    pipeline.track_record_ = pipeline.fit_track_record(
        train, pool or TherapistPool.from_frame(train.therapists), batch
    )
    twin = copy.copy(model)
    twin.pipeline = pipeline
    return twin


def _uplift(
    model: MatchModel, valid: Dataset, truth: Truth, config: TrainConfig, *, rules: bool = False
) -> tuple[float, float]:
    """uplift@5 of ``model`` on the held-out intakes and, with ``rules``, of the rules baseline
    scored on the same candidates (else NaN); the held-out pairs are scored here."""
    heldout = score_holdout(
        model,
        valid,
        TherapistPool.from_frame(valid.therapists),
        truth=truth,
        max_intakes=config.max_eval_intakes,
        seed=config.seed,
    )
    return _heldout_uplift(heldout.candidates, rules=rules)


def _heldout_uplift(cand: Candidates, *, rules: bool = False) -> tuple[float, float]:
    """uplift@5 of held-out candidate pairs as scored (by the candidate or by another model)
    and, with ``rules``, of the rules baseline on the same pairs (else NaN)."""
    rankings = {"model": cand.predictions.score}
    if rules:
        rankings[RULES_VERSION] = rule_score(cand.x)
    _, rows = truth_metrics(cand, rankings, (5,))
    baseline = rows[RULES_VERSION][UPLIFT] if rules else float("nan")
    return rows["model"][UPLIFT], baseline


def _estimate_dict(est: Estimate) -> dict[str, float]:
    return {"value": est.value, "ci_low": est.ci_low, "ci_high": est.ci_high}


def gather_evidence(
    candidate: MatchModel,
    champion: MatchModel | None,
    dataset: Dataset,
    config: TrainConfig,
    *,
    truth: Truth | None = None,
    margin: float = MARGIN,
    champion_version: str | None = None,
    heldout: HeldOut | None = None,
) -> Evidence:
    """Score candidate and (re-score) champion on the candidate's held-out split; apply the rule.

    Both are scored with their own fitted pipeline and boosters, and with therapist track
    records from the candidate's training split only (:func:`past_only`). ``heldout`` is the
    training job's scoring of that split by the candidate (:attr:`TrainResult.heldout`, made
    with the past-only track records): its pairs, encodings and predictions are reused, so the
    candidate is not scored again and the champion is scored once, on the same pairs.
    """
    if heldout is not None and heldout.model is not None:
        return _evidence_on(
            heldout,
            heldout.model,
            champion,
            dataset=dataset,
            config=config,
            truth=truth,
            margin=margin,
            champion_version=champion_version,
        )
    train, valid = held_out(dataset, config)
    fair = past_only(candidate, train)
    champion = past_only(champion, train) if champion is not None else None
    ctx = OffPolicyContext(valid, fair, labels=config.labels, outcome_name="candidate")
    k = 5
    cand_terms = ctx.choice.contributions(ctx.feedback, ctx.lists_of(fair, k))
    if truth is not None:
        if champion is None:
            value, other = _uplift(fair, valid, truth, config, rules=True)
        else:
            value, _ = _uplift(fair, valid, truth, config)
            other, _ = _uplift(champion, valid, truth, config)
        return _truth_evidence(value, other, cand_terms, champion, champion_version)
    champ_lists = ctx.lists_of(champion, k) if champion is not None else ctx.rules_lists(k)
    return _offpolicy_evidence(
        ctx,
        cand_terms,
        champ_lists,
        champion=champion,
        champion_version=champion_version,
        margin=margin,
    )


def _evidence_on(
    heldout: HeldOut,
    candidate: MatchModel,
    champion: MatchModel | None,
    *,
    dataset: Dataset,
    config: TrainConfig,
    truth: Truth | None,
    margin: float,
    champion_version: str | None,
) -> Evidence:
    """:func:`gather_evidence` on the job's held-out scoring by ``candidate`` (past-only track
    records): the candidate's scores are the job's, the champion's pairs are featurised and
    predicted once (for both its uplift and its lists)."""
    ctx = OffPolicyContext(
        heldout.valid, candidate, labels=config.labels, outcome_name="candidate", heldout=heldout
    )
    k = 5
    cand_terms = ctx.choice.contributions(ctx.feedback, ctx.lists_of(candidate, k))
    scored: Candidates | None = None
    if champion is not None:
        train, _ = held_out(dataset, config)
        champion = past_only(champion, train, heldout.pool, heldout.batch)
        scored = heldout_scoring(heldout, ctx.feedback, champion)
    if truth is not None:
        if champion is None:
            value, other = _heldout_uplift(heldout.candidates, rules=True)
        else:
            value, _ = _heldout_uplift(heldout.candidates)
            other, _ = _heldout_uplift(scored if scored is not None else heldout.candidates)
        return _truth_evidence(value, other, cand_terms, champion, champion_version)
    if champion is None or scored is None:
        champ_lists = ctx.rules_lists(k)
    else:
        champ = scored_candidate_set(scored, ctx.feedback, heldout.pool, champion).candidates
        champ_lists = champ.lists(champ.serving_score, k)
    return _offpolicy_evidence(
        ctx,
        cand_terms,
        champ_lists,
        champion=champion,
        champion_version=champion_version,
        margin=margin,
    )


def _truth_evidence(
    value: float,
    other: float,
    cand_terms: F64,
    champion: MatchModel | None,
    champion_version: str | None,
) -> Evidence:
    """The rule with a world truth: uplift@5 of the candidate against the champion's (or the
    rules baseline's) on the same held-out intakes."""
    outcome = _estimate_dict(mean_estimate(cand_terms))
    against = (champion_version or "") if champion is not None else RULES_VERSION
    rule = (
        f"promote iff {UPLIFT}(candidate) > {UPLIFT}(champion, or the rules baseline before "
        "any champion) on the same held-out intakes"
    )
    better = value > other
    verb = "beats" if better else "does not beat"
    reason = (
        f"{UPLIFT} {value:.4f} {verb} {_compared_with(champion, against)} re-scored on the "
        f"same held-out data ({other:.4f})"
    )
    return Evidence(
        f"{UPLIFT} (truth)",
        rule,
        value,
        promote=better,
        reason=reason,
        champion=other,
        difference=value - other,
        outcome=outcome,
        champion_version=against,
    )


def _offpolicy_evidence(
    ctx: OffPolicyContext,
    cand_terms: F64,
    champ_lists: TargetLists,
    *,
    champion: MatchModel | None,
    champion_version: str | None,
    margin: float,
) -> Evidence:
    """The rule without a truth: the choice-aware DR difference and its paired interval."""
    outcome = _estimate_dict(mean_estimate(cand_terms))
    against = (champion_version or "") if champion is not None else RULES_VERSION
    rule = (
        f"promote iff Δ = {HEADLINE}(candidate) − {HEADLINE}(champion, or the rules baseline "
        f"before any champion) > 0 and its 95% lower bound > −{margin:g} (good-outcome rate per "
        "intake, same held-out logs)"
    )
    basis = f"off-policy {HEADLINE}"
    champ_terms = ctx.choice.contributions(ctx.feedback, champ_lists)
    diff = mean_estimate(cand_terms - champ_terms)
    champ_value = float(champ_terms.mean())
    promote = diff.value > 0 and diff.ci_low > -margin
    why = (
        "estimated better and non-inferior"
        if promote
        else ("not estimated better" if diff.value <= 0 else f"lower bound below −{margin:g}")
    )
    reason = (
        f"off-policy Δ good outcomes {diff.value:+.4f} (95% {diff.ci_low:+.4f} to "
        f"{diff.ci_high:+.4f}) vs {_compared_with(champion, against)} re-scored on the same "
        f"held-out logs: {why}"
    )
    return Evidence(
        basis,
        rule,
        outcome["value"],
        promote=promote,
        reason=reason,
        champion=champ_value,
        difference=diff.value,
        ci_low=diff.ci_low,
        ci_high=diff.ci_high,
        outcome=outcome,
        champion_version=against,
    )


def _compared_with(champion: MatchModel | None, name: str) -> str:
    """How a reason names what the candidate was compared with."""
    if champion is None:
        return f"the {name} baseline (served before any champion)"
    return f"champion {name}"


def load_champion(settings: Settings, client: MlflowClient) -> tuple[MatchModel | None, str | None]:
    """The current ``@champion`` model and its ``name/version``; (None, None) without one."""
    try:
        mv = client.get_model_version_by_alias(settings.model_name, CHAMPION)
    except MlflowException:
        return None, None
    version = f"{settings.model_name}/{mv.version}"
    return load_model_uri(settings, f"models:/{version}"), version


def promotion_gate(
    candidate: MatchModel,
    dataset: Dataset,
    config: TrainConfig,
    settings: Settings,
    client: MlflowClient,
    *,
    truth: Truth | None,
    override: bool | None,
    fairness_ok: bool,
    margin: float = MARGIN,
    heldout: HeldOut | None = None,
) -> tuple[Evidence, PromotionDecision]:
    """Gather the evidence, log it in the active MLflow run (metrics, ``gate.json``, rule and
    decision tags) and decide; ``override`` forces the decision, a failed fairness gate blocks.
    ``heldout`` is the job's held-out scoring by the candidate (see :func:`gather_evidence`)."""
    champion, version = load_champion(settings, client)
    evidence = gather_evidence(
        candidate,
        champion,
        dataset,
        config,
        truth=truth,
        margin=margin,
        champion_version=version,
        heldout=heldout,
    )
    value, other = evidence.candidate, evidence.champion
    if override is True:
        decision = PromotionDecision(True, "forced by --promote", evidence.basis, value, other)
    elif override is False:
        decision = PromotionDecision(
            False, "disabled by --no-promote", evidence.basis, value, other
        )
    elif not fairness_ok:
        decision = PromotionDecision(False, "fairness gate failed", evidence.basis, value, other)
    else:
        decision = PromotionDecision(
            evidence.promote, evidence.reason, evidence.basis, value, other
        )
    mlflow.log_metrics(evidence.metrics())
    mlflow.log_dict({**evidence.to_json(), "decision": decision.promoted}, "gate.json")
    mlflow.set_tags({"gate_basis": evidence.basis, "gate_rule": evidence.rule[:4000]})
    return evidence, decision


def summary_lines(
    evidence: Evidence | None, promoted: bool | None, reason: str, fairness: dict[str, int] | None
) -> list[str]:
    """The plain summary ``matcher train`` ends with."""
    lines = []
    if evidence is not None and evidence.outcome:
        o = evidence.outcome
        lines.append(
            f"good outcomes per intake (off-policy {HEADLINE}, top-5, held-out logs): "
            f"{o['value']:.3f} (95% {o['ci_low']:.3f}–{o['ci_high']:.3f})"
        )
    if evidence is not None and evidence.basis.endswith("(truth)"):
        lines.append(f"{UPLIFT} on the world's truth: {evidence.candidate:.3f}")
    if promoted is not None:
        lines.append(f"decision: {'promoted' if promoted else 'not promoted'} — {reason}")
    if evidence is not None:
        lines.append(f"rule: {evidence.rule}")
    if fairness is not None:
        lines.append("fairness: " + ", ".join(f"{v} {k}" for k, v in fairness.items()))
    lines.append("ndcg_at_k in the table rank logged clicks/bookings: a click metric, not outcomes")
    return lines


__all__ = [
    "MARGIN",
    "UPLIFT",
    "Evidence",
    "gather_evidence",
    "held_out",
    "load_champion",
    "past_only",
    "promotion_gate",
    "summary_lines",
]
