"""Bounded answer parsers (dataset_builders/answer_parsing.py): exact arithmetic, literals, sequences, grids, numbers."""

from __future__ import annotations

from fractions import Fraction

import pytest

from dataset_builders.answer_parsing import (
    AnswerParseError,
    check_nesting,
    evaluate_arithmetic,
    parse_grid,
    parse_int_sequence,
    parse_literal,
    parse_number,
    parse_pairs,
    parse_token_list,
)


def test_evaluate_arithmetic_is_exact_and_bounded():
    assert evaluate_arithmetic("8/(3-8/3)").value == 24
    result = evaluate_arithmetic("(3×(9+(15−16)))")
    assert result.value == 24 and result.literals == (3, 9, 15, 16)
    assert evaluate_arithmetic("2^10", allow_power=True).value == 1024
    assert evaluate_arithmetic("-3+5").value == 2
    for bad, kwargs in (
        ("__import__('os')", {}),
        ("2**3", {}),
        ("2^3", {}),  # XOR unless powers are allowed
        ("9**9**9", {"allow_power": True}),
        ("10**40", {"allow_power": True}),
        ("1/0", {}),
        ("1.5+1", {}),
        ("-3+5", {"allow_unary": False}),
        ("x+1", {}),
        ("(" * 40 + "1" + ")" * 40, {}),
        ("1+" * 300 + "1", {}),
        ("9" * 20, {}),
    ):
        with pytest.raises(AnswerParseError):
            evaluate_arithmetic(bad, **kwargs)


def test_literal_and_sequence_parsers():
    assert parse_literal("[[1, 2], (3, -4), {'a': 'b'}]") == [[1, 2], (3, -4), {"a": "b"}]
    for bad in ("__import__('os')", "[1, 2] + [3]", "f(1)", "[" * 50 + "]" * 50, "10**100", "1" * 60):
        with pytest.raises(AnswerParseError):
            parse_literal(bad)
    assert parse_pairs("0 3, 1 0, 2 4") == parse_pairs("[(0,3),(1,0),(2,4)]") == [(0, 3), (1, 0), (2, 4)]
    with pytest.raises(AnswerParseError):
        parse_pairs("0 3, 1")
    assert parse_int_sequence("[3, -80, 36]") == [3, -80, 36]
    for bad in ("1, two, 3", "3-4", "1, 2 -", "1" * 20):
        with pytest.raises(AnswerParseError):
            parse_int_sequence(bad)
    assert parse_token_list('[6, /, "2", +, 7]') == ["6", "/", "2", "+", "7"]
    assert parse_token_list("A,B,C") == ["A", "B", "C"] and parse_token_list("[]") == []
    assert (
        parse_grid("16, 0\n4, 2") == parse_grid("[[16, 0], [4, 2]]") == parse_grid("[16 0]\n[4 2]") == [[16, 0], [4, 2]]
    )
    assert parse_grid("a,b\nc,d", str) == [["a", "b"], ["c", "d"]]
    assert parse_number("-7/3") == Fraction(-7, 3) and parse_number("2.50") == Fraction(5, 2)
    for bad in ("1e999999", "7/0", "abc", "1" * 200):
        with pytest.raises(AnswerParseError):
            parse_number(bad)
    check_nesting("[[1]]", max_depth=2)
    with pytest.raises(AnswerParseError):
        check_nesting("[[[1]]]", max_depth=2)
