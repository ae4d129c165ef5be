"""Numeric answers of SymBench tasks (dataset_builders/symbench/number_answers.py): rounding and notation rules."""

from __future__ import annotations

from fractions import Fraction


def test_rounded_decimals_must_round_or_truncate_the_target() -> None:
    from dataset_builders.symbench.number_answers import numbers_match, read_number

    def matches(text: str, target: str) -> bool:
        return numbers_match(*read_number(text), Fraction(target))

    # rounded (either way at a tie) or truncated to the written places
    for ok, target in [("1.14", "8/7"), ("1.143", "8/7"), ("-1.14", "-8/7"), ("0.13", "1/8"), ("0.12", "1/8")]:
        assert matches(ok, target), (ok, target)
    # one unit off in the last place is a wrong number, not a rounding: 8/7 = 1.1428...
    for bad, target in [("1.15", "8/7"), ("-1.15", "-8/7"), ("12.51", "25/2"), ("12.49", "25/2")]:
        assert not matches(bad, target), (bad, target)
    # float noise is relative 1e-12, not 1e-9 (which passed 9099577.9216669 for 9099577.916666...)
    assert matches("9099577.9166666667", "9099577.916666666")
    assert not matches("9099577.9216669", "9099577.916666666")
    # scientific notation counts the places of the value
    assert matches("3.051757812e-05", "1/32768") and not matches("3.2e-05", "1/32768")
