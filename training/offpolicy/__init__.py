"""Off-policy evaluation: estimate a ranking policy's good-outcome rate from logged lists alone.

Item-position IPS/SNIPS (:mod:`.ips`), position-based-model IPS/SNIPS (:mod:`.pbm`), the PBM
doubly robust estimator (:mod:`.doubly_robust`), the choice-aware doubly robust estimator over a
fitted single-choice list model (:mod:`.choice_dr`, :mod:`.choice_model`), examination curve
(:mod:`.examination`),
propensities for history without them (:mod:`.propensity_model`), and the glue behind
``matcher evaluate`` (:mod:`.evaluate`). Written here rather than with Open Bandit Pipeline: obp
0.5.x requires Python < 3.11 and 0.4.1 uses ``np.int`` (removed in NumPy 1.24) and needs torch.
"""

from training.offpolicy.choice_dr import ChoiceDoublyRobust, choice_dr_contributions
from training.offpolicy.choice_model import ListChoiceModel
from training.offpolicy.doubly_robust import calibrate_outcome, doubly_robust, dr_contributions
from training.offpolicy.examination import fit_examination, raw_examination
from training.offpolicy.feedback import GOOD_LABEL, LoggedFeedback
from training.offpolicy.intervals import Estimate, mean_estimate, ratio_estimate
from training.offpolicy.ips import ips, item_position_weights, snips
from training.offpolicy.pbm import pbm_ips, pbm_snips, pbm_weights
from training.offpolicy.report import (
    ESTIMATORS,
    HEADLINE,
    LOGGING,
    OBSERVED,
    OffPolicyReport,
    OutcomeLookup,
    PolicyEstimate,
    dr_terms,
    estimate_lists,
    observed,
)
from training.offpolicy.targets import TargetLists, at_logged_rows, target_positions

__all__ = [
    "ESTIMATORS",
    "GOOD_LABEL",
    "HEADLINE",
    "LOGGING",
    "OBSERVED",
    "ChoiceDoublyRobust",
    "Estimate",
    "ListChoiceModel",
    "LoggedFeedback",
    "OffPolicyReport",
    "OutcomeLookup",
    "PolicyEstimate",
    "TargetLists",
    "at_logged_rows",
    "calibrate_outcome",
    "choice_dr_contributions",
    "doubly_robust",
    "dr_contributions",
    "dr_terms",
    "estimate_lists",
    "fit_examination",
    "ips",
    "item_position_weights",
    "mean_estimate",
    "observed",
    "pbm_ips",
    "pbm_snips",
    "pbm_weights",
    "ratio_estimate",
    "raw_examination",
    "snips",
    "target_positions",
]
