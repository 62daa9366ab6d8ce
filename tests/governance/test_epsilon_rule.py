"""One ε rule (issue #15): governance's parser/formatter and the engine's copy agree on every case.

The engine may import nothing of ours, so it keeps its own `parse_epsilon`/`format_epsilon`; this grid
proves the two rules are one: the same range (0, 1], the same inputs refused, the same "k/255" labels.
"""

from __future__ import annotations

import pytest

from governance import thresholds

attacks = pytest.importorskip("robustness.engine.attacks")

WHOLE_255THS = [(f"{k}/255", k / 255) for k in range(1, 256)]
EDGES = [("1", 1.0), ("1.0", 1.0), (" 4/255 ", 4 / 255), ("0.0157", 0.0157), ("8/510", 4 / 255), ("1e-3", 0.001),
         (1, 1.0), (0.5, 0.5), (1e-9, 1e-9)]
INVALID = ["0", "0/255", "-1/255", "256/255", "4", "1.0000001", "4/0", "abc", "", "nan", "inf", "4 / 255 / 2",
           0, 0.0, -0.1, 1.5, float("nan"), float("inf"), float("-inf"), None]


@pytest.mark.parametrize(("text", "expected"), WHOLE_255THS + EDGES)
def test_both_rules_read_the_same_epsilon(text, expected):
    assert thresholds.parse_epsilon(text) == attacks.parse_epsilon(text) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text", INVALID)
def test_both_rules_refuse_the_same_inputs(text):
    with pytest.raises(ValueError, match="ε"):
        thresholds.parse_epsilon(text)
    with pytest.raises(attacks.AttackConfigError, match="ε"):
        attacks.parse_epsilon(text)


@pytest.mark.parametrize("k", range(1, 256))
def test_both_rules_label_every_whole_255th_alike(k):
    assert thresholds.format_epsilon(k / 255) == attacks.format_epsilon(k / 255) == f"{k}/255"
    assert thresholds.format_epsilon(float(f"{k / 255:.12f}")) == f"{k}/255"  # as stored with 12 decimals


@pytest.mark.parametrize(("epsilon", "label"), [
    (4 / 255 + 0.5e-4 / 255, "4/255"),  # within the tolerance of 1e-4 (in 255ths)
    (4 / 255 + 2e-4 / 255, "0.0156871"),  # beyond it: the decimal
    (0.0157, "0.0157"), (0.5, "0.5"), (0.3, "0.3"), (1e-7, "1e-07"), (1.0, "255/255"),
    (0.0, "0"),  # never "0/255": the clean column is not a radius
])
def test_both_rules_print_the_edges_alike(epsilon, label):
    assert thresholds.format_epsilon(epsilon) == attacks.format_epsilon(epsilon) == label


def test_the_rules_share_one_tolerance():
    assert thresholds.EPSILON_LABEL_TOLERANCE == attacks.EPSILON_LABEL_TOLERANCE == 1e-4


def test_two_stored_epsilons_are_the_same_radius_within_the_tolerance():
    assert thresholds.epsilon_same(4 / 255, 4 / 255 + 0.5e-4 / 255)
    assert not thresholds.epsilon_same(4 / 255, 4 / 255 + 2e-4 / 255)
    assert not thresholds.epsilon_same(4 / 255, 0.0157)


def test_a_threshold_written_as_k_over_255_and_as_its_decimal_is_listed_twice():
    rows = [{"attack": "cw-linf", "epsilon": "4/255", "min_robust_accuracy": 0.1},
            {"attack": "cw-linf", "epsilon": "0.0156863", "min_robust_accuracy": 0.2}]
    with pytest.raises(ValueError, match="threshold 2: cw-linf at ε=4/255 is listed twice"):
        thresholds.thresholds_clean(rows)
    assert len(thresholds.thresholds_clean([rows[0], {**rows[1], "epsilon": "0.0157"}])) == 2
