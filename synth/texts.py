"""Template text of the synthetic world: therapist names and bios, clients' "what brings you here".

Bios name the therapist's specialties and approaches and clients' texts name their concerns in
overlapping words, so free-text ↔ bio similarity carries a weak real signal. Strings are built
column-wise on object arrays (no per-row Python formatting).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from synth.clinical import APPROACHES, CONCERNS
from synth.sampling import per_value

Rng = np.random.Generator
Obj = npt.NDArray[np.object_]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

_CLIENT_PHRASES = {
    "anxiety": ("constant worry and anxiety", "panic attacks and feeling anxious all the time"),
    "depression": ("feeling low and depressed", "no motivation, low mood, feeling empty"),
    "trauma_ptsd": ("flashbacks from a traumatic event", "trauma I never dealt with"),
    "relationships": ("problems in my relationship", "constant fights with my partner"),
    "family_conflict": ("conflict with my family", "tension with my parents"),
    "grief_loss": ("grief since I lost someone close", "the loss of my mother"),
    "substance_use": ("drinking too much", "my alcohol and drug use"),
    "eating_disorders": ("my eating and body image", "binge eating and restricting food"),
    "ocd": ("intrusive thoughts and checking rituals", "obsessive thoughts I can't stop"),
    "bipolar": ("mood swings between highs and lows", "my bipolar diagnosis"),
    "adhd": ("focus and attention problems, maybe ADHD", "ADHD and procrastination"),
    "stress_burnout": ("burnout and stress at work", "work stress that never stops"),
    "self_esteem": ("low self-esteem and self-criticism", "not feeling good enough"),
    "life_transitions": ("a big life change", "a move and a new job"),
    "anger": ("anger and losing my temper", "irritability and outbursts"),
    "sleep": ("insomnia and poor sleep", "not sleeping at night"),
    "chronic_illness_pain": ("living with chronic pain", "coping with a chronic illness"),
    "identity_lgbtqia": ("questions about my sexuality and identity", "coming out"),
    "perinatal": ("struggling since having a baby", "anxiety during pregnancy"),
    "personality_disorders": ("intense emotions and unstable relationships", "emotional chaos"),
}
_THERAPIST_PHRASES = {
    "anxiety": "anxiety, worry and panic",
    "depression": "depression and low mood",
    "trauma_ptsd": "trauma and PTSD",
    "relationships": "relationship and couples issues",
    "family_conflict": "family conflict",
    "grief_loss": "grief and loss",
    "substance_use": "alcohol and drug use",
    "eating_disorders": "eating disorders and body image",
    "ocd": "OCD and intrusive thoughts",
    "bipolar": "bipolar disorder and mood swings",
    "adhd": "ADHD, attention and focus",
    "stress_burnout": "stress and burnout",
    "self_esteem": "self-esteem",
    "life_transitions": "life transitions",
    "anger": "anger management",
    "sleep": "insomnia and sleep",
    "chronic_illness_pain": "chronic illness and pain",
    "identity_lgbtqia": "LGBTQIA+ identity and coming out",
    "perinatal": "pregnancy and new parenthood",
    "personality_disorders": "emotional regulation and personality disorders",
}
_APPROACH_NAMES = {
    "cbt": "cognitive behavioural therapy (CBT)",
    "dbt": "dialectical behaviour therapy (DBT)",
    "act": "acceptance and commitment therapy",
    "emdr": "EMDR",
    "psychodynamic": "psychodynamic therapy",
    "person_centered": "person-centred therapy",
    "solution_focused": "solution-focused therapy",
    "mindfulness_based": "mindfulness",
    "family_systems": "family systems work",
    "motivational_interviewing": "motivational interviewing",
    "ifs": "internal family systems (IFS)",
    "exposure_response_prevention": "exposure and response prevention",
    "trauma_focused_cbt": "trauma-focused CBT",
    "gottman": "the Gottman method",
    "narrative": "narrative therapy",
}
_LANGUAGE_NAMES = {
    "es": "Spanish",
    "zh": "Mandarin",
    "fr": "French",
    "ar": "Arabic",
    "pt": "Portuguese",
    "vi": "Vietnamese",
    "hi": "Hindi",
    "ta": "Tamil",
    "mr": "Marathi",
    "pl": "Polish",
    "ur": "Urdu",
    "pa": "Punjabi",
}
_FIRST = [
    "Alex",
    "Sam",
    "Priya",
    "Maria",
    "Chen",
    "Fatima",
    "Jordan",
    "Aisha",
    "Luis",
    "Emma",
    "Noah",
    "Olivia",
    "Ravi",
    "Sofia",
    "Kwame",
    "Yuki",
    "Leila",
    "Daniel",
    "Hannah",
    "Omar",
    "Grace",
    "Mateo",
    "Anika",
    "Chloe",
    "Diego",
    "Zara",
    "Ethan",
    "Mei",
    "Tariq",
    "Nora",
    "Jamal",
    "Ines",
    "Arjun",
    "Rosa",
    "Liam",
    "Amara",
    "Kenji",
    "Lucia",
    "Samuel",
    "Divya",
]
_LAST = [
    "Smith",
    "Garcia",
    "Patel",
    "Kim",
    "Nguyen",
    "Okafor",
    "Cohen",
    "Haddad",
    "Silva",
    "Brown",
    "Singh",
    "Lopez",
    "Muller",
    "Ahmed",
    "Rossi",
    "Johnson",
    "Ito",
    "Reyes",
    "Williams",
    "Khan",
    "Martin",
    "Chen",
    "Mensah",
    "Novak",
    "Dubois",
    "Walker",
    "Iyer",
    "Costa",
    "Hughes",
    "Ortiz",
]
_OPENERS = np.array(
    [
        "I'm looking for help with ",
        "Lately I've been struggling with ",
        "The main thing is ",
        "I want to work on ",
        "Honestly it's ",
    ],
    dtype=object,
)
_CLOSERS = np.array(
    [
        "",
        " It's affecting my work and sleep.",
        " I've never been to therapy before.",
        " I tried therapy years ago and want to try again.",
        " My friends suggested I talk to someone.",
    ],
    dtype=object,
)
_BIO_CLOSERS = np.array(
    [
        " Together we will work at a pace that feels right for you.",
        " I offer a warm, collaborative space.",
        " Sessions are practical and goal-oriented.",
        " I believe everyone deserves to feel heard.",
    ],
    dtype=object,
)


def _table(mapping: dict[str, str], keys: tuple[str, ...]) -> Obj:
    return np.array([mapping[k] for k in keys], dtype=object)


def join_phrases(parts: Obj, present: B) -> Obj:
    """Row-wise English list of the present parts: "a", "a and b", "a, b and c" (≤ 3 parts)."""
    n = present.sum(axis=1)
    a = np.where(present[:, 0], parts[:, 0], "")
    b = parts[:, 1] if parts.shape[1] > 1 else np.full(len(parts), "", dtype=object)
    c = parts[:, 2] if parts.shape[1] > 2 else np.full(len(parts), "", dtype=object)
    two = a + " and " + b
    three = a + ", " + b + " and " + c
    return np.where(n >= 3, three, np.where(n == 2, two, a))


def names(rng: Rng, n: int) -> Obj:
    """Display-name stems ("First Last")."""
    first = np.array(_FIRST, dtype=object)[rng.integers(0, len(_FIRST), n)]
    last = np.array(_LAST, dtype=object)[rng.integers(0, len(_LAST), n)]
    return first + " " + last


def bios(
    rng: Rng,
    *,
    specialties: tuple[I64, B],
    approaches: tuple[I64, B],
    years: I64,
    other_language: Obj,
) -> Obj:
    """Therapist bios naming up to three specialties, up to two approaches and a second language.

    ``specialties``/``approaches`` are (code matrix, drawn mask) pairs, most prominent first;
    ``other_language`` is a language code or "" per row.
    """
    spec_codes, spec_drawn = specialties
    appr_codes, appr_drawn = approaches
    k = min(3, spec_codes.shape[1])
    spec = _table(_THERAPIST_PHRASES, CONCERNS)[spec_codes[:, :k]]
    m = min(2, appr_codes.shape[1])
    appr = _table(_APPROACH_NAMES, APPROACHES)[appr_codes[:, :m]]
    lang_names = per_value(other_language, lambda lang: _LANGUAGE_NAMES.get(lang, ""))
    language = np.where(lang_names != "", " I also offer sessions in " + lang_names + ".", "")
    years_text = np.asarray(years).astype(str).astype(object)
    return (
        "I have "
        + years_text
        + " years of experience helping people with "
        + join_phrases(spec, spec_drawn[:, :k])
        + ". My approach draws on "
        + join_phrases(appr, appr_drawn[:, :m])
        + "."
        + language
        + _BIO_CLOSERS[rng.integers(0, len(_BIO_CLOSERS), len(years))]
    )


def free_texts(rng: Rng, concerns: I64, concern_drawn: B, unstated: I64) -> Obj:
    """Clients' own words naming their first two concerns and, if any, an unstated one.

    ``unstated`` is a concern code the client did not list (−1 for none): mentioning it here is
    the only way a model could learn about it.
    """
    n = len(concerns)
    variant = rng.integers(0, 2, size=(n, 2))
    phrases = np.array([_CLIENT_PHRASES[c] for c in CONCERNS], dtype=object)
    k = min(2, concerns.shape[1])
    parts = phrases[concerns[:, :k], variant[:, :k]]
    body = join_phrases(parts, concern_drawn[:, :k])
    extra = phrases[np.maximum(unstated, 0), rng.integers(0, 2, n)]
    also = np.where(unstated >= 0, " Also " + extra + ".", "")
    return (
        _OPENERS[rng.integers(0, len(_OPENERS), n)]
        + body
        + "."
        + also
        + _CLOSERS[rng.integers(0, len(_CLOSERS), n)]
    )


__all__ = ["bios", "free_texts", "join_phrases", "names"]
