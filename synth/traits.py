"""Hidden traits of the synthetic world's therapists and clients (never in the public tables).

Therapists: a general effect on improvement, a skill per problem domain (a few reliably poor in
one domain they advertise), a warmth per session format ("digital empathy"), a retention tendency,
and a profile appeal that sways choice only.

Digital empathy: the working alliance forms as well over video as in the room on average
(Simpson & Reid 2014, review of alliance in videoconferencing psychotherapy; Norwood et al. 2018,
meta-analysis: video outcomes non-inferior to in person, alliance ratings close to in-person
ones), so formats have no mean effect on improvement here (Lin et al. 2022), but therapists
differ in how well they convey empathy through a screen, a phone or text. The world gives each
therapist a zero-mean warmth e_tf per format, a small share (``WorldConfig.format_share``, 10%)
of the therapist variance (itself ~5%, Wampold & Brown 2005), so the SPEC §5 calibration holds.
Clients: prognosis, engagement, true severity, an unstated concern and their taste in formats.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.encoding import CONCERN_DOMAIN_CODE, TherapistPool
from features.vocab import Concern, Domain, Format
from synth.config import WorldConfig
from synth.intakes import IntakeLatents

Rng = np.random.Generator
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

DOMAINS: tuple[str, ...] = tuple(d.value for d in Domain)
FORMATS: tuple[str, ...] = tuple(f.value for f in Format)
CONCERNS: tuple[str, ...] = tuple(c.value for c in Concern)
FORMAT_TASTE = np.array([1.0, 0.3, 0.0, 0.8])
"""Mean utility of video, phone, chat, in person when a client can choose between them."""
LOW_BANDWIDTH_VIDEO_TASTE = -2.0
APPEAL_SD = 0.6
PROGNOSIS_SD = 0.8


@dataclass(frozen=True)
class TherapistTraits:
    """Hidden therapist traits, one row per therapist (logit scale)."""

    therapist_id: npt.NDArray[np.object_]
    general: F64
    """u_t: added to the improvement logit (and, scaled, subtracted from the dropout logit)."""
    skill: F64
    """``(n, domains)`` v_td: domain skill, including the poor-domain penalty."""
    poor_domain: I64
    """Domain code a therapist is reliably poor in (−1 for none)."""
    retention: F64
    """r_t: added to the dropout logit."""
    appeal: F64
    """Profile appeal (photo, writing): sways choice, not outcome."""
    warmth: F64
    """``(n, formats)`` e_tf: digital empathy, added to η for courses in format f."""

    def __len__(self) -> int:
        return len(self.therapist_id)

    def frame(self) -> pd.DataFrame:
        """As a table (one ``skill_<domain>`` column per domain)."""
        poor = np.array(("", *DOMAINS), dtype=object)[self.poor_domain + 1]
        columns: dict[str, object] = {
            "therapist_id": self.therapist_id,
            "general": self.general,
            "retention": self.retention,
            "appeal": self.appeal,
            "poor_domain": poor,
        }
        columns |= {f"skill_{d}": self.skill[:, k] for k, d in enumerate(DOMAINS)}
        columns |= {f"warmth_{f}": self.warmth[:, k] for k, f in enumerate(FORMATS)}
        return pd.DataFrame(columns)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> TherapistTraits:
        """Inverse of :meth:`frame` (worlds written before warmth existed have none: 0)."""
        index = {d: k for k, d in enumerate(DOMAINS)}
        poor = frame["poor_domain"].fillna("").map(lambda d: index.get(d, -1))
        warmth = [f"warmth_{f}" for f in FORMATS]
        if all(c in frame.columns for c in warmth):
            warm = frame[warmth].to_numpy(dtype=np.float64)
        else:
            warm = np.zeros((len(frame), len(FORMATS)))
        return cls(
            therapist_id=frame["therapist_id"].to_numpy(dtype=object),
            general=frame["general"].to_numpy(dtype=np.float64),
            skill=frame[[f"skill_{d}" for d in DOMAINS]].to_numpy(dtype=np.float64),
            poor_domain=poor.to_numpy(dtype=np.int64),
            retention=frame["retention"].to_numpy(dtype=np.float64),
            appeal=frame["appeal"].to_numpy(dtype=np.float64),
            warmth=warm,
        )

    def take(self, rows: I64) -> TherapistTraits:
        """Traits of the given rows; row −1 (an unknown therapist) gets the average therapist."""
        known = rows >= 0
        safe = np.maximum(rows, 0)
        mean = self.averaged()

        def pick(values: F64, average: F64) -> F64:
            shape = (-1,) + (1,) * (values.ndim - 1)
            if len(values) == 0:
                return np.broadcast_to(average[:1], (len(rows), *values.shape[1:])).copy()
            return np.where(known.reshape(shape), values[safe], average[:1])

        return TherapistTraits(
            therapist_id=np.where(known, self.therapist_id[safe] if len(self) else "", ""),
            general=pick(self.general, mean.general),
            skill=pick(self.skill, mean.skill),
            poor_domain=np.where(known, self.poor_domain[safe] if len(self) else -1, -1),
            retention=pick(self.retention, mean.retention),
            appeal=pick(self.appeal, mean.appeal),
            warmth=pick(self.warmth, mean.warmth),
        )

    def averaged(self) -> TherapistTraits:
        """Every therapist replaced by the average one (the profile-only oracle's view)."""
        n = len(self)

        def avg(values: F64) -> F64:
            mean = values.mean(axis=0) if n else np.zeros(values.shape[1:])
            return np.broadcast_to(mean, values.shape if n else (1, *values.shape[1:])).copy()

        return replace(
            self,
            general=avg(self.general),
            skill=avg(self.skill),
            retention=avg(self.retention),
            appeal=avg(self.appeal),
            warmth=avg(self.warmth),
            poor_domain=np.full(max(n, 1), -1, dtype=np.int64),
        )


@dataclass(frozen=True)
class IntakeTraits:
    """Hidden client traits, one row per intake."""

    intake_id: npt.NDArray[np.object_]
    prognosis: F64
    """w_i: added to the improvement logit."""
    engagement: F64
    """m_i: subtracted from the dropout logit; engaged clients also book more often."""
    severity: F64
    """True severity in [0, 1] (phq9/gad7 are noisy, sometimes missing measures of it)."""
    unstated_concern: I64
    """Concern code not listed in the intake (−1 for none); free text may mention it."""
    format_taste: F64
    """``(n, 4)`` utility of video, phone, chat, in person: the format used is the best shared."""
    holdout: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.intake_id)

    def frame(self) -> pd.DataFrame:
        """As a table (one ``taste_<format>`` column per format)."""
        unstated = np.array(("", *CONCERNS), dtype=object)[self.unstated_concern + 1]
        columns: dict[str, object] = {
            "intake_id": self.intake_id,
            "prognosis": self.prognosis,
            "engagement": self.engagement,
            "severity": self.severity,
            "unstated_concern": unstated,
            "holdout": self.holdout,
        }
        columns |= {f"taste_{f}": self.format_taste[:, k] for k, f in enumerate(FORMATS)}
        return pd.DataFrame(columns)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> IntakeTraits:
        """Inverse of :meth:`frame`."""
        index = {c: k for k, c in enumerate(CONCERNS)}
        unstated = frame["unstated_concern"].fillna("").map(lambda c: index.get(c, -1))
        return cls(
            intake_id=frame["intake_id"].to_numpy(dtype=object),
            prognosis=frame["prognosis"].to_numpy(dtype=np.float64),
            engagement=frame["engagement"].to_numpy(dtype=np.float64),
            severity=frame["severity"].to_numpy(dtype=np.float64),
            unstated_concern=unstated.to_numpy(dtype=np.int64),
            format_taste=frame[[f"taste_{f}" for f in FORMATS]].to_numpy(dtype=np.float64),
            holdout=frame["holdout"].to_numpy(dtype=bool),
        )

    def take(
        self, rows: I64, observed_severity: F64, low_bandwidth: npt.NDArray[np.bool_]
    ) -> IntakeTraits:
        """Traits of the given rows; an unknown intake (row −1) gets average traits, its observed
        severity (0.45 if unknown) and the mean format taste for its bandwidth."""
        known = rows >= 0
        safe = np.maximum(rows, 0)
        empty = len(self) == 0

        def pick(values: F64, default: F64 | float) -> F64:
            chosen = np.zeros((len(rows), *values.shape[1:])) if empty else values[safe]
            shape = (-1,) + (1,) * (chosen.ndim - 1)
            return np.where(known.reshape(shape), chosen, default)

        default_taste = FORMAT_TASTE[None, :] + np.outer(
            low_bandwidth, [LOW_BANDWIDTH_VIDEO_TASTE, 0, 0, 0]
        )
        return IntakeTraits(
            intake_id=np.where(known, self.intake_id[safe] if not empty else "", ""),
            prognosis=pick(self.prognosis, 0.0),
            engagement=pick(self.engagement, 0.0),
            severity=pick(self.severity, np.nan_to_num(observed_severity, nan=0.45)),
            unstated_concern=np.where(known, self.unstated_concern[safe] if not empty else -1, -1),
            format_taste=pick(self.format_taste, default_taste),
            holdout=np.where(known, self.holdout[safe] if not empty else False, False),
        )


@dataclass(frozen=True)
class TherapistDraws:
    """Unit-scale draws for therapist traits; :func:`scale_therapists` applies the effect sizes
    once they are solved for (SPEC §5 shares depend on the realised caseloads)."""

    general: F64
    skill: F64
    poor_domain: I64
    retention: F64
    appeal: F64
    warmth: F64


def draw_therapist_units(config: WorldConfig, rng: Rng, pool: TherapistPool) -> TherapistDraws:
    """Standard-normal general, domain and format effects; a ``poor_share`` of therapists get
    one poor domain, chosen among the domains of their own specialties. The format draws come
    last, so worlds keep every other draw they had before warmth existed."""
    n = len(pool)
    general = rng.normal(0, 1, n)
    skill = rng.normal(0, 1, (n, len(DOMAINS)))
    spec_bits = (pool.specialties[:, None] >> np.arange(len(CONCERNS), dtype=np.uint64)) & 1
    offers = spec_bits.astype(np.float64) @ np.eye(len(DOMAINS))[CONCERN_DOMAIN_CODE]
    weights = (offers > 0) + 1e-9
    chosen = np.argmax(np.log(weights) + rng.gumbel(size=weights.shape), axis=1)
    poor = np.where(rng.random(n) < config.poor_share, chosen, -1).astype(np.int64)
    retention = rng.normal(0, config.retention_sd, n)
    appeal = rng.normal(0, APPEAL_SD, n)
    warmth = rng.normal(0, 1, (n, len(FORMATS)))
    return TherapistDraws(general, skill, poor, retention, appeal, warmth)


def scale_therapists(
    draws: TherapistDraws,
    ids: npt.NDArray[np.object_],
    *,
    general_sd: float,
    domain_sd: float,
    poor_effect: float,
    format_sd: float = 0.0,
) -> TherapistTraits:
    """Final traits: u = general_sd·z, v_td = domain_sd·z_td + poor_effect·[d = poor domain],
    e_tf = format_sd·z_tf."""
    skill = domain_sd * draws.skill
    poor = draws.poor_domain >= 0
    skill[np.flatnonzero(poor), draws.poor_domain[poor]] += poor_effect
    return TherapistTraits(
        therapist_id=ids,
        general=general_sd * draws.general,
        skill=skill,
        poor_domain=draws.poor_domain,
        retention=draws.retention,
        appeal=draws.appeal,
        warmth=format_sd * draws.warmth,
    )


def draw_intake_traits(
    rng: Rng,
    ids: npt.NDArray[np.object_],
    latents: IntakeLatents,
    *,
    low_bandwidth: npt.NDArray[np.bool_],
    holdout: npt.NDArray[np.bool_],
) -> IntakeTraits:
    """Prognosis ~ N(0, 0.8²), engagement ~ N(0, 1), format taste = mean taste + N(0, 0.7²)."""
    n = len(ids)
    taste = FORMAT_TASTE[None, :] + rng.normal(0, 0.7, (n, len(FORMATS)))
    taste[:, 0] += LOW_BANDWIDTH_VIDEO_TASTE * low_bandwidth
    return IntakeTraits(
        intake_id=ids,
        prognosis=rng.normal(0, PROGNOSIS_SD, n),
        engagement=rng.normal(0, 1, n),
        severity=latents.severity,
        unstated_concern=latents.unstated_concern,
        format_taste=taste,
        holdout=holdout,
    )


__all__ = [
    "DOMAINS",
    "IntakeTraits",
    "TherapistDraws",
    "TherapistTraits",
    "draw_intake_traits",
    "draw_therapist_units",
    "scale_therapists",
]
