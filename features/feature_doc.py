"""The pairwise features as a Markdown page, rendered from :data:`features.pipeline.FEATURES`.

``python -m features.feature_doc docs/features.md`` rewrites the page; a test checks that the
page in the repository is what the pipeline computes, so the two cannot drift apart. The same
names, in the same order, are each training run's ``features.json`` artifact.
"""

from __future__ import annotations

import sys
from pathlib import Path

from features.pipeline import FEATURES, Feature

INTRO = """# Features

Generated from `features/pipeline.py` by `python -m features.feature_doc docs/features.md`; do
not edit by hand.

One row per (intake, therapist) pair, the same code for training and serving, in this order
(each training run logs the names as its `features.json` artifact). NaN means unknown: the
boosters route it, the outcome model's linear half fills it with the training mean and adds a
missing indicator. *Monotone* features can only raise the predicted outcome (the boosters'
constraint and the linear half's coefficient sign, `TrainConfig.monotone`); *therapist-only*
ones read no intake and are computed once per pool. Columns starting `tr_` are therapists' track
records: out of fold in training, from the whole history when serving.
"""


def _traits(feature: Feature) -> str:
    traits = []
    if feature.monotone:
        traits.append("monotone ↑" if feature.monotone > 0 else "monotone ↓")
    if feature.categorical:
        traits.append("categorical")
    if feature.therapist_only:
        traits.append("therapist-only")
    return ", ".join(traits)


def render_markdown() -> str:
    """The whole page."""
    lines = [INTRO, "| # | feature | what it is | traits |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {k} | `{f.name}` | {f.doc.replace('|', '/')} | {_traits(f)} |"
        for k, f in enumerate(FEATURES)
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Write the page to the path given (or print it)."""
    args = sys.argv[1:] if argv is None else argv
    text = render_markdown()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()


__all__ = ["main", "render_markdown"]
