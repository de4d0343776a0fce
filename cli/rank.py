"""``matcher rank``: batch ranking of a file of intakes with the served model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.app import app, console, out

COLUMNS = ["intake_id", "therapist_id", "rank", "score", "status", "flags"]


@app.command()
def rank(
    data: Annotated[Path, typer.Option("--data", help="Folder with therapists.csv/.parquet.")],
    intakes: Annotated[Path, typer.Option("--intakes", help="Intakes file (CSV/Parquet).")],
    out_file: Annotated[Path, typer.Option("--out", help="Output .csv or .parquet.")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50)] = 10,
) -> None:
    """Rank therapists for a file of intakes with the served model and the API's rules.

    Writes one row per match (intake_id, therapist_id, rank, score, status, flags) and, for an
    intake without a list, one row with its status (crisis or no_eligible_match) and flags and
    empty therapist_id, rank and score: every intake of the file is accounted for. ``flags`` is
    a ``;``-joined list (clinical_follow_up, risk_review, higher_level_of_care).
    """
    import pandas as pd

    from core.settings import get_settings
    from features.dataset import find_table, load_table
    from features.schemas import INTAKES, THERAPISTS
    from matcher.engine import Matcher
    from training.registry import load_served_model

    settings = get_settings()
    therapists = load_table(find_table(data, "therapists"), THERAPISTS)
    frame = load_table(intakes, INTAKES)
    model = load_served_model(settings)
    matcher = Matcher(model, therapists, settings.serving)
    rows: list[dict[str, object]] = []
    with console.status(f"ranking {len(frame):,} intakes"):
        for start in range(0, len(frame), 2000):
            for result in matcher.match_frame(frame.iloc[start : start + 2000], top_k=top_k):
                common: dict[str, object] = {
                    "status": result.status.value,
                    "flags": ";".join(f.value for f in result.flags),
                }
                rows += [
                    {
                        "intake_id": result.intake_id,
                        "therapist_id": m.therapist_id,
                        "rank": m.rank,
                        "score": m.score,
                    }
                    | common
                    for m in result.matches
                ] or [{"intake_id": result.intake_id} | common]
    table = pd.DataFrame(rows, columns=COLUMNS).astype({"rank": "Int64"})
    if out_file.suffix not in (".csv", ".parquet"):
        raise typer.BadParameter("--out must end in .csv or .parquet")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + ".partial")
    if out_file.suffix == ".parquet":
        table.to_parquet(tmp, index=False)
    else:
        table.to_csv(tmp, index=False)
    tmp.replace(out_file)
    statuses = table.drop_duplicates("intake_id")["status"].value_counts()
    out.print(
        f"[green]wrote[/green] {out_file}: {len(table):,} rows for {len(frame):,} intakes "
        f"({', '.join(f'{n:,} {s}' for s, n in statuses.items())}; model {model.version})"
    )
