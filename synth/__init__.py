"""The synthetic world: therapists, intakes, logged match lists and the hidden truth (SPEC §5).

``generate_world(WorldConfig(...))`` gives a :class:`SyntheticWorld` whose ``dataset`` holds the
three contract tables and whose ``truth`` scores any (intake, therapist) pair. Entry points:
``python -m synth.sample`` (rewrite data/sample) and ``python -m
synth.calibration`` (the SPEC §5 figures of a world).
"""

from synth.candidates import candidate_pairs
from synth.coefficients import Coefficients
from synth.config import WorldConfig
from synth.outcomes import Logits, PairTerms
from synth.traits import IntakeTraits, TherapistTraits
from synth.truth import WorldTruth
from synth.world import SyntheticWorld, generate_world

__all__ = [
    "Coefficients",
    "IntakeTraits",
    "Logits",
    "PairTerms",
    "SyntheticWorld",
    "TherapistTraits",
    "WorldConfig",
    "WorldTruth",
    "candidate_pairs",
    "generate_world",
]
