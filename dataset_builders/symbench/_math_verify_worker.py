"""The MATH answer rule, importable anywhere and runnable as a stand-alone worker process.

`math_data` runs this file as a script (by file path, so no package import and no re-run of
anybody's `__main__`): it reads JSON lines {"gold": ..., "answer": ...} from stdin and writes "1" or
"0" per line to stdout. The parent kills it when a call overruns its deadline, so no answer can keep
a scorer busy (sympy building 10**999999 in C cannot be interrupted by any in-process timeout).

The rule (`compare`): a MATH answer is ONE value in simplest form, written as the reference is.
1. Notation is normalised on both sides: full-width characters (not other compatibility forms:
   superscript digits are exponents, and are refused), the
   symbols models type (π √ ° − × ·), a surrounding $...$, \\(...\\), \\[...\\] or \\boxed{}, LaTeX
   spacing, \\left/\\right, \\dfrac/\\tfrac, degree marks, a trailing unit ("\\text{ inches}",
   " square units"; a fixed list, so "\\text{ is wrong}" is not one), "{,}" and thousands commas,
   a final full stop.
2. The answer may hold only digits, a decimal point, + - * / ^ ( ) [ ] { } and commas, and the
   LaTeX commands \\frac \\sqrt \\pi \\cdot \\times \\infty; any other command, letter or
   character only when the reference has it too (so a percent sign only when the reference has
   one: math-verify drops it, and "280\\%" claims 2.8). Two signs in a row, digits split by a space
   and a power -1 are refused unless the reference is written so. So relations and logic (= < > \\approx \\lor \\le),
   words ("280 is wrong", \\text{...}), a second line, factorials and binomials (9!/4032,
   \\binom{25}{5}), scientific notation (1E+999999) and look-alike letters (Cyrillic, Greek other than
   π) are refused before anything is parsed, unless the reference is written that way.
3. The whole answer is parsed by latex2sympy (math-verify's parser) without the extraction that
   picks a part of a text, so an unparsed remainder cannot hide a second value. It must be the same
   kind of object as the reference (a number, a tuple, a set, an interval, ...).
4. Simplest form: evaluating the answer must not change its numbers (89+1 -> 90, 2^{10} -> 1024,
   \\sqrt{300} -> 10\\sqrt{3} and \\frac{1280\\pi}{6} -> \\frac{640\\pi}{3} all do), and every integer
   fraction is in lowest terms with a denominator above 1 (\\frac{6}{8} is not). An answer written in
   exactly the reference's form passes this step whatever that form is.
5. The value equals the reference's by math-verify's `verify`; an answer with a decimal point must
   equal it exactly (0.75 for \\frac{3}{4}, not 0.333333 for \\frac{1}{3}).
Accepted equivalent forms are listed in tests/test_symbench_math_data.py.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections import Counter
from fractions import Fraction
from functools import lru_cache
from typing import Any

#: Longest answer the rule looks at (MATH references are far shorter).
MAX_CHARS = 400

_SYMBOLS = {
    "π": "\\pi ",
    "√": "\\sqrt ",
    "°": "^\\circ",
    "−": "-",
    "–": "-",
    "×": "\\times ",
    "·": "\\cdot ",
    "÷": "/",
    "∞": "\\infty ",
}
#: Full-width ASCII (U+FF01-U+FF5E) as ASCII. Not NFKC: it would also turn "2²" into "22".
_FULL_WIDTH = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)})
_SPACING = re.compile(r"\\[!,;:> ]|~|\\(?:left|right|big|Big|bigg|Bigg)\b|\\displaystyle\b|\\mathrm\{\s*\}")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\degree\b")
#: Units MATH answers carry (geometry, counting); a trailing one is notation, not part of the value.
_UNITS = (
    "units?|degrees?|inch(?:es)?|feet|foot|ft|yards?|miles?|cm|centimeters?|mm|meters?|m|km|"
    "dollars?|cents?|hours?|minutes?|seconds?|days?|ways?|people|students|handshakes|games|outfits|"
    "arrangements|numbers|integers|pairs|triangles|squares|diagonals"
)
_TRAILING_UNIT = re.compile(
    rf"\s*(?:\\(?:text|mbox|mathrm)\s*\{{\s*(?:(?:square|sq\.?|cubic)\s+)?(?:{_UNITS})\s*\}}"
    rf"|\s+(?:(?:square|sq\.?|cubic)\s+)?(?:{_UNITS}))(?:\s*\^\s*\{{?[23]\}}?)?\s*$"
)
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z]|\s+|.", re.DOTALL)
#: Commands and characters every answer may use (see the module doc, rule 2).
_ALLOWED = frozenset(
    ["\\frac", "\\sqrt", "\\pi", "\\cdot", "\\times", "\\infty", "\\{", "\\}", "\\circ"]
    + list("0123456789.,+-*/^()[]{} ")
)
_FRACTIONS = (
    re.compile(r"\\frac\s*\{\s*(-?\d+)\s*\}\s*\{\s*(-?\d+)\s*\}"),
    re.compile(r"\\frac\s*(\d)\s*(\d)"),
    re.compile(r"(?<![\d.])(\d+)\s*/\s*(\d+)(?![\d.])"),
)


def normalize(text: str) -> str:
    """The notation-level normal form of an answer or reference (rule 1)."""
    text = text.translate(_FULL_WIDTH)
    text = "".join(_SYMBOLS.get(c, c) for c in text).strip()
    for _ in range(3):
        before = text
        for head, tail in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("\\boxed{", "}")):
            if text.startswith(head) and text.endswith(tail) and len(text) > len(head) + len(tail):
                text = text[len(head) : -len(tail)].strip()
        text = text.removesuffix(".").strip()
        if text == before:
            break
    text = _SPACING.sub(" ", text)
    text = _DEGREES.sub("", text)
    text = _TRAILING_UNIT.sub("", text)
    text = re.sub(r"\\[dt]frac\b", "\\\\frac", text).replace("{,}", ",")
    text = " ".join(text.split(" ")).strip()
    if _THOUSANDS.match(text.replace(" ", "")):
        text = text.replace(" ", "").replace(",", "")
    return text


def _text_answer(text: str) -> str | None:
    """The words of a \\text{...} answer ("\\text{(C)}" -> "c"), or None if `text` is not one."""
    m = re.fullmatch(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}", text)
    return None if m is None else re.sub(r"[\s()]", "", m.group(1)).casefold()


#: Spellings that are never a simplest form unless the reference is written so (rule 2): two signs
#: in a row ("--280", "-(-280)"), digits split by a space ("2 80", read as one number), and a
#: power -1 ("2^{-1}" for \\frac{1}{2}; sympy evaluates it, so rule 4 cannot see it).
_NOT_SIMPLEST = (
    (re.compile(r"[-+][\s({\[]*[-+]"), "two signs in a row"),
    (re.compile(r"\d\s+\d"), "digits split by a space"),
    (re.compile(r"\^\s*[{(]?\s*-\s*1(?![\d.])"), "a power -1"),
)


def refusal(answer: str, gold: str) -> str:
    """Why `answer` breaks rule 2 for the reference `gold`, or "" when its characters are allowed."""
    if "\n" in answer or "\r" in answer:
        return "an answer is one line"
    if not answer.isascii():
        return "a character that is not part of the notation"
    bare = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}", answer)  # "\frac 1 2" is one fraction
    for pattern, reason in _NOT_SIMPLEST:
        if pattern.search(bare) and not pattern.search(gold):
            return reason
    allowed = _ALLOWED | {t for t in _TOKEN.findall(gold) if not t.isspace()}
    for token in _TOKEN.findall(answer):
        if not token.isspace() and token not in allowed:
            return f"{token!r} is not part of a simplest-form answer"
    return ""


@lru_cache(maxsize=512)
def parse_whole(text: str) -> Any:
    """The whole of `text` as one sympy object (latex2sympy, no extraction of a part); raises if it is not."""
    from latex2sympy2_extended.latex2sympy2 import latex2sympy
    from latex2sympy2_extended.math_normalization import NormalizationConfig

    config = NormalizationConfig(basic_latex=True, units=False, malformed_operators=True, nits=False, boxed="none")
    return latex2sympy(text, is_real=True, convert_degrees=False, normalization_config=config)


def _kind(expr: Any) -> str:
    import sympy

    for kind in (sympy.Tuple, sympy.FiniteSet, sympy.Interval, sympy.Union, sympy.logic.boolalg.Boolean):
        if isinstance(expr, kind):
            return kind.__name__
    if isinstance(expr, (sympy.MatrixBase, sympy.core.relational.Relational)):
        return type(expr).__name__
    return "value" if isinstance(expr, sympy.Basic) else type(expr).__name__


def evaluated(expr: Any) -> Any:
    """`expr` rebuilt bottom-up with sympy's automatic evaluation (arithmetic of numbers, no simplify)."""
    import sympy

    if not isinstance(expr, sympy.Basic) or not expr.args or isinstance(expr, sympy.Rational):
        return expr
    return expr.func(*(evaluated(a) for a in expr.args))


def literals(expr: Any) -> Counter[Fraction]:
    """The numbers written in `expr`: signs, a numerator 1 and the exponents of 1/x and square roots aside."""
    import sympy

    found: Counter[Fraction] = Counter()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, sympy.Float):
            found[Fraction(str(node))] += 1
        elif isinstance(node, sympy.Rational):
            if abs(node.p) != 1 or node.q == 1 and node.p != -1:
                found[Fraction(abs(int(node.p)))] += 1
            if node.q != 1:
                found[Fraction(int(node.q))] += 1
        elif isinstance(node, sympy.Pow):
            stack.append(node.base)
            if node.exp not in (sympy.Integer(-1), sympy.Rational(1, 2), sympy.Rational(-1, 2)):
                stack.append(node.exp)
        elif isinstance(node, sympy.Basic):
            stack.extend(node.args)
    return found


def _unreduced_fraction(text: str) -> bool:
    for pattern in _FRACTIONS:
        for m in pattern.finditer(text):
            p, q = abs(int(m.group(1))), abs(int(m.group(2)))
            if q <= 1 or Fraction(p, q).denominator != q:
                return True
    return False


def _exact(expr: Any) -> Any:
    """`expr` with every decimal replaced by the exact rational it spells."""
    import sympy

    return expr.replace(lambda e: isinstance(e, sympy.Float), lambda f: sympy.Rational(str(f)))


def compare(gold: str, answer: str, timeout: int | None = None) -> bool:
    """Whether `answer` is the reference `gold` as one value in simplest form (the module doc's rule).

    `timeout` (seconds) is passed to math-verify's own signal-based timeouts; None outside a main thread.
    """
    import sympy
    from math_verify import verify

    if len(answer) > MAX_CHARS:
        return False
    gold, answer = normalize(gold), normalize(answer)
    gold_text = _text_answer(gold)
    if gold_text is not None:
        answer_text = _text_answer(answer)
        bare = re.sub(r"[\s()]", "", answer).casefold()
        return gold_text == (answer_text if answer_text is not None else bare)
    if not answer or refusal(answer, gold):
        return False
    if "".join(answer.split()) == "".join(gold.split()):
        return True  # the reference's own spelling, even where sympy cannot read the reference
    try:
        gold_expr = parse_whole(gold)
    except Exception:  # a reference latex2sympy cannot read: only its own spelling (above) is right
        return False
    answer_expr = parse_whole(answer)
    if _kind(gold_expr) != _kind(answer_expr):
        return False
    unreduced = _unreduced_fraction(answer)
    simplest = literals(answer_expr) == literals(evaluated(answer_expr)) and not unreduced
    as_reference = literals(answer_expr) == literals(gold_expr) and (not unreduced or _unreduced_fraction(gold))
    if not simplest and not as_reference:
        return False
    if not verify([gold_expr], [answer_expr], timeout_seconds=timeout):
        return False
    if answer_expr.has(sympy.Float):
        difference = evaluated(_exact(answer_expr)) - evaluated(_exact(gold_expr))
        return isinstance(difference, sympy.Expr) and sympy.simplify(difference) == 0
    return True


class _Overrun(Exception):
    pass


def _overrun(signum: int, frame: Any) -> None:
    raise _Overrun


def main() -> None:
    """Serve requests; a request's optional "soft_deadline_s" stops a comparison that runs in Python.

    The timer interrupts sympy between bytecodes, so a slow expansion ends as a wrong answer and the
    worker lives on (a kill and a fresh start would cost the next call seconds of imports); work
    stuck inside C ignores it, and the parent's hard deadline kills the process then.
    """
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # anything a library prints must not corrupt the protocol
    compare("\\frac{1}{2}", "0.5")  # imports and warms the parser before "ready", so no request pays for it
    signal.signal(signal.SIGALRM, _overrun)
    out.write("ready\n")
    for line in sys.stdin:
        try:
            request = json.loads(line)
            soft = float(request.get("soft_deadline_s") or 0)
            if soft > 0:
                signal.setitimer(signal.ITIMER_REAL, soft)
            try:
                verdict = compare(str(request["gold"]), str(request["answer"]), None)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as exc:  # a failed or stopped comparison is a wrong answer, never a dead worker
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            verdict = False
        out.write("1\n" if verdict else "0\n")


if __name__ == "__main__":
    main()
