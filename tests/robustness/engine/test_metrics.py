"""Wilson intervals, exact merging of partial counts, and the JSON record."""

from __future__ import annotations

import json

import pytest

from robustness.engine.metrics import (
    AttackCounts,
    EvaluationPartial,
    PartialMergeError,
    merge_all,
    wilson_interval,
    worst_class,
)
from robustness.engine.records import AttackInfo, RobustnessRecord, build_record


def _partial(
    batch: int, examples: tuple[int, ...], clean: tuple[int, ...], robust: tuple[int, ...], flipped: int
) -> EvaluationPartial:
    return EvaluationPartial(3, (batch,), examples, clean, (AttackCounts("screen-pgd10", 4 / 255, robust, flipped),))


def test_wilson_interval_matches_the_textbook_values() -> None:
    half = wilson_interval(5, 10)
    assert (half.value, round(half.low, 4), round(half.high, 4)) == (0.5, 0.2366, 0.7634)
    none = wilson_interval(0, 20)
    assert (none.value, none.low, round(none.high, 4)) == (0.0, 0.0, 0.1611)
    everything = wilson_interval(20, 20)
    assert (round(everything.low, 4), everything.high) == (0.8389, 1.0)
    assert wilson_interval(0, 0).high == 1.0
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_partials_merge_by_exact_integer_sums_in_any_order() -> None:
    first = _partial(0, (2, 1, 1), (2, 1, 0), (1, 0, 0), 2)
    second = _partial(1, (0, 3, 1), (0, 2, 1), (0, 1, 1), 1)
    third = _partial(2, (1, 1, 1), (1, 1, 1), (1, 1, 1), 0)
    merged = merge_all([third, first, second])
    assert merged == first + second + third
    assert merged.batches == (0, 1, 2)
    assert (merged.examples, merged.clean_correct) == ((3, 5, 3), (3, 4, 2))
    assert (merged.attacks[0].robust_correct, merged.attacks[0].flipped) == ((2, 2, 2), 3)
    assert merged.n_examples == 11


def test_merging_refuses_overlapping_batches_and_different_attacks() -> None:
    first = _partial(0, (1, 0, 0), (1, 0, 0), (1, 0, 0), 0)
    with pytest.raises(PartialMergeError, match="batches evaluated twice: \\[0\\]"):
        first.merge(first)
    other = EvaluationPartial(3, (1,), (1, 0, 0), (1, 0, 0), (AttackCounts("cw-linf", 4 / 255, (1, 0, 0), 0),))
    with pytest.raises(PartialMergeError, match="different attacks"):
        first.merge(other)


def test_partial_round_trips_through_a_plain_dict() -> None:
    partial = _partial(4, (2, 1, 1), (2, 1, 0), (1, 0, 0), 2)
    assert EvaluationPartial.from_dict(json.loads(json.dumps(partial.to_dict()))) == partial


def test_worst_class_ignores_classes_without_examples() -> None:
    assert worst_class((3, 0, 1), (3, 0, 4)) == (2, 0.25)
    assert worst_class((0, 0), (0, 0)) is None


def test_record_states_rates_per_class_numbers_and_round_trips_json() -> None:
    partial = _partial(0, (4, 4, 2), (4, 3, 1), (2, 3, 0), 3)  # clean 8/10, robust 5/10, flipped 3 of 8
    info = {"screen-pgd10": AttackInfo("pgd Linf ...", "torchattacks 3.5.1", "Linf")}
    record = build_record(
        partial,
        attacks=info,
        dataset="toy",
        class_names=("a", "b", "c"),
        seed=3,
        batch_size=10,
        device="cpu",
        anchor_diagnostics={"mean_off_diagonal": 0.5},
    )
    result = record.result("screen-pgd10", 4 / 255)
    assert (record.clean_accuracy.value, result.robust_accuracy.value) == (0.8, 0.5)
    assert (result.attack_success_rate.value, result.defence_success_rate.value) == (3 / 8, 5 / 8)
    assert (result.eps_label, result.threat_model) == ("4/255", "Linf")
    assert [row.accuracy for row in result.per_class] == [0.5, 0.75, 0.0]
    assert result.worst_class is not None and result.worst_class.class_name == "c"
    assert record.clean_worst_class is not None and record.clean_worst_class.class_name == "c"
    assert set(record.versions) >= {"torch", "torchattacks", "open_clip"}
    assert RobustnessRecord.from_json(record.to_json()) == record
    assert json.loads(record.to_json())["results"][0]["eps"] == pytest.approx(4 / 255)
