"""The synthetic world: therapists, intakes, logged match lists and the hidden truth (SPEC §5).

``generate_world(WorldConfig(...))`` gives a :class:`SyntheticWorld` whose ``dataset`` holds the
three contract tables and whose ``truth`` scores any (intake, therapist) pair. Entry points:
``python -m training.synth.sample`` (rewrite data/sample) and ``python -m
training.synth.calibration`` (the SPEC §5 figures of a world).
"""

from training.synth.candidates import candidate_pairs
from training.synth.coefficients import Coefficients
from training.synth.config import WorldConfig
from training.synth.outcomes import Logits, PairTerms
from training.synth.traits import IntakeTraits, TherapistTraits
from training.synth.truth import WorldTruth
from training.synth.world import SyntheticWorld, generate_world

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
