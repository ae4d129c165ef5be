"""Bounded parsers for the text a model writes inside <<<...>>>.

Verifiers read untrusted model output, so every parser here is bounded before it does real work:
the text length, the bracket nesting depth, the number of syntax nodes and the size of numbers
are checked first, and nothing is ever passed to `eval` or `exec`. Every parser raises
`AnswerParseError` (a `ValueError`) on input it will not accept; `Task.score` turns that into 0.

Helpers, all general (no task knowledge):
- `check_nesting(text, max_depth)`: reject deeply nested brackets before any parser recurses.
- `parse_literal(text)`: `ast.literal_eval` with bounds (lists, tuples, dicts, numbers, strings).
- `evaluate_arithmetic(text)`: exact (Fraction) value of + - * / (and optionally **) expressions,
  with the numeric literals it used, so a verifier can check "each number used exactly once".
- `parse_number(text)`: one number ("3", "-2.5", "7/3", "1e3") as a Fraction.
- `parse_int_sequence(text)` / `parse_pairs(text)`: integers or (row, col) pairs in any of the
  usual spellings ("0 3, 1 0", "(0,3),(1,0)", "[[0, 3], [1, 0]]").
- `parse_grid(text)`: a matrix written as a Python list of lists or as one row per line.
- `parse_token_list(text)`: "[6, /, 2]", '["A", "B"]' or "A,B,C" into a list of stripped strings.
- `parse_polynomial(text, variables)`: a polynomial as {exponents: coefficient}, with bounded degree
  and size, optionally only in expanded form (a sum of distinct monomials).

And what `Task.score` applies to every answer: `model_written(completion)` blanks the first line
of raw interpreter results so that only model text can hold the answer, `has_invisible(text)` finds
characters that render as nothing (zero-width, bidi controls, variation selectors), and
`ascii_digits(text)` reads full-width digits as ASCII ones.
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from code_interpreter.protocol import RESULT_TEMPLATE, iter_blocks

#: Defaults sized for answers of puzzle tasks; callers pass larger bounds when a task needs them.
DEFAULT_MAX_CHARS = 20_000
DEFAULT_MAX_DEPTH = 12
DEFAULT_MAX_NODES = 5_000
#: Integers with more digits than this are refused (well under Python's own 4300-digit guard).
DEFAULT_MAX_DIGITS = 40

_OPEN = "([{"
_CLOSE = ")]}"


class AnswerParseError(ValueError):
    """The answer text is malformed or exceeds a parsing bound."""


def _check_length(text: str, max_chars: int) -> None:
    if not isinstance(text, str):
        raise AnswerParseError(f"expected text, got {type(text).__name__}")
    if len(text) > max_chars:
        raise AnswerParseError(f"answer has {len(text)} characters, more than the limit {max_chars}")


def check_nesting(text: str, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    """Raise unless the brackets ()[]{} of `text` nest at most `max_depth` deep.

    Balance is not checked here (the real parser reports that); this only stops recursion bombs
    such as "[[[[...]]]]" before `ast` or a recursive evaluator sees them.
    """
    depth = 0
    for ch in text:
        if ch in _OPEN:
            depth += 1
            if depth > max_depth:
                raise AnswerParseError(f"brackets nest deeper than {max_depth}")
        elif ch in _CLOSE:
            depth -= 1


def _has_comment(text: str) -> bool:
    """Whether `text` holds a Python comment, which `ast.parse` would silently drop ("7*2-2 # or 13")."""
    if "#" not in text:
        return False
    try:
        return any(tok.type == tokenize.COMMENT for tok in tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return True  # a '#' we cannot place outside or inside a string: refuse rather than guess


def _parse_tree(text: str, max_chars: int, max_depth: int, max_nodes: int) -> ast.Expression:
    _check_length(text, max_chars)
    check_nesting(text, max_depth)
    if _has_comment(text):
        raise AnswerParseError("a comment is not part of an answer")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise AnswerParseError(f"not a Python expression: {exc.__class__.__name__}") from None
    count = 0
    for _ in ast.walk(tree):
        count += 1
        if count > max_nodes:
            raise AnswerParseError(f"expression has more than {max_nodes} syntax nodes")
    return tree


def _check_constant(value: Any, max_digits: int) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int) and abs(value) >= 10**max_digits:
        raise AnswerParseError(f"integer literal with more than {max_digits} digits")
    if isinstance(value, float) and not math.isfinite(value):
        raise AnswerParseError("non-finite float literal")
    if isinstance(value, complex):
        raise AnswerParseError("complex literals are not accepted")


_LITERAL_NODES = (
    ast.Expression,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.UnaryOp,
    ast.USub,
    ast.UAdd,
    ast.Load,
)


def parse_literal(
    text: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_digits: int = DEFAULT_MAX_DIGITS,
) -> Any:
    """`ast.literal_eval` of `text` after bounding its length, nesting, node count and integer size.

    Only containers, numbers, strings, True/False/None and unary signs are accepted (no names,
    calls, attribute access or arithmetic), so `__import__('os')` is a parse error.
    """
    tree = _parse_tree(text, max_chars, max_depth, max_nodes)
    for node in ast.walk(tree):
        if not isinstance(node, _LITERAL_NODES):
            raise AnswerParseError(f"{type(node).__name__} is not allowed in a literal")
        if isinstance(node, ast.Constant):
            _check_constant(node.value, max_digits)
    try:
        return ast.literal_eval(tree)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise AnswerParseError(f"not a literal: {exc}") from None


# -- arithmetic --------------------------------------------------------------------------------

#: Unicode operators that models write for the ASCII ones.
_OPERATOR_SPELLINGS = str.maketrans({"×": "*", "·": "*", "∗": "*", "÷": "/", "−": "-", "–": "-", "＋": "+"})


@dataclass(frozen=True)
class Arithmetic:
    """An evaluated expression: its exact value and its numeric literals in source order."""

    value: Fraction
    literals: tuple[Fraction, ...]


def normalize_operators(text: str) -> str:
    """Replace the Unicode multiplication, division and minus signs models write by their ASCII operators."""
    return text.translate(_OPERATOR_SPELLINGS)


def evaluate_arithmetic(
    text: str,
    *,
    allow_power: bool = False,
    allow_unary: bool = True,
    unary_on_literals_only: bool = False,
    allow_float_literals: bool = False,
    max_chars: int = 400,
    max_depth: int = 30,
    max_nodes: int = 400,
    max_digits: int = 15,
    max_exponent: int = 16,
    max_abs: Fraction | int = 10**30,
) -> Arithmetic:
    """Exact value of an arithmetic expression over + - * / (** when `allow_power`), parentheses and signs.

    Values are Fractions, so 8/(3-8/3) is exactly 24. Every intermediate result is bounded by
    `max_abs` (numerator and denominator), powers need an integer exponent with |e| <= `max_exponent`,
    and division by zero is a parse error. '^' is read as a power only when `allow_power`
    (otherwise it is refused rather than silently meaning XOR). With `allow_unary=False` a sign in
    front of a number or bracket is refused (puzzles such as 24 allow only binary operations); with
    `unary_on_literals_only` one minus sign may negate a number ("-28 + 44") but not a bracket or
    another sign ("-(-28)", "- -28"), and "+" is never unary.
    """
    text = normalize_operators(text)
    if allow_power:
        text = text.replace("^", "**")
    tree = _parse_tree(text, max_chars, max_depth, max_nodes)
    literals: list[Fraction] = []
    limit = Fraction(max_abs)

    def bounded(value: Fraction) -> Fraction:
        if abs(value.numerator) > limit * value.denominator or value.denominator > limit:
            raise AnswerParseError("intermediate value exceeds the size bound")
        return value

    def walk(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise AnswerParseError(f"literal {value!r} is not a number")
            if isinstance(value, float) and not allow_float_literals:
                raise AnswerParseError(f"decimal literal {value!r} is not allowed")
            _check_constant(value, max_digits)
            frac = Fraction(value)
            literals.append(frac)
            return bounded(frac)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) and allow_unary:
            if unary_on_literals_only and not (
                isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            ):
                raise AnswerParseError("a sign may only negate a number")
            inner = walk(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            op = node.op
            if isinstance(op, ast.Add):
                return bounded(left + right)
            if isinstance(op, ast.Sub):
                return bounded(left - right)
            if isinstance(op, ast.Mult):
                return bounded(left * right)
            if isinstance(op, ast.Div):
                if right == 0:
                    raise AnswerParseError("division by zero")
                return bounded(left / right)
            if isinstance(op, ast.Pow) and allow_power:
                if right.denominator != 1 or abs(right.numerator) > max_exponent:
                    raise AnswerParseError(f"exponent must be an integer with |e| <= {max_exponent}")
                if left == 0 and right < 0:
                    raise AnswerParseError("zero to a negative power")
                return bounded(left ** int(right))
            raise AnswerParseError(f"operator {type(op).__name__} is not allowed")
        raise AnswerParseError(f"{type(node).__name__} is not allowed in arithmetic")

    value = walk(tree)
    return Arithmetic(value, tuple(literals))


_NUMBER = re.compile(r"^\s*([+-]?)\s*(\d{1,40}(?:\.\d{1,40})?(?:[eE][+-]?\d{1,3})?)\s*(?:/\s*(\d{1,40}))?\s*$")


def parse_number(text: str, *, max_chars: int = 100) -> Fraction:
    """One number as a Fraction: an integer, a decimal ("2.50", "1e3") or a ratio ("7/3").

    Exponents beyond e±100 are refused so "1e999999" cannot build a huge integer.
    """
    _check_length(text, max_chars)
    m = _NUMBER.match(text)
    if not m:
        raise AnswerParseError(f"not a number: {text[:40]!r}")
    sign, body, denom = m.groups()
    exp = re.search(r"[eE]([+-]?\d+)", body)
    if exp and abs(int(exp.group(1))) > 100:
        raise AnswerParseError("exponent too large")
    value = Fraction(body)
    if denom is not None:
        if int(denom) == 0:
            raise AnswerParseError("zero denominator")
        value /= int(denom)
    return -value if sign == "-" else value


# -- sequences, pairs, grids -------------------------------------------------------------------

_INT = re.compile(r"-?\d+")


def parse_int_sequence(
    text: str,
    *,
    allowed: str = r"\s,;()\[\]{}",
    max_chars: int = DEFAULT_MAX_CHARS,
    max_items: int = 2_000,
    max_digits: int = 12,
) -> list[int]:
    """All integers of `text`, in order, when the text holds nothing but integers and separators.

    `allowed` is a regex character-class body of separator characters; anything else (a word,
    an operator) makes the text malformed rather than being skipped silently.
    """
    _check_length(text, max_chars)
    if re.search(rf"[^\d\-{allowed}]", text):
        raise AnswerParseError("unexpected characters among the numbers")
    tokens = _INT.findall(text)
    if len(tokens) > max_items:
        raise AnswerParseError(f"more than {max_items} numbers")
    if any(len(t.lstrip("-")) > max_digits for t in tokens):
        raise AnswerParseError(f"a number has more than {max_digits} digits")
    if re.search(r"\d-", text) or re.search(r"-(?!\d)", text):
        raise AnswerParseError("stray minus sign")
    return [int(t) for t in tokens]


def parse_pairs(text: str, *, max_pairs: int = 1_000, max_chars: int = DEFAULT_MAX_CHARS) -> list[tuple[int, int]]:
    """(a, b) pairs written as "0 3, 1 0", "(0,3), (1,0)" or "[[0, 3], [1, 0]]" (any grouping)."""
    numbers = parse_int_sequence(text, max_chars=max_chars, max_items=2 * max_pairs)
    if len(numbers) % 2:
        raise AnswerParseError("an odd count of numbers cannot form pairs")
    return [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2)]


def parse_token_list(text: str, *, max_items: int = 500, max_chars: int = DEFAULT_MAX_CHARS) -> list[str]:
    """Comma-separated tokens, optionally inside one pair of brackets and each optionally quoted.

    "[6, /, 2]", '["A", "B"]', "A, B, C" and "(A,B)" all work; tokens are stripped of whitespace
    and of one pair of matching quotes. Empty tokens are kept (as "") so callers can reject them.
    """
    _check_length(text, max_chars)
    body = text.strip()
    if len(body) >= 2 and body[0] + body[-1] in ("[]", "()", "{}"):
        body = body[1:-1]
    if not body.strip():
        return []
    items = body.split(",")
    if len(items) > max_items:
        raise AnswerParseError(f"more than {max_items} items")
    out = []
    for item in items:
        item = item.strip()
        if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
            item = item[1:-1].strip()
        out.append(item)
    return out


def parse_grid(
    text: str,
    cell: Callable[[str], Any] = int,
    *,
    max_rows: int = 50,
    max_cols: int = 50,
    max_chars: int = DEFAULT_MAX_CHARS,
    separators: str = r"[,\s]+",
) -> list[list[Any]]:
    """A matrix from a Python list of lists ("[[1, 2], [3, 4]]") or one row per line ("1, 2\\n3 4").

    Each cell goes through `cell` (for example `int` or `str.strip`) which may raise to reject it.
    Rows may be wrapped in brackets ("[1, 2],\\n[3, 4]"); quotes around string cells are removed.
    Ragged grids are returned as they are; shape checks belong to the caller.
    """
    _check_length(text, max_chars)
    body = text.strip()
    if body.startswith("["):
        try:
            value = parse_literal(body, max_chars=max_chars, max_depth=4, max_nodes=4 * (max_rows + 1) * (max_cols + 1))
        except AnswerParseError:
            value = None
        if isinstance(value, (list, tuple)) and value and all(isinstance(r, (list, tuple)) for r in value):
            if len(value) > max_rows or any(len(r) > max_cols for r in value):
                raise AnswerParseError("grid too large")
            return [[cell(str(c)) for c in row] for row in value]
    lines = [ln.strip().strip("[]").strip().rstrip(",").strip().strip("[]") for ln in body.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines or len(lines) > max_rows:
        raise AnswerParseError(f"expected 1 to {max_rows} rows")
    grid = []
    for ln in lines:
        cells = [c.strip().strip("'\"") for c in re.split(separators, ln) if c.strip()]
        if len(cells) > max_cols:
            raise AnswerParseError("grid too wide")
        grid.append([cell(c) for c in cells])
    return grid


# -- polynomials -------------------------------------------------------------------------------

#: A polynomial: exponent tuple (one exponent per variable, in the order given) -> coefficient.
Polynomial = dict[tuple[int, ...], Fraction]

_DECIMAL_LITERAL = re.compile(r"\d{1,40}(?:\.\d{1,40})?")


def parse_polynomial(
    text: str,
    variables: Sequence[str],
    *,
    expanded: bool = False,
    max_degree: int = 64,
    max_terms: int = 2_000,
    max_chars: int = 4_000,
    max_coefficient_digits: int = 200,
) -> Polynomial:
    """A polynomial in `variables` with exact rational coefficients, from + - * / and integer powers.

    Written as Python ("3*x**10/10 - x + 7"; '^' also means a power). Division only by a nonzero
    number; powers only by an integer literal. Work is bounded before it is done: total degree at most
    `max_degree` at every step, at most `max_terms` terms, coefficients of at most
    `max_coefficient_digits` digits, so "(x+1)**999" or a tower of products is refused at once (sympy
    spent 30-60 s on some). Zero coefficients are dropped from the result.

    With `expanded` the text must be a sum of distinct monomials, each a product of at most one
    number, at most one number divided by, and each variable at most once (bare or to an integer
    power >= 2), none with coefficient 0: "60528*x**9 - 4550*x**2 + 7", not "(x+1)*(x-1)", "x*x",
    "2*3*x", "x + x" or "x**2 + 0*x".
    """
    _check_length(text, max_chars)
    source = normalize_operators(text).replace("^", "**").strip()
    tree = _parse_tree(source, max_chars, 40, 4 * max_chars)
    index = {name: i for i, name in enumerate(variables)}
    zero = (0,) * len(variables)
    limit = 10**max_coefficient_digits

    def bounded(poly: Polynomial) -> Polynomial:
        poly = {e: c for e, c in poly.items() if c}
        if len(poly) > max_terms:
            raise AnswerParseError(f"more than {max_terms} terms")
        if any(sum(e) > max_degree for e in poly):
            raise AnswerParseError(f"degree above {max_degree}")
        if any(abs(c.numerator) > limit or c.denominator > limit for c in poly.values()):
            raise AnswerParseError("coefficient too large")
        return poly

    def times(a: Polynomial, b: Polynomial) -> Polynomial:
        if len(a) * len(b) > 50 * max_terms:
            raise AnswerParseError("product too large")
        if max((sum(e) for e in a), default=0) + max((sum(e) for e in b), default=0) > max_degree:
            raise AnswerParseError(f"degree above {max_degree}")
        out: Polynomial = {}
        for ea, ca in a.items():
            for eb, cb in b.items():
                e = tuple(x + y for x, y in zip(ea, eb, strict=True))
                out[e] = out.get(e, Fraction(0)) + ca * cb
        return bounded(out)

    def plus(a: Polynomial, b: Polynomial, sign: int) -> Polynomial:
        out = dict(a)
        for e, c in b.items():
            out[e] = out.get(e, Fraction(0)) + sign * c
        return bounded(out)

    def walk(node: ast.AST) -> Polynomial:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            literal = ast.get_source_segment(source, node) or ""
            if isinstance(node.value, bool) or not _DECIMAL_LITERAL.fullmatch(literal):
                raise AnswerParseError(f"{literal[:20]!r} is not a plain number")
            return bounded({zero: Fraction(literal)})
        if isinstance(node, ast.Name):
            if node.id not in index:
                raise AnswerParseError(f"unknown name {node.id[:20]!r}")
            return {tuple(int(i == index[node.id]) for i in range(len(variables))): Fraction(1)}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = walk(node.operand)
            return {e: -c for e, c in inner.items()} if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                exponent = node.right
                if not (isinstance(exponent, ast.Constant) and type(exponent.value) is int):
                    raise AnswerParseError("a power needs an integer literal exponent")
                base = walk(node.left)
                base_degree = max((sum(e) for e in base), default=0)
                if exponent.value < 0 or base_degree * exponent.value > max_degree or exponent.value > max_degree:
                    raise AnswerParseError(f"power beyond degree {max_degree}")
                out = {zero: Fraction(1)}
                for _ in range(exponent.value):
                    out = times(out, base)
                return out
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return plus(left, right, 1)
            if isinstance(node.op, ast.Sub):
                return plus(left, right, -1)
            if isinstance(node.op, ast.Mult):
                return times(left, right)
            if isinstance(node.op, ast.Div):
                if set(right) != {zero} or not right[zero]:
                    raise AnswerParseError("division by something other than a nonzero number")
                return bounded({e: c / right[zero] for e, c in left.items()})
            raise AnswerParseError(f"operator {type(node.op).__name__} is not allowed")
        raise AnswerParseError(f"{type(node).__name__} is not allowed in a polynomial")

    if expanded:
        _check_expanded(tree.body, index)
    return walk(tree)


def _check_expanded(body: ast.AST, index: dict[str, int]) -> None:
    """Raise unless `body` is a sum of distinct monomials (see `parse_polynomial`)."""
    terms: list[ast.AST] = []
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            stack += [node.left, node.right]
        else:
            terms.append(node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) else node)
    seen: set[tuple[tuple[str, int], ...]] = set()
    for term in terms:
        factors: list[tuple[ast.AST, bool]] = []
        stack2: list[tuple[ast.AST, bool]] = [(term, False)]
        while stack2:
            node, divided = stack2.pop()
            if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
                stack2 += [(node.left, divided), (node.right, divided or isinstance(node.op, ast.Div))]
            elif (
                isinstance(node, ast.UnaryOp)
                and isinstance(node.op, ast.USub)
                and isinstance(node.operand, ast.Constant)
            ):
                factors.append((node.operand, divided))  # "-450*y**6": the sign belongs to the number
            else:
                factors.append((node, divided))
        numbers = [divided for node, divided in factors if isinstance(node, ast.Constant)]
        if numbers.count(False) > 1 or numbers.count(True) > 1:
            raise AnswerParseError("a term multiplies or divides numbers that are not combined")
        if any(isinstance(node, ast.Constant) and node.value == 0 for node, _ in factors) and len(terms) > 1:
            raise AnswerParseError("a term with coefficient 0")
        powers: dict[str, int] = {}
        for node, divided in factors:
            if isinstance(node, ast.Constant):
                continue
            if isinstance(node, ast.Name) and not divided:
                name, power = node.id, 1
            elif (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Pow)
                and isinstance(node.left, ast.Name)
                and isinstance(node.right, ast.Constant)
                and type(node.right.value) is int
                and node.right.value >= 2
                and not divided
            ):
                name, power = node.left.id, node.right.value
            else:
                raise AnswerParseError("not a sum of monomials")
            if name not in index or name in powers:
                raise AnswerParseError("a variable appears twice in a term, or is unknown")
            powers[name] = power
        key = tuple(sorted(powers.items()))
        if key in seen:
            raise AnswerParseError("two terms of the same monomial are not combined")
        seen.add(key)


# -- what the model wrote ----------------------------------------------------------------------

#: Variation selectors: invisible, and what hides text inside an emoji (Reasoning-Gym emoji_mystery).
_VARIATION_SELECTORS = (("\ufe00", "\ufe0f"), ("\U000e0100", "\U000e01ef"))


_FULL_WIDTH_DIGITS = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)})


def ascii_digits(text: str) -> str:
    """`text` with full-width digits (０-９, as East Asian keyboards type them) as ASCII digits.

    The one compatibility form every task accepts: the same digits, read the same by any reader.
    Look-alike letters (Cyrillic, Greek) are left for verifiers to refuse. Other decimal digits
    (Arabic-Indic, Devanagari, mathematical bold) are read as their values wherever a verifier uses
    `int()` or a regex `\\d` (products, BBH numbers, eight_queens, ...): the same value, so not a hack,
    but not refused everywhere either.
    """
    return text.translate(_FULL_WIDTH_DIGITS)


def has_invisible(text: str) -> bool:
    """Whether `text` holds characters that render as nothing: format controls (zero-width spaces and
    joiners, bidi overrides, soft hyphens, Unicode category Cf) or variation selectors.

    A reader and a verifier that splits or strips the text would see different strings, so
    `Task.score` gives such answers 0.
    """
    return any(
        unicodedata.category(c) == "Cf" or any(lo <= c <= hi for lo, hi in _VARIATION_SELECTORS)
        for c in text
        if not c.isascii()
    )


def model_written(completion: str) -> str:
    """`completion` with the first line of each interpreter result replaced by spaces (same length).

    The protocol reads answers only from model text, and finds inserted blocks in a plain string by
    the result template after a python block's closing fence; its `render_result` escapes answer
    markers in output, so a rendered block never holds one. A completion assembled elsewhere (by hand,
    by another tool, by a policy imitating a result) may hold raw output such as
    "Code Execution Results: <<<42>>>": blanking the line that starts each result keeps a printed
    answer out of the verdict there too. Positions are kept, so inserted spans stay valid.
    """
    if "```" not in completion:
        return completion
    head = RESULT_TEMPLATE.split("{output}", 1)[0]
    pieces, pos = [], 0
    for block in iter_blocks(completion):
        if block.is_python and block.end is not None:
            # The model's fence line ends in a newline of its own before the template's ("```\n\nCode ...").
            start = block.end + 1 if completion.startswith("\n" + head, block.end) else block.end
            if not completion.startswith(head, start):
                continue
            line_end = completion.find("\n", start + len(head))
            line_end = len(completion) if line_end < 0 else line_end
            pieces += [completion[pos : block.end], " " * (line_end - block.end)]
            pos = line_end
    pieces.append(completion[pos:])
    return "".join(pieces)
