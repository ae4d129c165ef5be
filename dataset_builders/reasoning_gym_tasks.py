"""Reasoning-Gym: 84 procedurally generated tasks, scored by each dataset's own `score_answer`.

A task wraps `reasoning_gym.create_dataset(name, size=..., seed=..., **config)`; the config is a
constructor argument (`ReasoningGymTask("maze", max_dist=20)`). The verdict is Reasoning-Gym's own
rule applied to the extracted answer, made binary: 1.0 only when `score_answer` gives full marks
(its small partial credits, e.g. 0.01 for "well-formed but wrong", would make a wrong answer look
like progress to the pass-rate filter and the curriculum). `partial_credit=True` keeps them.

Which 84 of the 105 generators of reasoning-gym 0.1.25, and why (`EXCLUDED` lists every one left
out with its reason):
- `composite` mixes other datasets and needs a config of its own;
- no reference answer to train or check against: `boxnet`, `rush_hour` (answer None and no
  solution in the metadata; `graph_color` and `rubiks_cube` also have answer None but carry a
  verified solution in the metadata, which becomes the reference);
- a verifier that does not test the reasoning: `propositional_logic` accepts any valid
  non-trivial conclusion, and restating a premise ("(Q ∧ Q)") is one, so copying scores 1;
- the same task as a SymBench or BBH task, which would count one task twice and, for held-out
  ones, leak the test split into training: `string_splitting`, `pool_matrix` and `n_queens`
  (SymBench test tasks string_splitting, pooling, eight_queens), `word_sorting` (BBH test task),
  `string_insertion`, `string_synthesis`, `string_manipulation`, `mahjong_puzzle`, `puzzle24`,
  `sudoku`, `gsm_symbolic` (SymBench string_insertion, string_synthesis,
  string_deletion_and_modification, mahjong_pattern, game24, standard_sudoku, gsm_hard);
- too slow to generate 200 items (2 cores): `knight_swap` (~38 s), `futoshiki` (~33 s),
  `number_sequence` (~15 s), `zebra_puzzles` (~13 s), `sokoban` (~7 s),
  `intermediate_integration` (~5 s plus ~1 s of sympy per 200 scores);
- `codeio` executes its bundled code snippets in this process while generating (and prints their
  tracebacks); a trainer process should not run third-party code to build a question.

Fixes for upstream defects of kept datasets:
- Scorers that give full marks to wrong answers have their verdict here (`OWN_VERDICTS`):
  `game_of_life_halting` returns 1 for any non-empty answer (`bool("False")` is True);
  `coin_flip` scores a prefix of the probability's digits as a match, so "0" got full marks on
  every probability below 1 (and |error| <= 1e-4 passed "0" for small ones): the answer must now be
  the exact fraction or a correctly rounded decimal (`number_answers.numbers_match`);
  `number_sorting` allowed each number to be off by 1, so close values could be blurred instead of
  ordered: the numbers must be the given ones; `spell_backward` and `letter_jumble` gave full marks
  to the right text followed by anything: the text must be the reference (case and spacing aside);
  `countdown` evaluated with sympy (floor division, powers and sign tricks passed): now + - * / on
  each given number exactly once, exactly evaluated; `decimal_arithmetic` accepted 3-decimal
  rounding for a 12-significant-digit question; `knights_knaves` skipped unknown words ("not ..."
  scored 1); `tower_of_hanoi` searched each line for a move (junk before it passed) and gave a
  valid longer solution partial credit although the question does not ask for the fewest moves;
  `quantum_lock` did not toggle the light on a press that does nothing, unlike its question's rule,
  so valid sequences scored 0, and kept every A, B or C of the text; `polynomial_multiplication`
  and `simple_integration` handed the answer to sympy (30-60 s on some products): both are read by
  a bounded polynomial reader now (`answer_parsing.parse_polynomial`); `advanced_geometry`
  compared angles rounded to 2 places although its question asks for 3 (2.734° passed for
  2.7263°) and radii as strings ("1.1580" failed): values are now judged at 3 decimals against the
  exact value in the metadata.
- Scorers that compare strings where the question allows other spellings get the answer re-spelled
  first (`ANSWER_SPELLINGS`): `list_functions` ("[3,32]" is "[3, 32]"), `dice` ("511 / 1440"),
  `shortest_path` ("Infeasible", "Right right", "right, right").
- Items that cannot be used are redrawn from a derived seed (`ReasoningGymTask._usable_item`): an
  item the generator raises on (maze, seed 4 entry 39) and an item with an empty reference
  (rubiks_cube scrambles that cancel, where '' scored 1; base_conversion of 0, written '', which no
  answer scored).
- Scorers that read the first value of an answer and skip the rest, or skip what they cannot
  parse, get a shape check first (`ANSWER_GUARDS`), so "3/4 or 1/2" or "(1, 2), (3, 4)" is not a
  right answer with junk after it: `fraction_simplification`, `time_intervals`,
  `polynomial_equations`, `advanced_geometry`, `cryptarithm` (a letter given twice,
  where the last one counted), `game_of_life` (extra rows after the board), `kakurasu` and
  `survo` (whose scorers drop every token that is not an integer), and `palindrome_partitioning`
  (compared as a set, so every partition listed twice passed).
- `list_functions` draws some numbers from the global `random` module and `acre` builds items
  that depend on the dataset size. Items are therefore built in fixed blocks of `BLOCK` items
  (block b from its own derived seed) with the global `random`/`numpy.random` states seeded per
  item and restored afterwards, so entry i depends only on (task, seed, i) and a generator's
  stray prints (bf's compiler) do not reach stdout. That region swaps process-wide state, so it
  runs under one lock (`_isolated`), and a task's scorer is built once, under it, on first use:
  concurrent first `score` calls used to leave sys.stdout redirected for good.
- `isomorphic_strings`, `ransom_note`, `word_ladder` and `polynomial_multiplication` pick from
  Python sets of strings, whose order depends on the interpreter's hash seed: the same seed gives
  the same items within a process, and across processes only with a fixed `PYTHONHASHSEED`
  (`HASH_SEED_DEPENDENT`; generating them without it warns once).
- Seeds: Reasoning-Gym builds item i from `seed + i`, so seeds 0 and 1 would share all but one
  item; the seed given to Reasoning-Gym is a hash of (task, seed, block) instead.

Safety: several Reasoning-Gym scorers pass the answer to `eval` or `sympy.parse_expr` (which
evaluates): `binary_matrix`, `spiral_matrix`, `countdown`, `polynomial_multiplication`,
`simple_integration` among the chosen ones. An answer such as "__import__('os').system(...)" would
run in the trainer, and "9**9**9" never returns. The last three have verdicts of our own (bounded
parsers, no sympy); for the two matrix tasks `ANSWER_GUARDS` first checks that the answer has the
shape of a correct one (digits and spaces) and scores anything else 0 without calling the scorer. Two more guards close holes found by feeding
hostile answers to every scorer: `rubiks_cube` expands "R999999999" into that many moves (memory
exhaustion; the expanded turns are capped at `MAX_CUBE_TURNS`, since 60k simulated turns took
seconds), and `complex_arithmetic` gives "nan" full marks. Every task bounds the answer length.

Entries are plain JSON: the Reasoning-Gym item's own answer and metadata (what `score_answer`
reads) are kept as one JSON string under `metadata["rg_entry"]`, so an entry survives
`json.dumps`/`json.loads` and a Hugging Face datasets column (which would otherwise unify the
differing metadata structs of 84 datasets into one sparse struct). Tuples, sets and non-string
dict keys are tagged in that string and restored before scoring (ARC scorers compare tuples).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import random
import re
import threading
import warnings
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from dataset_builders.answer_parsing import (
    AnswerParseError,
    evaluate_arithmetic,
    parse_literal,
    parse_number,
    parse_polynomial,
)
from dataset_builders.symbench.number_answers import numbers_match, read_number
from dataset_builders.task import Entry, Task

#: Appended to every Reasoning-Gym question (they state the answer's content format themselves).
ANSWER_FORMAT = "Give the final answer, written exactly as the question asks, as <<<answer>>>."

#: The 84 chosen datasets, grouped by Reasoning-Gym's own categories, with what each tests.
SELECTED: dict[str, str] = {
    # algebra
    "complex_arithmetic": "add, subtract, multiply or divide complex numbers",
    "polynomial_equations": "find the real roots of a polynomial equation",
    "polynomial_multiplication": "expand a product of polynomials",
    "simple_equations": "solve a linear equation for one variable",
    "simple_integration": "find the antiderivative of a polynomial",
    # algorithmic
    "ab": "rewrite an A::B token program until no rule applies",
    "base_conversion": "convert an integer between bases 2-36",
    "binary_alternation": "minimum swaps to make a binary string alternate",
    "binary_matrix": "Manhattan distance to the nearest 0 for every cell of a matrix",
    "caesar_cipher": "decrypt a Caesar-shifted sentence",
    "count_primes": "count the primes in an interval",
    "cryptarithm": "assign digits to letters so a column addition holds",
    "game_of_life": "simulate Conway's Game of Life on a wrapping board",
    "game_of_life_halting": "decide whether a Game of Life board dies out within a number of steps",
    "graph_color": "color a graph's vertices so that no edge joins equal colors",
    "group_anagrams": "group a list of words into anagram classes",
    "isomorphic_strings": "decide whether two strings are isomorphic",
    "jugs": "pour water between jugs to measure a target amount",
    "letter_counting": "count occurrences of a letter in a text",
    "letter_jumble": "unscramble the words of a sentence",
    "manipulate_matrix": "apply a sequence of matrix operations (rotate, mirror, crop, ...)",
    "number_filtering": "filter a list of decimal numbers by a threshold",
    "number_sorting": "sort a list of decimal numbers",
    "palindrome_generation": "arrange letters into a palindrome",
    "palindrome_partitioning": "list all palindrome partitions of a string",
    "ransom_note": "decide whether a note can be built from a magazine's letters",
    "rotate_matrix": "rotate a square matrix by a multiple of 90 degrees",
    "rotten_oranges": "minutes until rot spreads to every orange in a grid",
    "sentence_reordering": "restore the word order of a shuffled sentence",
    "spell_backward": "spell a word backward",
    "spiral_matrix": "list a matrix's elements in spiral order",
    "word_ladder": "change one letter at a time to turn a word into another",
    "word_sequence_reversal": "reverse a list of words",
    # arc
    "arc_1d": "infer a 1-D grid transformation from examples",
    "arc_agi": "infer an ARC-AGI grid transformation from examples",
    "rearc": "infer a re-ARC grid transformation from examples",
    # arithmetic
    "basic_arithmetic": "evaluate an integer arithmetic expression",
    "bitwise_arithmetic": "evaluate an expression of hex numbers with shifts and arithmetic",
    "calendar_arithmetic": "weekday and date-difference questions",
    "chain_sum": "add and subtract a chain of integers",
    "count_bits": "count the 1 bits of an integer",
    "decimal_arithmetic": "evaluate a decimal expression to 12 significant digits",
    "decimal_chain_sum": "add and subtract a chain of decimals",
    "dice": "probability that a roll of several dice reaches a total",
    "fraction_simplification": "reduce a fraction to lowest terms",
    "gcd": "greatest common divisor of several integers",
    "lcm": "least common multiple of several integers",
    "leg_counting": "count the legs of a list of animals",
    "number_format": "pick the largest or smallest of numbers written in different formats",
    "power_function": "compute a real number raised to an integer power",
    "prime_factorization": "factor an integer into primes",
    "products": "multiply integers",
    "time_intervals": "length of a time interval between two timestamps",
    # code
    "bf": "predict the output of a Brainf*ck program",
    # cognition
    "color_cube_rotation": "track a cube's face colors through rotations",
    "figlet_font": "read a word written in a FIGlet ASCII-art font",
    "modulo_grid": "fill the gaps of a grid drawn by a modular-arithmetic rule",
    "needle_haystack": "find one fact in a long list of statements",
    "rectangle_count": "count the rectangles drawn in an ASCII grid",
    "rubiks_cube": "give a move sequence that solves a scrambled Rubik's cube",
    # games
    "countdown": "reach a target number from given numbers with + - * /",
    "emoji_mystery": "decode a sentence hidden in an emoji's variation selectors",
    "kakurasu": "fill a Kakurasu grid so weighted row and column sums match",
    "maze": "fewest steps from start to goal in a maze",
    "mini_sudoku": "solve a 4x4 sudoku",
    "survo": "fill a Survo grid so rows and columns add up",
    "tower_of_hanoi": "list the moves that solve a Tower of Hanoi with 3-4 pegs",
    "tsumego": "find the Go move that captures stones",
    # geometry
    "advanced_geometry": "angles, areas and centers of triangles from coordinates",
    "simple_geometry": "the missing interior angle of a convex polygon",
    # graphs
    "course_schedule": "decide whether course prerequisites can be satisfied",
    "family_relationships": "name a relation in a family tree",
    "largest_island": "area of the largest island in a binary grid",
    "path_star": "find the path from start to goal in a path-star graph",
    "quantum_lock": "shortest button sequence that reaches a target number",
    "shortest_path": "shortest path through a grid with obstacles",
    # induction
    "acre": "infer which objects are blickets from activation experiments",
    "list_functions": "infer a list-to-list function from examples",
    # logic
    "aiw": "Alice-in-Wonderland style questions about friends and siblings",
    "circuit_logic": "evaluate a drawn Boolean circuit",
    "knights_knaves": "decide who tells the truth from their statements",
    "self_reference": "count consistent truth assignments of self-referential statements",
    "syllogism": "decide whether a syllogism's conclusion follows",
    # probability
    "coin_flip": "probability of a number of heads in coin flips",
}

#: The other generators of reasoning-gym 0.1.25 and why each is left out.
EXCLUDED: dict[str, str] = {
    "composite": "mixes other datasets; needs a config of its own",
    "boxnet": "no reference answer (constraint-scored only); also SymBench boxnet",
    "rush_hour": "no reference answer (constraint-scored only)",
    "propositional_logic": "restating any premise, e.g. '(Q ∧ Q)', scores full marks: rewards copying",
    "string_splitting": "same task as SymBench string_splitting (a test task)",
    "pool_matrix": "same task as SymBench pooling (a test task)",
    "n_queens": "same task as SymBench eight_queens (a test task)",
    "word_sorting": "same task as BBH word_sorting (a test task)",
    "string_insertion": "same task as SymBench string_insertion",
    "string_synthesis": "same task as SymBench string_synthesis",
    "string_manipulation": "same task as SymBench string_deletion_and_modification",
    "mahjong_puzzle": "same task as SymBench mahjong_pattern",
    "puzzle24": "same task as SymBench game24; also slow (~7 s for 200)",
    "sudoku": "same task as SymBench standard_sudoku; also slow (~3 s for 200)",
    "gsm_symbolic": "overlaps SymBench gsm_hard; its metadata holds Fractions (not JSON)",
    "knight_swap": "slow: ~38 s for 200 items",
    "futoshiki": "slow: ~33 s for 200 items",
    "number_sequence": "slow: ~15 s for 200 items",
    "zebra_puzzles": "slow: ~13 s for 200 items",
    "sokoban": "slow: ~7 s for 200 items",
    "intermediate_integration": "slow: ~5 s for 200 items, ~1 s of sympy per 200 scores",
    "codeio": "executes bundled code snippets in-process while generating",
}

#: Items whose Reasoning-Gym answer is None but whose metadata holds a verified solution.
_REFERENCE_FROM_METADATA: dict[str, Callable[[dict[str, Any]], str]] = {
    "graph_color": lambda md: json.dumps({str(k): v for k, v in md["possible_answer"].items()}),
    "rubiks_cube": lambda md: " ".join(str(md["example_correct_answer"]).split()),
}

#: Answers longer than this are not worth parsing for any chosen task (the longest reference,
#: a game-of-life board or an ARC grid, is a few thousand characters at most).
MAX_ANSWER_CHARS = 20_000


# -- guards for scorers that evaluate the answer -------------------------------------------------
def _digits_only(allow_minus: bool) -> Callable[[str, dict[str, Any]], bool]:
    pattern = re.compile(r"[\d\s-]*" if allow_minus else r"[\d\s]*")
    return lambda answer, rg_entry: bool(pattern.fullmatch(answer))


_CUBE_MOVE = re.compile(r"\d?[A-Za-z]{1,2}'?(\d?)")
#: Most quarter turns an answer may expand to; references need at most a few hundred, and the
#: scorer simulates every turn (60k turns from a 20 kB "R9 R9 ..." took seconds).
MAX_CUBE_TURNS = 1_000
_COMPLEX = re.compile(r"[\d\s.+\-ij]*")


def _cube_moves(answer: str, rg_entry: dict[str, Any]) -> bool:
    # the scorer repeats a move by its trailing number, so "R999999999" would exhaust memory
    turns = 0
    for move in answer.split():
        m = _CUBE_MOVE.fullmatch(move)
        if m is None:
            return False
        turns += int(m.group(1) or 1)
        if turns > MAX_CUBE_TURNS:
            return False
    return True


def _complex_number(answer: str, rg_entry: dict[str, Any]) -> bool:
    # the scorer's exp(-distance) is nan for "nan", and min(1.0, nan) is 1.0
    return bool(_COMPLEX.fullmatch(answer))


# -- guards and verdicts for scorers that reward wrong answers ----------------------------------
_FRACTION = re.compile(r"\$?\s*(?:\\d?frac\s*\{\s*-?\d+\s*\}\s*\{\s*\d+\s*\}|-?\d+\s*/\s*\d+)\s*\$?")
_REAL = r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"
_ROOTS = re.compile(rf"\s*{_REAL}\s*(?:,\s*{_REAL}\s*)*")
_POINT = re.compile(rf"\(?\s*({_REAL})\s*,\s*({_REAL})\s*\)?")
_ANGLE = re.compile(rf"({_REAL})\s*(?:°|\^\s*\{{?\\circ\}}?|degrees?)?")
_LENGTH = re.compile(rf"({_REAL})(?:\s*units?)?")
_LETTER_DIGITS = re.compile(r"\s*[A-Za-z]\s*=\s*\d\s*(?:,\s*[A-Za-z]\s*=\s*\d\s*)*")


def _one_fraction(answer: str, rg_entry: dict[str, Any]) -> bool:
    # the scorer reads the first fraction and ignores the rest: "3/4 or 1/2" scored 1
    return bool(_FRACTION.fullmatch(answer.strip()))


def _duration_shape(text: str) -> str:
    return re.sub(r"\bdays?\b", "days", re.sub(r"\d+", "0", " ".join(text.split())))


def _same_duration_format(answer: str, rg_entry: dict[str, Any]) -> bool:
    # the scorer reads the first number or duration and ignores the rest: "4 days or 5 days" scored 1
    return _duration_shape(answer) == _duration_shape(str(rg_entry["answer"]))


def _real_roots(answer: str, rg_entry: dict[str, Any]) -> bool:
    # the scorer skips every comma-separated piece that is not a number: "1.5, x" scored 1
    return answer.strip() in ("", '""', "''") or bool(_ROOTS.fullmatch(answer))


def _letter_digits(answer: str, rg_entry: dict[str, Any]) -> bool:
    # the scorer keeps the last digit given for a letter, so "K=1,K=8" hid a second assignment
    if not _LETTER_DIGITS.fullmatch(answer):
        return False
    letters = [pair.split("=")[0].strip() for pair in answer.split(",")]
    return len(letters) == len(set(letters))


def _grid_shape(grid: Any) -> list[int] | None:
    if not isinstance(grid, list) or not all(isinstance(row, list) for row in grid):
        return None
    return [len(row) for row in grid]


def _same_grid_shape(answer: str, rg_entry: dict[str, Any]) -> bool:
    # the scorer counts only the expected cells, so extra rows or columns after a right board scored 1
    try:
        return _grid_shape(json.loads(answer)) == _grid_shape(json.loads(str(rg_entry["answer"])))
    except (ValueError, RecursionError):
        return False


def _distinct_partitions(answer: str, rg_entry: dict[str, Any]) -> bool:
    # the scorer compares sets, so every partition listed twice (or ten times) still scored 1
    partitions = json.loads(answer)
    if not isinstance(partitions, list) or not all(isinstance(p, list) for p in partitions):
        return False
    keys = [tuple(map(str, p)) for p in partitions]
    return len(keys) == len(set(keys))


#: Shape checks that must pass before Reasoning-Gym's scorer sees the answer (see module doc).
ANSWER_GUARDS: dict[str, Callable[[str, dict[str, Any]], bool]] = {
    "binary_matrix": _digits_only(allow_minus=False),
    "spiral_matrix": _digits_only(allow_minus=True),
    "rubiks_cube": _cube_moves,
    "complex_arithmetic": _complex_number,
    "fraction_simplification": _one_fraction,
    "time_intervals": _same_duration_format,
    "polynomial_equations": _real_roots,
    "cryptarithm": _letter_digits,
    "game_of_life": _same_grid_shape,
    "palindrome_partitioning": _distinct_partitions,
    "kakurasu": _digits_only(allow_minus=False),
    "survo": _digits_only(allow_minus=False),
}


def _int_list_spelling(answer: str, rg_entry: dict[str, Any]) -> str:
    # the scorer compares strings: "[3,32,40]" is the list "[3, 32, 40]" written without spaces
    value = parse_literal(answer, max_chars=4000, max_depth=2, max_nodes=2000)
    if isinstance(value, list) and all(type(v) is int for v in value):
        return str(value)
    return answer


def _fraction_spelling(answer: str, rg_entry: dict[str, Any]) -> str:
    # the scorer compares strings: "511 / 1440" is the fraction "511/1440"
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", answer)
    return f"{m.group(1)}/{m.group(2)}" if m else answer


def _direction_spelling(answer: str, rg_entry: dict[str, Any]) -> str:
    # the scorer compares words case-sensitively: "Infeasible", "Right right" and "right, right" are right
    words = re.split(r"\s*,\s*|\s+", answer.strip())
    if all(w.casefold() in ("up", "down", "left", "right", "infeasible") for w in words):
        return " ".join(w.casefold() for w in words)
    return answer


#: Re-spellings applied before Reasoning-Gym's scorer sees the answer, for scorers that compare
#: strings where the question allows other spellings of the same answer (spacing, case, separators).
#: Each returns the canonical spelling of a well-formed answer and anything else unchanged.
ANSWER_SPELLINGS: dict[str, Callable[[str, dict[str, Any]], str]] = {
    "list_functions": _int_list_spelling,
    "dice": _fraction_spelling,
    "shortest_path": _direction_spelling,
}


def _same_words(answer: str, rg_entry: dict[str, Any]) -> bool:
    return " ".join(answer.split()).casefold() == " ".join(str(rg_entry["answer"]).split()).casefold()


def _coin_probability(answer: str, rg_entry: dict[str, Any]) -> bool:
    """The exact probability (a fraction, or a decimal rounded to >= 2 places; `numbers_match`)."""
    rational = rg_entry["metadata"]["rational"]
    value, decimals = read_number(answer)
    return numbers_match(value, decimals, Fraction(rational["numerator"], rational["denominator"]))


def _number_value(item: Any) -> Fraction:
    if isinstance(item, bool) or not isinstance(item, (str, int, float)):
        raise AnswerParseError(f"not a number: {item!r}")
    return parse_number(str(item))


def _same_numbers(answer: str, rg_entry: dict[str, Any]) -> bool:
    """The sorted list holds exactly the given numbers (as strings or numbers), in the asked order."""
    got = parse_literal(answer, max_chars=4000, max_depth=2, max_nodes=1000)
    want = parse_literal(str(rg_entry["answer"]), max_chars=4000, max_depth=2, max_nodes=1000)
    if not isinstance(got, (list, tuple)) or len(got) != len(want):
        return False
    return [_number_value(v) for v in got] == [_number_value(v) for v in want]


# -- our own verdicts where the upstream rule differs from its question ---------------------------


def _countdown(answer: str, rg_entry: dict[str, Any]) -> bool:
    """The target from the given numbers, each used exactly once, with only + - * / and brackets.

    Evaluated exactly (Fractions) by the bounded evaluator, never by sympy: floor division, powers,
    decimals and names are refused. A minus sign may negate a given number ("-28 + 44", as upstream
    references write), but not a bracket or another sign ("- -28", "-(-28)"), and "+" is never unary.
    """
    meta = rg_entry["metadata"]
    result = evaluate_arithmetic(answer, unary_on_literals_only=True, max_chars=1000, max_depth=40, max_nodes=1000)
    used = sorted(abs(v) for v in result.literals)
    return used == sorted(Fraction(n) for n in meta["numbers"]) and result.value == meta["target"]


_DECIMAL_TERM = re.compile(r"\d+\.\d+|\d+")


def _decimal_arithmetic(answer: str, rg_entry: dict[str, Any]) -> bool:
    """The value to the question's significant digits: the exact value correctly rounded, or the reference.

    Upstream accepted anything within 10**-3 (3-decimal rounding for a 12-digit question). Accepted:
    the reference (it rounds every intermediate step to the context precision, so its last digit may
    differ from the exact value's), and any number within half a unit of the last asked digit of the
    exact value: its correct rounding, or more digits of it (lenient: the question says "a maximum").
    """
    question = str(rg_entry["question"])
    digits = int(re.search(r"maximum of (\d+) significant digits", question).group(1))
    line = next(ln for ln in question.splitlines() if ln.rstrip().endswith("= ?"))
    expression = _DECIMAL_TERM.sub(lambda m: _exact_decimal(m.group(0)), line.rstrip()[:-3])
    exact = evaluate_arithmetic(expression, max_chars=2000, max_depth=40, max_nodes=2000, max_digits=40).value
    value = parse_number(answer.strip(), max_chars=60)
    if value == parse_number(str(rg_entry["answer"]), max_chars=60):
        return True
    if exact == 0:
        return value == 0
    return abs(value - exact) <= Fraction(10) ** (_magnitude(exact) - digits + 1) / 2


def _magnitude(x: Fraction) -> int:
    """floor(log10(|x|)) of a nonzero rational, exactly."""
    x = abs(x)
    m = math.floor(math.log10(x.numerator) - math.log10(x.denominator))
    while Fraction(10) ** m > x:
        m -= 1
    while Fraction(10) ** (m + 1) <= x:
        m += 1
    return m


def _exact_decimal(text: str) -> str:
    if "." not in text:
        return text
    whole, frac = text.split(".")
    return f"({int(whole + frac)}/{10 ** len(frac)})"


def _knights_knaves(answer: str, rg_entry: dict[str, Any]) -> bool:
    """Every inhabitant named once with a role, in "<Name> is a/an <role>" clauses and nothing else.

    Upstream kept only the words it knew and skipped the rest, so "not <answer>" scored 1.
    """
    meta = rg_entry["metadata"]
    roles = {
        meta["knight_knave_terms"]["knight"].casefold(): True,
        meta["knight_knave_terms"]["knave"].casefold(): False,
    }
    names = [str(n).casefold() for n in meta["names"]]
    text = answer.strip().removesuffix(".").casefold()
    clauses = [c for c in re.split(r"\s*(?:,\s*and\b|,|;|\band\b)\s*", text)]
    said: dict[str, bool] = {}
    for clause in clauses:
        m = re.fullmatch(r"(\w+) is (?:an? )?(\w+)", clause)
        if not m or m.group(1) not in names or m.group(2) not in roles or m.group(1) in said:
            return False
        said[m.group(1)] = roles[m.group(2)]
    return said == dict(zip(names, (bool(s) for s in meta["solution"]), strict=True))


_HANOI_MOVE = re.compile(r"move disk (\d{1,3}) from peg (\d{1,2}) to peg (\d{1,2})", re.IGNORECASE)
_ASKS_FOR_FEWEST = re.compile(r"\b(?:shortest|minimum|minimal|fewest|least|optimal)\b", re.IGNORECASE)


def _tower_of_hanoi(answer: str, rg_entry: dict[str, Any]) -> bool:
    """Each line exactly one legal move, ending with every disk on the target peg.

    Any valid solution scores 1 unless the question asks for the fewest moves (then at most the
    reference's count). Upstream searched each line for a move, so junk before it passed, and it gave
    a valid longer solution partial credit although the question does not ask for the shortest.
    """
    meta = rg_entry["metadata"]
    pegs: dict[int, list[int]] = {peg: [] for peg in range(1, meta["num_pegs"] + 1)}
    pegs[meta["start_peg"]] = list(range(meta["num_disks"], 0, -1))
    lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
    for line in lines:
        m = _HANOI_MOVE.fullmatch(line.removesuffix("."))
        if not m:
            return False
        disk, source, target = (int(g) for g in m.groups())
        if source not in pegs or target not in pegs or source == target:
            return False
        if not pegs[source] or pegs[source][-1] != disk or (pegs[target] and pegs[target][-1] < disk):
            return False
        pegs[target].append(pegs[source].pop())
    if pegs[meta["target_peg"]] != list(range(meta["num_disks"], 0, -1)):
        return False
    return not _ASKS_FOR_FEWEST.search(str(rg_entry["question"])) or len(lines) <= meta["solution_length"]


_BUTTON_SEPARATOR = re.compile(r"\s*(?:→|->|,)\s*|\s+")


def _quantum_lock(answer: str, rg_entry: dict[str, Any]) -> bool:
    """A sequence of button names that reaches the target under the question's rule, no longer than the reference.

    The question says the light toggles whenever a button is pressed, and a button whose light state
    does not match does nothing to the number. Upstream skipped the toggle for such a press, so a
    valid sequence of the reference's length scored 0; it also kept every A, B or C in the text, so
    words around a sequence were dropped. Splitting on separators is linear (a guard regex that
    backtracked took 53 s on 87 characters).
    """
    meta = rg_entry["metadata"]
    buttons = {b["name"]: b for b in meta["buttons"]}
    presses = _BUTTON_SEPARATOR.split(answer.strip().upper())  # "a → c" names the same buttons
    if not presses or any(p not in buttons for p in presses) or len(presses) > len(meta["solution_path"]):
        return False
    value, light = meta["initial_value"], meta["initial_state"]
    for press in presses:
        button = buttons[press]
        if button["active_state"] in ("any", light):
            if button["type"] == "add":
                value += button["value"]
            elif button["type"] == "subtract":
                value -= button["value"]
            elif button["type"] == "multiply":
                value *= button["value"]
            else:
                return False
        light = "green" if light == "red" else "red"
    return value == meta["target_value"]


def _polynomial_product(answer: str, rg_entry: dict[str, Any]) -> bool:
    """The expanded product: a sum of distinct monomials in the question's variables with the right coefficients.

    Parsed by the bounded polynomial reader, never by sympy (products that sympy took 30-60 s on are
    refused by the degree and size bounds). The question's own product is not an answer: it asks to
    simplify, and the expanded form is what upstream accepted too.
    """
    variables = tuple(rg_entry["metadata"]["variables"])
    want = parse_polynomial(str(rg_entry["answer"]), variables, expanded=True)
    degree = max((sum(e) for e in want), default=0)
    return parse_polynomial(answer, variables, expanded=True, max_degree=degree) == want


def _antiderivative(answer: str, rg_entry: dict[str, Any]) -> bool:
    """A polynomial in the question's variable (plus an optional constant C) whose derivative is the integrand.

    Any form is accepted (expanded or not), read by the bounded polynomial reader: degree at most one
    more than the integrand's, exact rational coefficients, no sympy.
    """
    variable = str(rg_entry["metadata"]["variable"])
    integrand = parse_polynomial(str(rg_entry["metadata"]["integrand"]), (variable,))
    degree = max((e[0] for e in integrand), default=0) + 1
    text = re.sub(r"\s*\+\s*C\s*$", "", answer.strip())  # the constant of integration, at most once at the end
    antiderivative = parse_polynomial(text, (variable,), max_degree=degree)
    derivative = {(e[0] - 1,): c * e[0] for e, c in antiderivative.items() if e[0] > 0}
    return derivative == integrand


#: advanced_geometry's questions say "Round decimal answers to 3 decimal places".
_GEOMETRY_TOLERANCE = Fraction(1, 2000)


def _geometry(answer: str, rg_entry: dict[str, Any]) -> bool:
    """The angle, radius or orthocenter to the question's 3 decimal places, read from the exact value.

    Accepted: any number within half a unit of the 3rd decimal of the exact value (its correct
    rounding, or more digits), or the reference's own value (upstream rounds angles to 2 places).
    Upstream compared angles rounded to 2 places, so 2.734° passed for 2.7263°; it took "1.1580"
    and "41.38 degrees" as wrong, and read the first two numbers of a point ignoring the rest.
    """
    meta = rg_entry["metadata"]
    text = answer.strip()
    reference = str(rg_entry["answer"])
    if meta["task_type"] == "orthocenter":
        got, want = _POINT.fullmatch(text), _POINT.fullmatch(reference)
        if got is None or want is None:
            return False
        exact = [Fraction(c) for c in meta["ortho"]]
        values = [parse_number(g) for g in got.groups()]
        if values == [parse_number(w) for w in want.groups()]:
            return True
        return all(abs(v - x) <= _GEOMETRY_TOLERANCE for v, x in zip(values, exact, strict=True))
    shape = _ANGLE if meta["task_type"] == "angle_measure" else _LENGTH
    got, want = shape.fullmatch(text), shape.fullmatch(reference.strip())
    if got is None or want is None:
        return False
    value = parse_number(got.group(1))
    if value == parse_number(want.group(1)):
        return True
    key = "angle_ABC_degrees" if meta["task_type"] == "angle_measure" else "incircle_radius_approx"
    return abs(value - Fraction(str(meta[key]))) <= _GEOMETRY_TOLERANCE


#: Tasks whose verdict is ours because Reasoning-Gym's scorer is wrong (see the module doc).
OWN_VERDICTS: dict[str, Callable[[str, dict[str, Any]], bool]] = {
    "game_of_life_halting": lambda answer, rg_entry: answer.strip().casefold() == str(rg_entry["answer"]).casefold(),
    "coin_flip": _coin_probability,
    "number_sorting": _same_numbers,
    "spell_backward": _same_words,
    "letter_jumble": _same_words,
    "countdown": _countdown,
    "decimal_arithmetic": _decimal_arithmetic,
    "knights_knaves": _knights_knaves,
    "tower_of_hanoi": _tower_of_hanoi,
    "quantum_lock": _quantum_lock,
    "polynomial_multiplication": _polynomial_product,
    "simple_integration": _antiderivative,
    "advanced_geometry": _geometry,
}


def _quantum_lock_corruptions(answer: str) -> list[str]:
    # a different first button can be another shortest sequence; one press more or less never is
    presses = [p.strip() for p in answer.split("→")]
    return [" → ".join(presses + ["A"]), " → ".join(presses[:-1])]


#: Wrong answers for tasks where the default one-character edit can still be a valid answer.
_CORRUPTIONS: dict[str, Callable[[str], list[str]]] = {"quantum_lock": _quantum_lock_corruptions}

#: Datasets whose items depend on PYTHONHASHSEED (set iteration order of strings).
HASH_SEED_DEPENDENT = frozenset({"isomorphic_strings", "polynomial_multiplication", "ransom_note", "word_ladder"})

#: Items are built in blocks of this many, each from its own seed (see the module doc).
BLOCK = 100
#: Datasets whose question defines the empty answer (polynomial_equations: no real root is "").
EMPTY_REFERENCE_VALID = frozenset({"polynomial_equations"})
#: How many times an unusable item is redrawn from a derived seed (`ReasoningGymTask._usable_item`).
REDRAWS = 20


# -- lossless JSON for Reasoning-Gym metadata ----------------------------------------------------
_TUPLE, _SET, _ITEMS = "__rg_tuple__", "__rg_set__", "__rg_items__"


def _tag(value: Any) -> Any:
    """`value` as JSON-able data, with tuples, sets and non-string dict keys tagged."""
    if isinstance(value, tuple):
        return {_TUPLE: [_tag(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        # sorted by repr so the text does not depend on the hash seed of the process
        return {_SET: sorted((_tag(v) for v in value), key=repr)}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _tag(v) for k, v in value.items()}
        return {_ITEMS: [[_tag(k), _tag(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"Reasoning-Gym metadata holds a {type(value).__name__}, which has no JSON form")


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == _TUPLE:
            return tuple(value)
        if key == _SET:
            return set(value)
        if key == _ITEMS:
            return {_hashable(k): v for k, v in value}
    return obj


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def dump_rg_entry(answer: Any, metadata: dict[str, Any]) -> str:
    """The JSON text stored under `metadata["rg_entry"]`."""
    return json.dumps(_tag({"answer": answer, "metadata": metadata}), sort_keys=True, ensure_ascii=False)


def load_rg_entry(text: str) -> dict[str, Any]:
    """The Reasoning-Gym item (answer and metadata) as its scorer expects it."""
    return json.loads(text, object_hook=_untag)


#: Held while Reasoning-Gym code runs with the process-wide state swapped (`_isolated`).
_PROCESS_STATE = threading.RLock()


@contextlib.contextmanager
def _isolated(seed: int) -> Iterator[None]:
    """Seed the global random generators for one item and restore them after; silence prints.

    sys.stdout and the global generators are process-wide, so the whole region runs under one
    lock: two threads entering it at once used to restore each other's state in the wrong order
    and leave sys.stdout pointing at a StringIO for good. Only generation and building a task's
    scorer (once per task) enter it; scoring itself runs outside. A thread that prints or draws
    from the global `random` while another thread generates Reasoning-Gym items still shares that
    state for those milliseconds: generate in one thread, score from any.
    """
    with _PROCESS_STATE:
        state = random.getstate()
        np_state = np.random.get_state()
        random.seed(seed)
        np.random.seed(seed % 2**32)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            random.setstate(state)
            np.random.set_state(np_state)


def _derived_seed(*parts: Any) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big")


class ReasoningGymTask(Task):
    """One Reasoning-Gym dataset as a task; `config` goes to `reasoning_gym.create_dataset`."""

    max_answer_chars = MAX_ANSWER_CHARS

    def __init__(self, dataset: str, description: str = "", partial_credit: bool = False, **config: Any) -> None:
        self.dataset = dataset
        self.name = f"reasoning_gym/{dataset}"
        self.description = description or SELECTED.get(dataset, f"Reasoning-Gym {dataset}")
        self.partial_credit = partial_credit
        self.config = config
        self._scorer: Any = None
        self._scorer_lock = threading.Lock()

    def _create(self, size: int, seed: int) -> Any:
        import reasoning_gym

        with _isolated(seed):
            return reasoning_gym.create_dataset(self.dataset, size=size, seed=seed, **self.config)

    def generate(self, n: int, seed: int = 0) -> Iterator[Entry]:
        """`n` seeded entries; entry i depends only on (task, config, seed, i)."""
        if n <= 0:
            return iter(())
        if self.dataset in HASH_SEED_DEPENDENT and not os.environ.get("PYTHONHASHSEED"):
            warnings.warn(
                f"{self.name}: items depend on the hash seed; set PYTHONHASHSEED for identical items across runs",
                stacklevel=2,
            )
        # the first block is built here, so a bad name or config fails on the call
        first = self._create(BLOCK, _derived_seed(self.name, seed, 0))
        return self._walk(first, n, seed)

    def _walk(self, block: Any, n: int, seed: int) -> Iterator[Entry]:
        for i in range(n):
            b, j = divmod(i, BLOCK)
            block_seed = _derived_seed(self.name, seed, b)
            if j == 0 and b > 0:
                block = self._create(BLOCK, block_seed)
            yield self._entry(f"{seed}-{i}", self._usable_item(block, j, block_seed, i), i)

    def _usable_item(self, block: Any, j: int, block_seed: int, index: int) -> dict[str, Any]:
        """Item j of `block`, or, when it cannot be used, the first usable redraw from a derived seed.

        Unusable: the generator raises on it (maze's "Could not find suitable path cell" at one seed
        in thirty), or its reference is empty (a rubiks_cube scramble whose moves cancel, so '' and
        any null sequence would score 1; base_conversion of 0, written as '', which nothing scores).
        Redraw k builds a one-item dataset from `_derived_seed(name, block_seed, j, "redraw", k)`,
        so entry i still depends only on (task, config, seed, i).
        """
        for attempt in range(REDRAWS + 1):
            try:
                if attempt == 0:
                    with _isolated(block_seed + j):
                        item = block[j]
                else:
                    redraw_seed = _derived_seed(self.name, block_seed, j, "redraw", attempt)
                    dataset = self._create(1, redraw_seed)
                    with _isolated(redraw_seed):
                        item = dataset[0]
            except Exception:  # an upstream generator failing on one item must not break `generate`
                continue
            if self._reference(item).strip() or self.dataset in EMPTY_REFERENCE_VALID:
                return item
        raise RuntimeError(f"{self.name}: item {index} and {REDRAWS} redraws were all unusable")

    def _reference(self, item: dict[str, Any]) -> str:
        answer = item.get("answer")
        if answer is None and self.dataset in _REFERENCE_FROM_METADATA:
            return _REFERENCE_FROM_METADATA[self.dataset](item.get("metadata") or {})
        return str(answer)

    def _entry(self, id_: str, item: dict[str, Any], index: int) -> Entry:
        metadata = item.get("metadata") or {}
        answer = item.get("answer")
        reference = self._reference(item)
        question = f"{item['question'].rstrip()}\n\n{ANSWER_FORMAT}"
        rg = {"dataset": self.dataset, "index": index, "rg_entry": dump_rg_entry(answer, metadata)}
        return self.entry(id_, question, reference, rg)

    def verify(self, answer: str, entry: Entry) -> float:
        rg_entry = load_rg_entry(entry["metadata"]["rg_entry"])
        rg_entry["question"] = entry["question"]
        if self.dataset in OWN_VERDICTS:
            return float(OWN_VERDICTS[self.dataset](answer, rg_entry))
        guard = ANSWER_GUARDS.get(self.dataset)
        if guard is not None and not guard(answer, rg_entry):
            return 0.0
        spelling = ANSWER_SPELLINGS.get(self.dataset)
        if spelling is not None:
            answer = spelling(answer, rg_entry)
        score = float(self._scorer_instance().score_answer(answer, rg_entry))
        return score if self.partial_credit else float(score >= 1.0)

    def _scorer_instance(self) -> Any:
        """The dataset object whose `score_answer` judges answers, built once per task from any thread."""
        if self._scorer is None:
            with self._scorer_lock:
                if self._scorer is None:
                    self._scorer = self._create(1, 0)
        return self._scorer

    def corruptions(self, entry: Entry) -> list[str]:
        extra = _CORRUPTIONS.get(self.dataset)
        return super().corruptions(entry) if extra is None else ["", "???", *extra(entry["answer"])]


TASKS: list[Task] = [ReasoningGymTask(name, description) for name, description in sorted(SELECTED.items())]
