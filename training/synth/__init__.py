"""The synthetic world: profiles, hidden outcome model, logged lists (SPEC §5)."""

from training.synth.config import WorldConfig
from training.synth.truth import WorldTruth
from training.synth.world import SyntheticWorld, generate_world

__all__ = ["SyntheticWorld", "WorldConfig", "WorldTruth", "generate_world"]
