"""Write the sample fairness report (HTML + JSON) of the synthetic test world.

python tests/fairness/sample_report.py /tmp/fairness.html
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fairness_world import synthetic_inputs

from matcher.fairness import FairnessConfig, build_report, evaluate_tradeoff
from reports import render_html


def main(out: str = "/tmp/fairness.html") -> None:
    """Build the sample report with a mitigation trade-off and write ``out`` and its .json."""
    inputs = synthetic_inputs(n_intakes=3000, n_therapists=300)
    config = FairnessConfig(n_bootstrap=300)
    assert inputs.eligible is not None
    tradeoff = evaluate_tradeoff(inputs.eligible, inputs.therapists, config=config)
    report = build_report(inputs, config, tradeoff=tradeoff)
    path = Path(out)
    path.write_text(render_html(report), encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps(report.to_json(), indent=1), encoding="utf-8")
    print(path)


if __name__ == "__main__":
    main(*sys.argv[1:])
