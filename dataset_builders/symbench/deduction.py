"""SymBench deduction puzzles: find the hidden values that every stated clue agrees with.

Tasks: symbench/logical_equation (the numbers of letters, from equations and inequalities),
symbench/cryptanalysis (a lock code, from guesses and their feedback), and
symbench/constrained_linear_arrangement (the opponent's cards in a card duel, from the round results).

Levels follow the configuration tables of the published generators (CodeSteer-v1.0
create_dataset_*.py), easiest first: logical equation adds letters and clues, cryptanalysis
guesses, the card duels rounds. Verifiers check the answer against every clue, never one stored
solution, so any consistent answer scores 1; the logical equation and cryptanalysis generators
prove that the consistent answer is unique.

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON or CSV row, a missing field, a reference that breaks the
question's rules), a `PublishedDataError` instance instead of raising, so one bad sample never hides
the others; a missing or empty folder raises. See `published_layout` for the shared contract.
"""

from __future__ import annotations

import itertools
import random
import re
import string
from collections import Counter
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import parse_int_sequence, parse_token_list
from dataset_builders.symbench.published_layout import field, iter_published, read_json, read_text, with_level
from dataset_builders.task import MAX_DRAWS, Entry, GeneratedTask, PublishedDataError

# -- logical equation --------------------------------------------------------------------------

_EQ_SUM = re.compile(r"^([A-Z])\s*([+-])\s*([A-Z])\s*=\s*(-?\d+)$")
_EQ_RATIO = re.compile(r"^([A-Z])\s*=\s*(\d+(?:\.\d+)?)\s*\*?\s*([A-Z])$")
_EQ_ORDER = re.compile(r"^([A-Z])\s*([<>=])\s*([A-Z])$")

#: A parsed equation: (kind, x, y, constant) with kind one of "+", "-", "*" (x = c*y), ">", "<" and "=".
Equation = tuple[str, str, str, Fraction]


def parse_equation(text: str) -> Equation:
    """'C + J = 186', 'C - B = -44', 'H = 3.0F', 'J > E', 'A = C' (an optional 'n. ' prefix is ignored)."""
    body = re.sub(r"^\s*\d+\.\s*", "", text).strip()
    if m := _EQ_SUM.match(body):
        return m.group(2), m.group(1), m.group(3), Fraction(int(m.group(4)))
    if m := _EQ_RATIO.match(body):
        return "*", m.group(1), m.group(3), Fraction(m.group(2))
    if m := _EQ_ORDER.match(body):
        return m.group(2), m.group(1), m.group(3), Fraction(0)
    raise ValueError(f"unrecognised equation {text!r}")


def equation_holds(eq: Equation, x: int, y: int) -> bool:
    kind, _, _, k = eq
    if kind == "+":
        return x + y == k
    if kind == "-":
        return x - y == k
    if kind == "*":
        return x * k.denominator == k.numerator * y
    if kind == "=":
        return x == y
    return x > y if kind == ">" else x < y


class _SearchBudgetSpent(Exception):
    pass


def _partner_value(eq: Equation, v: str, other: int) -> int | None:
    """The value `v` must take in the pinning equation `eq` ("+", "-", "*" or "=") when its partner is
    `other`; None when no integer fits (integer arithmetic: this runs in the generator's inner loop)."""
    kind, x, _, k = eq
    if kind == "=":
        return other
    if kind == "+":
        return k.numerator - other
    if kind == "-":
        return other + k.numerator if x == v else other - k.numerator
    if kind == "*":
        top, bottom = (k.numerator * other, k.denominator) if x == v else (other * k.denominator, k.numerator)
        return top // bottom if top % bottom == 0 else None
    return None


def count_assignments(
    letters: list[str], numbers: list[int], equations: list[Equation], limit: int = 2, budget: int = 20_000
) -> int:
    """How many one-to-one letter->number assignments satisfy `equations` (stops counting at `limit`).

    After `budget` search steps the answer is `limit`, i.e. "not shown to be unique", which callers
    treat like several (see `find_assignments`).
    """
    found = find_assignments(letters, numbers, equations, limit, budget)
    return limit if found is None else len(found)


def find_assignments(
    letters: list[str], numbers: list[int], equations: list[Equation], limit: int = 2, budget: int = 20_000
) -> list[dict[str, int]] | None:
    """Up to `limit` one-to-one letter->number assignments that satisfy `equations`; None when the
    search spends `budget` steps first.

    Sums, differences, ratios and equalities pin a letter once its partner is known, so each group of
    letters they connect has only a few placements (one per value of its first letter that keeps every
    value among the numbers). Groups are combined fewest placements first, keeping the numbers used at
    most as often as given and checking order clues across groups as soon as both letters are placed.
    """
    links: dict[str, list[Equation]] = {v: [] for v in letters}
    for eq in equations:
        links[eq[1]].append(eq)
        links[eq[2]].append(eq)
    available = Counter(numbers)
    groups: list[list[tuple[dict[str, int], Counter[int]]]] = []
    seen: set[str] = set()
    for root in letters:
        if root in seen:
            continue
        members, queue = [root], [root]
        seen.add(root)
        tree: dict[str, tuple[str, Equation]] = {}
        while queue:
            v = queue.pop(0)
            for eq in links[v]:
                other = eq[2] if eq[1] == v else eq[1]
                if eq[0] in "+-*=" and other not in seen:
                    seen.add(other)
                    tree[other] = (v, eq)
                    members.append(other)
                    queue.append(other)
        inside = [eq for eq in equations if eq[1] in tree or eq[1] == root]
        placements = []
        for start in sorted(available):
            value = {root: start}
            for v in members[1:]:
                parent, eq = tree[v]
                got = _partner_value(eq, v, value[parent])
                if got is None:
                    break
                value[v] = got
            else:
                used = Counter(value.values())
                if all(available[n] >= c for n, c in used.items()) and all(
                    equation_holds(eq, value[eq[1]], value[eq[2]]) for eq in inside if eq[2] in value
                ):
                    placements.append((value, used))
        groups.append(placements)
    groups.sort(key=len)
    value: dict[str, int] = {}
    free = Counter(numbers)
    found: list[dict[str, int]] = []
    steps = 0

    def extend(i: int) -> None:
        nonlocal steps
        steps += 1
        if steps > budget:
            raise _SearchBudgetSpent
        if len(found) >= limit:
            return
        if i == len(groups):
            found.append(dict(value))
            return
        for placement, used in groups[i]:
            if any(free[n] < c for n, c in used.items()):
                continue
            value.update(placement)
            if all(
                equation_holds(eq, value[eq[1]], value[eq[2]])
                for v in placement
                for eq in links[v]
                if eq[1] in value and eq[2] in value
            ):
                for n, c in used.items():
                    free[n] -= c
                extend(i + 1)
                for n, c in used.items():
                    free[n] += c
            for v in placement:
                del value[v]

    try:
        extend(0)
    except _SearchBudgetSpent:
        return None
    return found


#: The published configurations, easiest first: (letters, clues). The clue count is a floor: clues are
#: added past it until the assignment is unique.
_EQUATION_LEVELS: tuple[tuple[int, int], ...] = (
    (9, 7),
    (9, 8),
    (11, 10),
    (11, 11),
    (13, 10),
    (13, 11),
    (13, 12),
    (15, 12),
    (15, 13),
    (15, 14),
)
_EQUATION_MAX_VALUE = 250
#: Factors that turn a drawn number into another one, so that "X = 2.5Y" clues exist as in the published sets.
_EQUATION_FACTORS = (Fraction(3, 2), Fraction(2), Fraction(5, 2), Fraction(3), Fraction(4), Fraction(4, 3))


def _equation_numbers(rng: random.Random, n: int) -> list[int]:
    """`n` distinct numbers in 1.._EQUATION_MAX_VALUE, about half of them a small multiple of another."""
    numbers: list[int] = []
    while len(numbers) < n:
        value = rng.randint(1, 150)
        if numbers and rng.random() < 0.5:
            scaled = rng.choice(numbers) * rng.choice(_EQUATION_FACTORS)
            value = int(scaled) if scaled.denominator == 1 and scaled <= _EQUATION_MAX_VALUE else value
        if value not in numbers:
            numbers.append(value)
    return sorted(numbers)


def _ratio_clue_fits(a: int, b: int) -> bool:
    """Whether a = m * b for a multiplier m in 1.1..4.9 with one decimal (the published clue form)."""
    return (10 * a) % b == 0 and 11 * b <= 10 * a <= 49 * b


def _format_equation(kind: str, x: str, y: str, a: int, b: int) -> str:
    if kind == "+":
        return f"{x} + {y} = {a + b}"
    if kind == "-":
        return f"{x} - {y} = {a - b}"
    if kind == "*":
        return f"{x} = {float(Fraction(a, b))}{y}"
    return f"{x} > {y}" if a > b else f"{y} > {x}"


class LogicalEquation(GeneratedTask):
    name = "symbench/logical_equation"
    description = "Assign distinct given numbers to letters so that a system of equations and inequalities holds."
    published_folders = ("logical_equation",)
    complexity_levels = len(_EQUATION_LEVELS)

    def level_description(self, level: int) -> str:
        n, clues = _EQUATION_LEVELS[level - 1]
        return f"{n} letters, at least {clues} clues (sums, differences, multiples, order), one solution"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The hardest level with `metadata`'s letter count whose clue floor it meets, 0 if none."""
        n, clues = len(metadata["letters"]), len(metadata["equations"])
        return max((i for i, (k, floor) in enumerate(_EQUATION_LEVELS, 1) if k == n and floor <= clues), default=0)

    @staticmethod
    def _clue(
        rng: random.Random,
        secret: dict[str, int],
        mentioned: set[str],
        pairs: list[tuple[str, str]],
        ratio_pairs: list[tuple[str, str]],
    ) -> str:
        """One true clue about `secret`, in the published mix: mostly sums, differences and multiples.

        `pairs` are all ordered letter pairs and `ratio_pairs` those whose values fit a multiple clue."""
        kind = ">" if rng.random() < 0.08 else rng.choice("+-*")
        pool = ratio_pairs if kind == "*" else pairs
        if not pool:
            kind, pool = "-", pairs
        # favour a letter no clue names yet, so that fewer clues reach a unique assignment
        if len(mentioned) < len(secret) and rng.random() < 0.7:
            pool = [(x, y) for x, y in pool if x not in mentioned or y not in mentioned] or pool
        x, y = rng.choice(pool)
        return _format_equation(kind, x, y, secret[x], secret[y])

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n, floor = _EQUATION_LEVELS[level - 1]
        letters = list(string.ascii_uppercase[:n])
        numbers = _equation_numbers(rng, n)
        shuffled = numbers[:]
        rng.shuffle(shuffled)
        secret = dict(zip(letters, shuffled, strict=True))
        pairs = list(itertools.permutations(letters, 2))
        ratio_pairs = [(x, y) for x, y in pairs if _ratio_clue_fits(secret[x], secret[y])]
        texts: list[str] = []
        parsed: list[Equation] = []
        mentioned: set[str] = set()

        def add(text: str) -> None:
            texts.append(text)
            parsed.append(parse_equation(text))
            mentioned.update(parsed[-1][1:3])

        while len(texts) < floor or count_assignments(letters, numbers, parsed) > 1:
            if len(texts) >= floor + n:
                # a chain of differences fixes every value up to one shift, and no shift maps a finite
                # set of numbers onto itself: these clues always end the search
                for x, y in itertools.pairwise(letters):
                    text = _format_equation("-", x, y, secret[x], secret[y])
                    if text not in texts:
                        add(text)
                        if count_assignments(letters, numbers, parsed) == 1:
                            break
                break
            for _ in range(MAX_DRAWS):
                text = self._clue(rng, secret, mentioned, pairs, ratio_pairs)
                if text not in texts:
                    add(text)
                    break
            else:
                raise RuntimeError(f"{self.name}: no new clue in {MAX_DRAWS} draws")
        answer = "[" + ", ".join(str(secret[v]) for v in letters) + "]"
        return (
            self.question(letters, numbers, texts),
            answer,
            {"letters": letters, "numbers": numbers, "equations": texts},
        )

    @staticmethod
    def question(letters: list[str], numbers: list[int], equations: list[str]) -> str:
        listed = "\n".join(f"{i}. {eq}" for i, eq in enumerate(equations, 1))
        return (
            "Calculate the number for each letter based on the range and set of inequalities that the given letter "
            f"represents. There are {len(letters)} letters {', '.join(letters)}, each representing one of the numbers "
            f"{', '.join(map(str, numbers))}. Different letters represent different numbers. The system of equations "
            f"and inequalities is satisfied as follows:\n{listed}\n\n"
            "Return the answers in alphabetical order starting with A, and each element in the list represents the "
            "value of the corresponding letter. Return your answer with the format <<<list of values>>>, like "
            "<<<[1, 2, 3]>>> means that A represents 1, B represents 2, and C represents 3."
        )

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        letters, numbers = meta["letters"], meta["numbers"]
        values = parse_int_sequence(answer, max_items=len(letters), max_digits=9)
        if len(values) != len(letters) or sorted(values) != sorted(numbers):
            return 0.0
        value = dict(zip(letters, values, strict=True))
        return float(
            all(equation_holds(eq, value[eq[1]], value[eq[2]]) for eq in map(parse_equation, meta["equations"]))
        )

    def corruptions(self, entry: Entry) -> list[str]:
        values = parse_int_sequence(entry["answer"])
        swapped = values[:]
        swapped[0], swapped[1] = swapped[1], swapped[0]
        out = [str(values[:-1]), str([values[0] + 1] + values[1:])]
        meta = entry["metadata"]
        equations = [parse_equation(e) for e in meta["equations"]]
        if count_assignments(meta["letters"], meta["numbers"], equations) == 1:
            out.append(str(swapped))
        # an assignment that keeps every clue but one: the answer of a policy that skips a clue
        for i in range(len(equations) - 1, -1, -1):
            others = find_assignments(meta["letters"], meta["numbers"], equations[:i] + equations[i + 1 :], 3)
            _, x, y, _ = equations[i]
            broken = [a for a in others or [] if not equation_holds(equations[i], a[x], a[y])]
            if broken:
                out.append(str([broken[0][v] for v in meta["letters"]]))
                break
        return out + ["", "[]"]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question = read_text(sample / "question.txt").strip()
            head = re.search(
                r"There are (\d+) letters ([A-Z](?:, [A-Z])*), each representing one of the numbers ([\d, ]+)\.",
                question,
            )
            equations = re.findall(r"^\d+\.\s*(.+?)\s*$", question, re.M)
            if not head or not equations:
                raise PublishedDataError(
                    f"{sample / 'question.txt'}: expected 'There are N letters ..., each representing one of the numbers ...' and numbered equations"
                )
            letters = head.group(2).split(", ")
            numbers = [int(n) for n in head.group(3).replace(",", " ").split()]
            try:
                [parse_equation(e) for e in equations]
            except ValueError as exc:
                raise PublishedDataError(f"{sample / 'question.txt'}: {exc}") from None
            solution = read_json(sample / "solution.json", "a list of the letters' values in alphabetical order")
            if not isinstance(solution, list):
                raise PublishedDataError(f"{sample / 'solution.json'}: expected a list of integers")
            answer = "[" + ", ".join(str(int(v)) for v in solution) + "]"
            return question, answer, {"letters": letters, "numbers": numbers, "equations": equations}

        yield from iter_published(self, folder, with_level(self, build))


# -- cryptanalysis -----------------------------------------------------------------------------

_KINDS = {
    "number": ("numbers", "too large", "too small"),
    "letter": ("letters", "too late in the alphabet", "too early in the alphabet"),
}


def lock_feedback(guess: str, secret: str, noun: str) -> list[str]:
    """Feedback clauses for one two-symbol half of a guess, in the published wording.

    An incorrect symbol is "too large"/"too late" when it exceeds both secret symbols and "too
    small"/"too early" when below both; two incorrect symbols get a direction only when they share it.
    """
    plural, high, low = _KINDS[noun]
    status = []
    for i, g in enumerate(guess):
        if g == secret[i]:
            status.append("pos")
        elif g in secret:
            status.append("wrong")
        else:
            status.append(high if g > max(secret) else low if g < min(secret) else "incorrect")
    if status[0] == status[1]:
        s = status[0]
        if s == "pos":
            return [f"both {plural} are correct and in the correct positions"]
        if s == "wrong":
            return [f"both {plural} are correct but in the wrong positions"]
        return [f"both {plural} are incorrect" + ("" if s == "incorrect" else f" and {s}")]
    if status[0] not in ("pos", "wrong") and status[1] not in ("pos", "wrong"):
        return [f"both {plural} are incorrect"]
    clauses = []
    for s in sorted(status, key=lambda s: {"pos": 0, "wrong": 1}.get(s, 2)):
        if s == "pos":
            clauses.append(f"one {noun} is correct and in the correct position")
        elif s == "wrong":
            clauses.append(f"one {noun} is correct but in the wrong position")
        else:
            clauses.append(f"one {noun} is incorrect and {s}")
    return clauses


def feedback_key(guess: str, secret: str) -> int:
    """A small integer that is equal for two secrets exactly when `lock_feedback` gives them the same
    clauses for this two-symbol half of a guess; the generator filters hundreds of candidates with it."""
    s0, s1 = secret
    hi, lo = (s0, s1) if s0 > s1 else (s1, s0)
    g0, g1 = guess
    k0 = 0 if g0 == s0 else 1 if g0 == s1 else 2 if g0 > hi else 3 if g0 < lo else 4
    k1 = 0 if g1 == s1 else 1 if g1 == s0 else 2 if g1 > hi else 3 if g1 < lo else 4
    if k0 == k1:
        return k0
    if k0 >= 2 and k1 >= 2:
        return 4  # mixed directions read "both ... are incorrect", like two plain misses
    return 5 + min(k0, k1) * 5 + max(k0, k1)


def full_feedback(guess: str, secret: str) -> str:
    return "; ".join(lock_feedback(guess[:2], secret[:2], "number") + lock_feedback(guess[2:], secret[2:], "letter"))


def _normalize_feedback(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().rstrip(".").lower())


_DIGIT_PAIRS = ["".join(p) for p in itertools.permutations(string.digits, 2)]
_LETTER_PAIRS = ["".join(p) for p in itertools.permutations(string.ascii_uppercase, 2)]


#: Guess counts of the published configurations, easiest first (the published generator stops at the
#: first guess that leaves one code, so its first level also holds 3-guess puzzles).
_LOCK_LEVELS: tuple[tuple[int, int], ...] = ((3, 6), (7, 9), (10, 12), (13, 15), (16, 18))
_LOCK_HINT_RATE = 0.35
#: Random tries for a last guess that settles the code before falling back to a constructed one.
_LOCK_FINAL_TRIES = 400


class Cryptanalysis(GeneratedTask):
    name = "symbench/cryptanalysis"
    description = "Deduce a two-digit, two-letter lock code from guesses and their feedback."
    published_folders = ("cryptanalysis",)
    max_answer_chars = 200

    complexity_levels = len(_LOCK_LEVELS)

    def level_description(self, level: int) -> str:
        low, high = _LOCK_LEVELS[level - 1]
        return f"{low}-{high} guesses with feedback, one consistent code"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The level whose guess-count range holds `metadata`'s guesses, 0 if none."""
        count = len(metadata["guesses"])
        return next((i for i, (low, high) in enumerate(_LOCK_LEVELS, 1) if low <= count <= high), 0)

    @staticmethod
    def _draw_guess(rng: random.Random, digits: str, letters: str) -> str | None:
        """A random guess; each half reuses a symbol of the code with probability _LOCK_HINT_RATE, which
        makes "correct" clues as common as in the published set. None for a repeated symbol or the code."""
        d = "".join(rng.sample(string.digits, 2))
        lt = "".join(rng.sample(string.ascii_uppercase, 2))
        if rng.random() < _LOCK_HINT_RATE:
            d = rng.choice([d[0] + digits[rng.randrange(2)], digits[rng.randrange(2)] + d[1]])
        if rng.random() < _LOCK_HINT_RATE:
            lt = rng.choice([lt[0] + letters[rng.randrange(2)], letters[rng.randrange(2)] + lt[1]])
        if d[0] == d[1] or lt[0] == lt[1] or d + lt == digits + letters:
            return None
        return d + lt

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        low, high = _LOCK_LEVELS[level - 1]
        count = rng.randint(low, high)
        digits = "".join(rng.sample(string.digits, 2))
        letters = "".join(rng.sample(string.ascii_uppercase, 2))
        secret = digits + letters
        pools = (list(_DIGIT_PAIRS), list(_LETTER_PAIRS))

        def narrowed(guess: str) -> tuple[list[str], list[str]]:
            kd, kl = feedback_key(guess[:2], digits), feedback_key(guess[2:], letters)
            return (
                [p for p in pools[0] if feedback_key(guess[:2], p) == kd],
                [p for p in pools[1] if feedback_key(guess[2:], p) == kl],
            )

        guesses: list[str] = []
        # every guess but the last leaves more than one code open; on short levels each is the most
        # informative of a few tries, so that the last guess can usually settle the code by itself
        tries = max(1, 4 - level) if count > 3 else 6
        for _ in range(MAX_DRAWS):
            if len(guesses) == count - 1:
                break
            best: tuple[int, str, tuple[list[str], list[str]]] | None = None
            for _ in range(tries if guesses else 1):
                guess = self._draw_guess(rng, digits, letters)
                if guess is None or guess in guesses:
                    continue
                kept = narrowed(guess)
                size = len(kept[0]) * len(kept[1])
                if size > 1 and (best is None or size < best[0]):
                    best = (size, guess, kept)
            if best is not None:
                guesses.append(best[1])
                pools = best[2]

        def settles(guess: str) -> bool:
            # like narrowed(guess) == one code each, but stops at the second match (most tries fail early)
            for pool, part, code in ((pools[0], guess[:2], digits), (pools[1], guess[2:], letters)):
                key = feedback_key(part, code)
                if sum(1 for p in pool if feedback_key(part, p) == key) != 1:
                    return False
            return True

        last = None
        for _ in range(_LOCK_FINAL_TRIES):
            guess = self._draw_guess(rng, digits, letters)
            if guess and guess not in guesses and settles(guess):
                last = guess
                break
        # both halves reversed: "correct but in the wrong positions" twice names exactly one code
        guesses.append(last or digits[::-1] + letters[::-1])
        feedback = [full_feedback(g, secret) for g in guesses]
        answer = "[" + ", ".join(f'"{c}"' for c in secret) + "]"
        return self.question(guesses, feedback), answer, {"guesses": guesses, "feedback": feedback}

    @staticmethod
    def question(guesses: list[str], feedback: list[str]) -> str:
        conditions = "\n".join(
            f"{i}. Guess: {g}, Feedback: {f}." for i, (g, f) in enumerate(zip(guesses, feedback, strict=True), 1)
        )
        return (
            f"Please deduce the correct password based on the following {len(guesses)} known conditions:\n"
            "A certain combination lock consists of two numbers and two letters, with neither the numbers nor the "
            "letters repeating. A wrong number is 'too large' when it is larger than both numbers of the password "
            "(and 'too small' when smaller than both); wrong letters are compared with both password letters in the "
            f"same way.\n{conditions}\n"
            'Please provide your answer in the format <<< ["X", "Y", "Z", "W"] >>> where X and Y are the numbers and '
            "Z and W are the letters of the password."
        )

    def verify(self, answer: str, entry: Entry) -> float:
        tokens = parse_token_list(answer, max_items=4)
        code = "".join(tokens) if len(tokens) == 4 else (tokens[0] if len(tokens) == 1 else "")
        code = code.upper()
        if not re.fullmatch(r"\d\d[A-Z][A-Z]", code) or code[0] == code[1] or code[2] == code[3]:
            return 0.0
        meta = entry["metadata"]
        return float(
            all(
                _normalize_feedback(full_feedback(g, code)) == _normalize_feedback(f)
                for g, f in zip(meta["guesses"], meta["feedback"], strict=True)
            )
        )

    def corruptions(self, entry: Entry) -> list[str]:
        code = "".join(parse_token_list(entry["answer"]))
        meta = entry["metadata"]
        out = ['["1", "1", "A", "A"]', '["1", "2", "A"]']
        for other in (code[1] + code[0] + code[2:], code[:2] + code[3] + code[2]):
            consistent = all(
                full_feedback(g, other) == f for g, f in zip(meta["guesses"], meta["feedback"], strict=True)
            )
            if not consistent:
                out.append("[" + ", ".join(f'"{c}"' for c in other) + "]")
        # a code that keeps every clue but the last: the answer of a policy that skips a clue
        pools = [list(_DIGIT_PAIRS), list(_LETTER_PAIRS)]
        for guess in meta["guesses"][:-1]:
            for half, (part, known) in enumerate(((guess[:2], code[:2]), (guess[2:], code[2:]))):
                key = feedback_key(part, known)
                pools[half] = [p for p in pools[half] if feedback_key(part, p) == key]
        last_guess, last_feedback = meta["guesses"][-1], _normalize_feedback(meta["feedback"][-1])
        skipped = next(
            (
                d + lt
                for d in pools[0]
                for lt in pools[1]
                if _normalize_feedback(full_feedback(last_guess, d + lt)) != last_feedback
            ),
            None,
        )
        if skipped:
            out.append("[" + ", ".join(f'"{c}"' for c in skipped) + "]")
        return out + [""]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question = read_text(sample / "question.txt").strip()
            found = re.findall(r"Guess: (\d\d[A-Z][A-Z]), Feedback: (.+?)\.?\s*$", question, re.M)
            count = re.search(r"following (\d+) known conditions", question)
            if not found or (count and int(count.group(1)) != len(found)):
                raise PublishedDataError(
                    f"{sample / 'question.txt'}: expected numbered 'Guess: 12AB, Feedback: ...' conditions"
                )
            data = read_json(sample / "solution.json", 'an object {"answer": ["X", "Y", "Z", "W"]}')
            code = field(data, "answer", sample / "solution.json", list, "four symbols")
            answer = "[" + ", ".join(f'"{c}"' for c in code) + "]"
            return question, answer, {"guesses": [g for g, _ in found], "feedback": [f for _, f in found]}

        yield from iter_published(self, folder, with_level(self, build))


# -- constrained linear arrangement (card duels) -----------------------------------------------

#: Each game: (cards, question preamble). `duel_result` holds the rules.
_GAMES: dict[str, tuple[str, str]] = {
    "elements": (
        "ABCDE",
        "Both parties, A and B, each have a set of five-element flags, with each person holding five cards representing "
        "Metal, Wood, Water, Fire, and Earth. Each card can only be used once. Both players play their cards "
        "simultaneously without seeing the opponent's card, and the referee announces the result of each round.\n"
        "Rules:\n1. When card 1 generates card 2, the holder of card 1 loses;\n"
        "2. When card 1 overcomes card 2, the holder of card 1 wins;\n"
        "3. When both cards are the same or no card generates or overcomes each other, it is a draw.\n"
        "Here card 1 is always your card and card 2 your opponent's: every other pairing (including the opponent's "
        "card generating or overcoming yours) is a draw.\n"
        "Known:\n1. Generation: Wood A generates Fire B, Fire B generates Earth C, Earth C generates Metal D, Metal D "
        "generates Water E, Water E generates Wood A.\n"
        "2. Overcoming: Wood A overcomes Earth C, Earth C overcomes Water E, Water E overcomes Fire B, Fire B overcomes "
        "Metal D, Metal D overcomes Wood A.",
    ),
    "animal": (
        "ABCDEFGH",
        "Both parties, A and B, play a game similar to Jungle Chess. Each player has 8 animal pieces, ranked from "
        "largest to smallest: Elephant (A), Lion (B), Tiger (C), Leopard (D), Wolf (E), Dog (F), Cat (G), and Mouse (H). "
        "Both players reveal their pieces simultaneously, but cannot see the opponent's piece. The referee announces "
        "the result of the match.\n\nRules:\n"
        "1. When a smaller piece encounters a larger piece, the smaller piece is captured, and the player with the "
        "larger piece wins.\n"
        "2. Mutual capture: When pieces of the same type encounter each other, they mutually capture and the result is "
        "a draw.\n"
        "3. Mouse captures Elephant: Apart from the size hierarchy, the Mouse can capture the Elephant, but the "
        "Elephant cannot capture the Mouse.\n4. Each piece can only be used once.",
    ),
    "stick_game": (
        "ABCD",
        'Both parties, A and B, are playing a game called "Stick, Tiger, Chicken." Each person has four cards: Stick '
        "(A), Tiger (B), Chicken (C), and Worm (D). Each card can only be used once. Both players play their cards "
        "simultaneously without seeing the other's card, and a referee announces the result of each round.\n\nRules:\n"
        "1. Stick beats Tiger, Tiger eats Chicken, Chicken eats Worm, Worm beats Stick, and so on in a cycle.\n"
        "2. If both players play the same card, or cards that are two steps apart in the cycle (so neither beats the "
        "other), it is considered a draw.",
    ),
}
_GENERATES = dict(zip("ABCDE", "BCDEA", strict=True))
_OVERCOMES = dict(zip("ABCDE", "CDEAB", strict=True))
_STICK_BEATS = dict(zip("ABCD", "BCDA", strict=True))


def duel_result(game: str, mine: str, theirs: str) -> str:
    """ "win", "loss" or "draw" from the player's side, following the published references."""
    if game == "elements":
        # only relations *from* the player's card count; the published answers treat the reverse as a draw
        if _GENERATES[mine] == theirs:
            return "loss"
        return "win" if _OVERCOMES[mine] == theirs else "draw"
    if game == "animal":
        if mine == theirs:
            return "draw"
        if {mine, theirs} == {"A", "H"}:
            return "win" if mine == "H" else "loss"
        return "win" if mine < theirs else "loss"
    if _STICK_BEATS[mine] == theirs:
        return "win"
    return "loss" if _STICK_BEATS[theirs] == mine else "draw"


def count_duel_answers(game: str, moves: list[str], results: list[str], limit: int) -> int:
    """How many opponent sequences (distinct cards) give `results` against `moves`, counting at most to `limit`."""
    cards = _GAMES[game][0]
    options = [[t for t in cards if duel_result(game, m, t) == r] for m, r in zip(moves, results, strict=True)]
    found = 0

    def extend(i: int, used: set[str]) -> None:
        nonlocal found
        if found >= limit:
            return
        if i == len(options):
            found += 1
            return
        for card in options[i]:
            if card not in used:
                extend(i + 1, used | {card})

    extend(0, set())
    return found


#: Most opponent sequences a generated duel may admit. The verifier accepts every consistent
#: sequence (the question cannot tell them apart), so a duel with many of them rewards guessing:
#: one had 18 right answers out of 24. Generated duels are redrawn until at most this many remain,
#: and until the question's own format example ("A,B,C") is not among them (not even as the only
#: answer: copying the example must never pay).
MAX_DUEL_ANSWERS = 2
_FORMAT_EXAMPLE = ["A", "B", "C"]

#: Rounds per level, as in the published configurations (3 to 5; a game is drawn among those with
#: enough cards, so the four-card stick game stops at level 2).
_DUEL_ROUNDS = (3, 4, 5)


class ConstrainedLinearArrangement(GeneratedTask):
    name = "symbench/constrained_linear_arrangement"
    description = "Deduce the opponent's card sequence in a card duel from your cards and the round results."
    published_folders = ("constrained_linear_arrangement",)
    max_answer_chars = 200

    complexity_levels = len(_DUEL_ROUNDS)

    def level_description(self, level: int) -> str:
        rounds = _DUEL_ROUNDS[level - 1]
        games = ", ".join(g for g in _GAMES if len(_GAMES[g][0]) >= rounds)
        return f"{rounds} rounds; game one of {games}"

    def level_of(self, metadata: dict[str, Any]) -> int:
        """The level with `metadata`'s number of rounds, 0 if none."""
        rounds = len(metadata["moves"])
        return _DUEL_ROUNDS.index(rounds) + 1 if rounds in _DUEL_ROUNDS else 0

    @staticmethod
    def question(game: str, moves: list[str], results: list[str]) -> str:
        rounds = "\n".join(f"Round {i}: {m}, {r}." for i, (m, r) in enumerate(zip(moves, results, strict=True), 1))
        return (
            f"{_GAMES[game][1]}\n\nAssuming you are one of the players, deduce what cards your opponent played each "
            f"round based on the cards you played and the results of each round.\n\nRounds:\n{rounds}\n\n"
            "Use a list of letters to show your answer. For example, <<<A,B,C>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        n = _DUEL_ROUNDS[level - 1]
        game = rng.choice([g for g in _GAMES if len(_GAMES[g][0]) >= n])
        cards = _GAMES[game][0]
        for _ in range(MAX_DRAWS):
            moves, theirs = rng.sample(cards, n), rng.sample(cards, n)
            results = [duel_result(game, m, t) for m, t in zip(moves, theirs, strict=True)]
            answers = count_duel_answers(game, moves, results, MAX_DUEL_ANSWERS + 1)
            example_fits = n == len(_FORMAT_EXAMPLE) and all(
                duel_result(game, m, t) == r for m, t, r in zip(moves, _FORMAT_EXAMPLE, results, strict=True)
            )
            if answers <= MAX_DUEL_ANSWERS and not example_fits:
                break
        else:
            raise RuntimeError(f"{self.name}: no nearly forced duel in {MAX_DRAWS} draws")
        meta = {"game": game, "moves": moves, "results": results}
        return self.question(game, moves, results), ",".join(theirs), meta

    def verify(self, answer: str, entry: Entry) -> float:
        meta = entry["metadata"]
        cards = _GAMES[meta["game"]][0]
        theirs = [t.upper() for t in parse_token_list(answer, max_items=len(meta["moves"]))]
        if (
            len(theirs) != len(meta["moves"])
            or len(set(theirs)) != len(theirs)
            or any(t not in cards or len(t) != 1 for t in theirs)
        ):
            return 0.0
        return float(
            all(
                duel_result(meta["game"], m, t) == r
                for m, t, r in zip(meta["moves"], theirs, meta["results"], strict=True)
            )
        )

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        cards = _GAMES[meta["game"]][0]
        theirs = parse_token_list(entry["answer"])
        out = [",".join(theirs[:-1]), ",".join([theirs[0]] * len(theirs))]
        for option in itertools.permutations(cards, len(theirs)):
            if any(
                duel_result(meta["game"], m, t) != r
                for m, t, r in zip(meta["moves"], option, meta["results"], strict=True)
            ):
                out.append(",".join(option))
                break
        return out + ["", "Z,Z,Z"]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "solution.json"
            data = read_json(path, "an object with game_type, player_moves, results, solution")
            game = field(data, "game_type", path, str, f"one of {sorted(_GAMES)}")
            if game not in _GAMES:
                raise PublishedDataError(f"{path}: game_type {game!r} should be one of {sorted(_GAMES)}")
            moves = [str(m) for m in field(data, "player_moves", path, list, "a list of card letters")]
            results = [str(r) for r in field(data, "results", path, list, "win/loss/draw per round")]
            solution = [str(s) for s in field(data, "solution", path, list, "the opponent's card letters")]
            if any(m not in _GAMES[game][0] for m in moves) or any(r not in ("win", "loss", "draw") for r in results):
                raise PublishedDataError(f"{path}: moves must be cards of {game} and results win/loss/draw")
            meta = {"game": game, "moves": moves, "results": results}
            return read_text(sample / "question.txt").strip(), ",".join(solution), meta

        yield from iter_published(self, folder, with_level(self, build))


TASKS = [LogicalEquation(), Cryptanalysis(), ConstrainedLinearArrangement()]
