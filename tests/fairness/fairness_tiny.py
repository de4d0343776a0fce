"""Tiny hand-checkable inputs."""

from __future__ import annotations

import pandas as pd

from matcher.fairness import FairnessInputs


def tiny_inputs(
    *, labels: bool = True, truth: bool = True, eligible: bool = True
) -> FairnessInputs:
    """Six intakes, four therapists, hand-sized lists.

    i1 (woman, self_pay, en, wants a woman therapist): shown a@1 0.8, b@2 0.6, c@3 0.4
    i2 (man, insured, es): shown b@1 0.5, c@2 0.3
    i3 (woman, insured, en): no eligible match
    i4 (man, self_pay, en): crisis
    i5 (woman, insured, en): shown c@1 0.9
    i6 (man, insured, en): matched but nothing logged
    """
    intakes = pd.DataFrame(
        {
            "intake_id": ["i1", "i2", "i3", "i4", "i5", "i6"],
            "client_gender": ["woman", "man", "woman", "man", "woman", "man"],
            "payment": ["self_pay", "aetna", "aetna", "self_pay", "aetna", "aetna"],
            "languages": [["en"], ["es"], ["en", "es"], ["en"], ["en"], ["en"]],
            "preferred_therapist_genders": [["woman"], [], [], [], ["man", "nonbinary"], []],
            "status": ["matched", "matched", "no_eligible_match", "crisis", "matched", "matched"],
            "n_eligible": [3, 2, 0, 0, 1, 4],
        }
    )
    therapists = pd.DataFrame(
        {
            "therapist_id": ["a", "b", "c", "d"],
            "gender": ["man", "man", "woman", "woman"],
            "years_experience": [1, 4, 25, 10],
            "current_caseload": [10, 5, 20, 0],
            "max_caseload": [10, 20, 15, 0],
            "is_new": [True, False, False, True],
        }
    )
    impressions = pd.DataFrame(
        {
            "intake_id": ["i1", "i1", "i1", "i2", "i2", "i5"],
            "therapist_id": ["a", "b", "c", "b", "c", "c"],
            "position": [1, 2, 3, 1, 2, 1],
            "score": [0.8, 0.6, 0.4, 0.5, 0.3, 0.9],
        }
    )
    if labels:
        impressions["label"] = [0, 3, 4, 2, 0, 1]
    if truth:
        impressions["true_benefit"] = [0.5, 0.7, 0.9, 0.4, 0.2, 0.6]
    pairs = None
    if eligible:
        pairs = pd.DataFrame(
            {
                "intake_id": ["i1", "i1", "i1", "i2", "i2", "i5", "i1"],
                "therapist_id": ["a", "b", "c", "b", "c", "c", "d"],
                "merit": [0.8, 0.6, 0.4, 0.5, 0.3, 0.9, 0.2],
                "true_benefit": [0.5, 0.7, 0.9, 0.4, 0.2, 0.6, 0.3],
            }
        )
    return FairnessInputs(intakes, therapists, impressions, pairs)
