"""Therapist-side metrics on tiny data by hand."""

from __future__ import annotations

import numpy as np
import pytest
from fairness_tiny import tiny_inputs

from matcher.fairness import FairnessConfig, build_report, therapist_units

W2 = 1 / np.log2(3)
E1, E2, E5 = 1 + W2 + 0.5, 1 + W2, 1.0
EXPOSURE = {"a": 1.0, "b": W2 + 1, "c": 0.5 + W2 + 1, "d": 0.0}
TARGET = {"a": 0.4 * E1, "b": 0.3 * E1 + 0.625 * E2, "c": 0.2 * E1 + 0.375 * E2 + E5, "d": 0.1 * E1}


def _units():
    inputs = tiny_inputs()
    return therapist_units(inputs).set_axis(inputs.therapists["therapist_id"])


def test_unit_columns_by_hand():
    u = _units()
    assert u["exposure"].to_dict() == pytest.approx(EXPOSURE)
    assert u["target"].to_dict() == pytest.approx(TARGET)
    assert u["eligible_any"].tolist() == [1, 1, 1, 1]
    assert u["never_shown"].tolist() == [0, 0, 0, 1]
    assert u["capacity"].tolist() == [1, 1, 1, 0]
    assert u["utilisation"].tolist() == pytest.approx([1.0, 0.25, 20 / 15, 0.0])
    assert u["overloaded"].tolist() == [1, 0, 1, 0]


def test_group_exposure_merit_and_caseload_by_hand():
    report = build_report(tiny_inputs(), FairnessConfig(min_group_size=1, n_bootstrap=20))

    def result(key: str, attribute: str = "gender"):
        return next(r for r in report.therapist if r.spec.key == key and r.attribute == attribute)

    total_e, total_t = sum(EXPOSURE.values()), sum(TARGET.values())
    e_man = (EXPOSURE["a"] + EXPOSURE["b"]) / total_e
    t_man = (TARGET["a"] + TARGET["b"]) / total_t
    assert result("exposure_share").group("man").figure.value == pytest.approx(e_man)
    assert result("merit_share").group("woman").figure.value == pytest.approx(1 - t_man)
    ratio = result("exposure_merit_ratio")
    assert ratio.group("man").figure.value == pytest.approx(e_man / t_man)
    assert ratio.group("woman").figure.value == pytest.approx((1 - e_man) / (1 - t_man))
    assert ratio.disparity.worst == "woman"
    assert ratio.disparity.ratio.value == pytest.approx(
        ((1 - e_man) / (1 - t_man)) / (e_man / t_man)
    )
    assert result("never_shown").group("woman").figure.value == pytest.approx(0.5)
    assert result("overload_rate").group("man").figure.value == pytest.approx(0.5)
    assert result("overload_rate").group("woman").figure.value == pytest.approx(1.0)
    assert result("utilisation").overall.value == pytest.approx((1 + 0.25 + 20 / 15) / 3)

    scalars = {(s.key, s.scope): s for s in report.scalars}
    tv = scalars[("exposure_disparity", "gender")].figure.value
    assert tv == pytest.approx(abs(e_man - t_man))
    assert scalars[("overload_rate", "overall")].figure.value == pytest.approx(2 / 3)
    assert report.n_overloaded == 2
    assert [o.therapist_id for o in report.overloaded] == ["c", "a"]
