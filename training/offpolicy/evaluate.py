"""Evaluate models, ranked files, the rules baseline and the logging policy on one logged dataset.

The glue behind ``matcher evaluate`` and the promotion gate: logged feedback (propensities from
the log, or estimated with a caveat), candidates scored by the serving engine, an examination
curve, the outcome model's q̂ for the doubly robust estimator, then every estimator per policy.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.dataset import Dataset
from matcher.model import MatchModel
from training.baselines import RuleBaseline
from training.heldout import HeldOut
from training.labels import LabelConfig
from training.offpolicy.candidates import (
    CandidateSet,
    candidate_set,
    heldout_candidates,
    logged_features,
)
from training.offpolicy.choice_dr import ChoiceDoublyRobust
from training.offpolicy.doubly_robust import calibrate_outcome
from training.offpolicy.feedback import LoggedFeedback
from training.offpolicy.propensity_model import estimate_propensities
from training.offpolicy.report import (
    LOGGING,
    OBSERVED,
    OffPolicyReport,
    OutcomeLookup,
    PolicyEstimate,
    estimate_lists,
    examination,
    observed,
)
from training.offpolicy.targets import TargetLists

RULES = "rules"


class OffPolicyContext:
    """Everything the estimators share for one dataset: feedback, θ, q̂, candidates."""

    def __init__(
        self,
        dataset: Dataset,
        outcome_model: MatchModel,
        *,
        labels: LabelConfig | None = None,
        outcome_name: str | None = None,
        heldout: HeldOut | None = None,
    ) -> None:
        """With ``heldout`` (a training job's scoring of ``dataset``, its held-out split, by
        ``outcome_model``) the candidates and the outcome model's predictions are read off it
        (:func:`~.candidates.heldout_candidates`) instead of scoring them again."""
        self.dataset = dataset
        self.outcome_model = outcome_model
        self.heldout = heldout
        self.caveats: list[str] = []
        feedback = LoggedFeedback.from_dataset(dataset, labels)
        if heldout is not None:
            if heldout.model is not outcome_model or heldout.valid is not dataset:
                raise ValueError("heldout must be outcome_model's scoring of dataset")
            scored = heldout_candidates(heldout, feedback)
            self.candidates = scored.candidates
            b = np.r_[scored.benefit, heldout.logged_predictions.benefit]
            e = np.r_[scored.engagement, heldout.logged_predictions.engagement]
        else:
            self.candidates = candidate_set(dataset, feedback, outcome_model)
            x_logged = logged_features(dataset, outcome_model)
            b = np.r_[outcome_model.benefit(self.candidates.x), outcome_model.benefit(x_logged)]
            e = np.r_[
                outcome_model.engagement_probability(self.candidates.x),
                outcome_model.engagement_probability(x_logged),
            ]
        feedback, caveat = estimate_propensities(feedback, self.candidates)
        if caveat:
            self.caveats.append(caveat)
        self.feedback = feedback
        self.theta, caveat = examination(feedback)
        self.caveats.append(caveat)
        group = np.r_[self.candidates.group, feedback.group]
        ids = np.r_[self.candidates.therapist_ids, feedback.therapist_ids]
        benefit, engagement = OutcomeLookup(group, ids, b), OutcomeLookup(group, ids, e)
        raw = OutcomeLookup(group, ids, b * e)
        q_logged = raw(feedback.group, feedback.therapist_ids)
        self.outcome = raw.scaled(calibrate_outcome(feedback, self.theta, q_logged))
        self.choice = ChoiceDoublyRobust().fit(feedback, [engagement, benefit], benefit)
        name = outcome_name or outcome_model.version or "the outcome model"
        self.caveats.append(
            f"dr uses {name} as q̂ (benefit × engagement, scaled to the logged good-outcome rate)"
        )
        self.caveats.append(
            f"choice_dr assumes each client books at most one therapist by a multinomial logit "
            f"over the list (utility from {name}'s engagement and benefit log-odds plus a "
            "position effect, fitted on the logged choices; no-choice option), and weighs "
            "each outcome by P(book | target list) ÷ (P(shown) · P(book | logged list))"
        )

    def lists_of(self, model: MatchModel, top_k: int) -> TargetLists:
        """A model's top-k lists as the serving engine would order them (the outcome model's
        are those of the candidates already scored; another model's are read off the held-out
        scoring when there is one, else the engine scores it)."""
        if model is self.outcome_model:
            cands = self.candidates
        elif self.heldout is not None:
            cands = heldout_candidates(self.heldout, self.feedback, model).candidates
        else:
            cands = candidate_set(self.dataset, self.feedback, model)
        return cands.lists(cands.serving_score, top_k)

    def rules_lists(self, top_k: int) -> TargetLists:
        """The rules baseline's top-k lists."""
        return self.candidates.lists(RuleBaseline().score(self.candidates.x), top_k)

    def estimate(self, name: str, lists: TargetLists) -> list[PolicyEstimate]:
        """Every estimator's value of ``lists``."""
        return estimate_lists(
            name, self.feedback, lists, self.theta, self.outcome, choice=self.choice
        )

    def logging(self) -> PolicyEstimate:
        """The logging policy's observed rate."""
        return PolicyEstimate.of(LOGGING, OBSERVED, observed(self.feedback))


def evaluate_policies(
    dataset: Dataset,
    models: Mapping[str, MatchModel],
    ranked: Mapping[str, pd.DataFrame] | None = None,
    *,
    top_k: int = 5,
    labels: LabelConfig | None = None,
) -> OffPolicyReport:
    """Estimates of ``logging`` (observed), ``rules``, each model and each ranked file, by name.

    The first model is the outcome model of the doubly robust estimator.
    """
    if not models:
        raise ValueError("evaluate_policies needs at least one model (the outcome model)")
    first = next(iter(models))
    ctx = OffPolicyContext(dataset, models[first], labels=labels, outcome_name=first)
    rows = [ctx.logging(), *ctx.estimate(RULES, ctx.rules_lists(top_k))]
    for name, model in models.items():
        rows += ctx.estimate(name, ctx.lists_of(model, top_k))
    for name, frame in (ranked or {}).items():
        rows += ctx.estimate(name, TargetLists.from_ranked(frame, ctx.feedback, top_k))
    caveats = [*ctx.caveats, *_leak_caveats(dataset, models)]
    return OffPolicyReport(rows, caveats, [float(t) for t in ctx.theta])


def _leak_caveats(dataset: Dataset, models: Mapping[str, MatchModel]) -> list[str]:
    del dataset, models
    return [
        "a model whose track records were fitted on these same outcomes is flattered: "
        "evaluate on history logged after its training data"
    ]


__all__ = ["RULES", "CandidateSet", "OffPolicyContext", "evaluate_policies"]
