"""The data contract as a Markdown page, rendered from :data:`features.schemas.TABLES`.

``python -m features.contract_doc docs/data-contract.md`` rewrites the page; a test checks that
the page in the repository is what the contract says, so the two cannot drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

from features.schemas import TABLES, Column, Kind
from features.vocab import SELF_PAY

INTRO = f"""# Data contract

Generated from `features/schemas.py` by `python -m features.contract_doc docs/data-contract.md`;
do not edit by hand.

A data folder holds three tables, as CSV (UTF-8, header row) or Parquet: `therapists.*`,
`intakes.*`, `interactions.*`. List-valued columns are `;`-joined strings in CSV
(`anxiety;depression`); Parquet may also hold native lists. An empty cell is a missing value;
a required column must be present and every cell filled (an empty list counts as missing).
Unknown columns are ignored with a warning. Unknown vocabulary values, codes that do not exist,
out-of-range numbers, duplicate ids, dangling references and tables with no rows are errors that
name the file, row and column: check a folder with `matcher validate DIR`.

Region codes are ISO 3166-1 alpha-2 country codes (`IN`) or ISO 3166-2 subdivision codes
(`US-CA`), normalised to upper case (`us-ca` → `US-CA`); a therapist licensed for a whole
country (`US`) matches clients anywhere in it. Language codes are ISO 639-1 (normalised to lower
case). Payer codes are the platform's own; `{SELF_PAY}` means the
client pays the therapist's `session_fee`. The HTTP API takes the same fields as JSON (lists as
arrays).
"""

LABEL = """
## What a good outcome is

The graded label of a logged row (configurable in the training config's `[labels]` table):
0 shown, not chosen · 1 chosen, fewer than 2 sessions or dropped out · 2 at least 2 sessions ·
3 at least 4 sessions and not dropped out · 4 as 3 and reliable improvement (where that is
missing: alliance ≥ 4). A *good outcome* is label 4: retained and reliably improved.
"""


def _type(col: Column) -> str:
    kind = {Kind.LIST_STR: "list of text", Kind.LIST_INT: "list of whole numbers"}.get(
        col.kind, col.kind.value
    )
    return kind.replace("str", "text").replace("int", "whole number")


def _rule(col: Column) -> str:
    parts: list[str] = []
    if col.vocab is not None:
        parts.append(f"one of {col.vocab.__name__}")
    if col.codes is not None:
        parts.append("ISO 3166 region codes" if col.codes.value == "region" else "ISO 639-1")
    if col.minimum is not None or col.maximum is not None:
        lo = "" if col.minimum is None else f"{col.minimum:g}"
        hi = "" if col.maximum is None else f"{col.maximum:g}"
        parts.append(f"{lo}–{hi}" if hi else f"≥ {lo}")
    if col.max_len is not None:
        parts.append(f"≤ {col.max_len} characters")
    if col.kind.is_list and col.max_items:
        parts.append(f"{col.min_items}–{col.max_items} items")
    elif col.kind.is_list and col.min_items:
        parts.append(f"at least {col.min_items} item{'s' if col.min_items > 1 else ''}")
    if col.unique:
        parts.append("unique")
    return "; ".join(parts)


def render_markdown() -> str:
    """The whole page."""
    lines = [INTRO]
    vocabularies: dict[str, list[str]] = {}
    for table in TABLES.values():
        lines += [f"## {table.name}", "", "| column | type | required | values | notes |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for col in table.columns:
            if col.vocab is not None:
                vocabularies[col.vocab.__name__] = col.allowed or []
            lines.append(
                f"| `{col.name}` | {_type(col)} | {'yes' if col.required else 'no'} "
                f"| {_rule(col)} | {col.doc} |"
            )
        lines.append("")
    lines += ["## Vocabularies", ""]
    lines += [
        f"- **{name}**: {', '.join(f'`{v}`' for v in values)}"
        for name, values in sorted(vocabularies.items())
    ]
    return "\n".join(lines) + "\n" + LABEL


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
