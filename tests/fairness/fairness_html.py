"""Read the figures back out of a rendered report and out of its JSON, keyed the same way."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any


class _Figures(HTMLParser):
    """Collects (data-key → [(data-value, text)]) from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, list[tuple[Any, str]]] = {}
        self._open: list[tuple[str, str, Any, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for frame in self._open:
            frame[3].append("")
        if "data-key" in a:
            self._open.append((tag, a["data-key"] or "", json.loads(a["data-value"] or ""), []))
        else:
            self._open.append((tag, "", None, []))

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            return
        _tag, key, value, text = self._open.pop()
        if key:
            self.found.setdefault(key, []).append((value, "".join(text).strip()))
        if self._open:
            self._open[-1][3].append("".join(text))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][3].append(data)


def html_figures(page: str) -> dict[str, list[tuple[Any, str]]]:
    """data-key → every (value, visible text) it carries on the page."""
    parser = _Figures()
    parser.feed(page)
    return parser.found


def json_figures(doc: dict[str, Any]) -> dict[str, Any]:
    """The same keys, built from the JSON document (see reports.fairness.html)."""
    out: dict[str, Any] = {}
    for side in ("client", "therapist"):
        for m in doc[side]:
            base = f"{side}/{m['metric']}/{m['attribute']}"
            for g in m["groups"]:
                if g.get("suppressed"):
                    out[f"{base}/{g['group']}/note"] = g["note"]
                else:
                    for f in ("n", "value", "low", "high"):
                        out[f"{base}/{g['group']}/{f}"] = g[f]
                    for f, v in g.get("exact", {}).items():
                        out[f"{base}/{g['group']}/exact/{f}"] = v
            if m["overall"] is not None:
                for f in ("value", "low", "high"):
                    out[f"{side}/{m['metric']}/overall/{f}"] = m["overall"][f]
            d = m["disparity"]
            if d is not None:
                if d["worst"] != d["best"]:
                    out[f"{base}/disparity/worst"] = d["worst"]
                    out[f"{base}/disparity/best"] = d["best"]
                for part in ("ratio", "gap"):
                    for f in ("value", "low", "high"):
                        out[f"{base}/disparity/{part}/{f}"] = d[part][f]
            if m["direction"] != "neutral":
                out[f"{base}/flag"] = m["flag"]["level"]
    for section in ("scalars", "preferences"):
        for s in doc[section]:
            base = f"{section}/{s['metric']}/{s['scope']}"
            if s.get("suppressed"):
                out[f"{base}/note"] = s["note"]
            else:
                for f in ("n", "value", "low", "high"):
                    if f in s:
                        out[f"{base}/{f}"] = s[f]
            out[f"{base}/flag"] = s["flag"]["level"]
    if doc["provenance"] is not None:
        for name, value in doc["provenance"].items():
            out[f"provenance/{name}"] = value
    for name, value in doc["counts"].items():
        out[f"counts/{name}"] = value
    for level, value in doc["summary"]["levels"].items():
        out[f"summary/{level}"] = value
    for i, h in enumerate(doc["summary"]["headlines"]):
        out[f"summary/headline/{i}"] = h["text"]
    out["overloaded/count"] = doc["overloaded"]["count"]
    for o in doc["overloaded"]["listed"]:
        for f in ("display_name", "current_caseload", "max_caseload"):
            out[f"overloaded/{o['therapist_id']}/{f}"] = o[f]
    if doc["tradeoff"] is not None:
        for i, row in enumerate(doc["tradeoff"]["rows"]):
            for f, v in row.items():
                if f == "exposure_disparity":
                    for a, x in v.items():
                        out[f"tradeoff/{i}/exposure_disparity/{a}"] = x
                elif f in ("true_benefit", "true_benefit_change") and v is None:
                    continue
                else:
                    out[f"tradeoff/{i}/{f}"] = v
    return out
