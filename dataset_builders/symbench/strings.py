"""SymBench string tasks: rule-driven rewriting, insertion, resource cycles, letter counting, run scoring.

Tasks: symbench/string_deletion_and_modification, symbench/string_insertion,
symbench/string_splitting, symbench/string_synthesis, symbench/letters,
symbench/statistical_counting.

Each has one correct answer (the rules are deterministic), so the verifier recomputes or compares
the final state; answers are parsed with bounded parsers, never evaluated.

Published data (`load_published`): the `sample_<i>/question.txt` + `solution.json` folders of
SymBench, and `Letters/<dataset>/<letter>_<count>_<i>/test_words.json` for letters. A sample that
cannot be read (missing file, malformed JSON, missing key) or whose stored reference does not score
1 under the task's own verifier is yielded as a `PublishedDataError` naming the file, and reading
goes on with the next sample; a missing or empty folder raises. See `published_layout`.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dataset_builders.answer_parsing import AnswerParseError, parse_int_sequence
from dataset_builders.symbench.number_answers import read_number
from dataset_builders.symbench.published_layout import field, iter_published, read_json, read_sample, sample_dirs
from dataset_builders.task import GeneratedTask, PublishedDataError


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        text = text[1:-1].strip()
    return text


def _single_int(text: str, max_digits: int) -> int:
    """One integer: "3", "[3]", "3.", "**3**", "\\boxed{3}" or "3.0"; AnswerParseError for anything else."""
    try:
        values = parse_int_sequence(text.strip(), max_chars=30, max_items=1, max_digits=max_digits)
    except AnswerParseError:
        value, _ = read_number(text)
        if "/" in text or value.denominator != 1 or abs(value) >= 10**max_digits:
            raise AnswerParseError(f"not an integer: {text[:30]!r}") from None
        return int(value)
    if len(values) != 1:
        raise AnswerParseError("expected one integer")
    return values[0]


def _int_list(text: str, n: int) -> list[int]:
    """Exactly `n` integers written as '["1", "0"]', '[1, 0]' or '1 0' (quotes allowed)."""
    cleaned = text.replace('"', " ").replace("'", " ")
    values = parse_int_sequence(cleaned, max_chars=400, max_items=n + 1, max_digits=9)
    if len(values) != n:
        raise AnswerParseError(f"expected {n} integers, got {len(values)}")
    return values


# -- string_deletion_and_modification -----------------------------------------------------------

Rewrite = Callable[[str], "str | None"]


def _when(cond: Callable[[str], bool], act: Callable[[str], str]) -> Rewrite:
    return lambda s: act(s) if cond(s) else None


def _replace_first(old: str, new: str) -> Rewrite:
    return _when(lambda s: old in s, lambda s: s.replace(old, new, 1))


def _drop_ca_after_first(s: str) -> str | None:
    i = s.find("ca", 1)
    return None if i < 0 else s[:i] + s[i + 2 :]


#: The SymBench rewriting rules, by their exact published wording.
DELETION_RULES: dict[str, Rewrite] = {
    "If the string suffix is 'ac', replace it with 'cb'.": _when(lambda s: s.endswith("ac"), lambda s: s[:-2] + "cb"),
    "If the string starts with 'cc', remove the first two characters.": _when(
        lambda s: s.startswith("cc"), lambda s: s[2:]
    ),
    "If the string contains 'abc', replace the first occurrence with 'cab'.": _replace_first("abc", "cab"),
    "If the string prefix is 'bc', delete the first two characters and append 'aa' to the end.": _when(
        lambda s: s.startswith("bc"), lambda s: s[2:] + "aa"
    ),
    "If the string contains 'ca' (not at the start), remove the first occurrence found after the first character.": _drop_ca_after_first,
    "If the string suffix is 'bb', delete the last two characters.": _when(
        lambda s: s.endswith("bb"), lambda s: s[:-2]
    ),
    "If the string ends with 'aa', replace it with 'cc'.": _when(lambda s: s.endswith("aa"), lambda s: s[:-2] + "cc"),
    "If the string length is greater than 15, remove the middle character.": _when(
        lambda s: len(s) > 15, lambda s: s[: len(s) // 2] + s[len(s) // 2 + 1 :]
    ),
    "If the string contains 'bca', delete the first occurrence entirely.": _replace_first("bca", ""),
    "If the string prefix is 'aa', remove the first character.": _when(lambda s: s.startswith("aa"), lambda s: s[1:]),
    "If the string starts with 'ac', replace the first two characters with 'zz'.": _when(
        lambda s: s.startswith("ac"), lambda s: "zz" + s[2:]
    ),
    "If the string contains 'acb', replace the first occurrence with its reverse ('bca').": _replace_first(
        "acb", "bca"
    ),
    "If the string contains an even number of 'b's (and at least one 'b'), append 'ab' at the end.": _when(
        lambda s: s.count("b") > 0 and s.count("b") % 2 == 0, lambda s: s + "ab"
    ),
    "If the string ends with 'ba', replace it with 'ab'.": _when(lambda s: s.endswith("ba"), lambda s: s[:-2] + "ab"),
    "If the string ends with 'ca', remove the last character.": _when(lambda s: s.endswith("ca"), lambda s: s[:-1]),
    "If the string prefix is 'ab', replace it with 'ca'.": _when(lambda s: s.startswith("ab"), lambda s: "ca" + s[2:]),
    "If the string prefix is 'ca', replace it with 'bb' and append 'c' to the end.": _when(
        lambda s: s.startswith("ca"), lambda s: "bb" + s[2:] + "c"
    ),
    "If the string prefix is 'cb', replace it with 'aa' and delete the last character.": _when(
        lambda s: s.startswith("cb"), lambda s: ("aa" + s[2:])[:-1]
    ),
    "If the string starts with 'bb', remove the second character.": _when(
        lambda s: s.startswith("bb"), lambda s: s[0] + s[2:]
    ),
    "If the string suffix is 'cc', replace it with 'b' and prepend 'a' to the start.": _when(
        lambda s: s.endswith("cc"), lambda s: "a" + s[:-2] + "b"
    ),
}


def run_rewrites(initial: str, rules: list[str], max_steps: int = 100) -> list[str] | None:
    """States from `initial` applying, each step, the first rule that applies; None if it never stops."""
    funcs = [DELETION_RULES[r] for r in rules]
    states = [initial]
    for _ in range(max_steps):
        for f in funcs:
            nxt = f(states[-1])
            if nxt is not None:
                states.append(nxt)
                break
        else:
            return states
    return None


class StringDeletionAndModification(GeneratedTask):
    name = "symbench/string_deletion_and_modification"
    description = "Apply an ordered list of string rewriting rules until none applies and give the final string."
    published_folders = ("string_deletion_and_modification",)

    def __init__(
        self, min_length: int = 10, max_length: int = 20, num_rules: int = 6, min_steps: int = 3, max_steps: int = 60
    ):
        self.min_length, self.max_length = min_length, max_length
        self.num_rules, self.min_steps, self.max_steps = num_rules, min_steps, max_steps

    def question(self, initial: str, rules: list[str]) -> str:
        listed = "\n".join(f"{i}. {r}" for i, r in enumerate(rules, 1))
        return (
            "Cycle through the following operations one at a time until no further operations can be performed:\n\n"
            f"{listed}\n\n"
            f'For the string "{initial}", what is the final string after performing all operations?\n\n'
            "(At each step, apply the first operation in the list that can be performed, then start again from "
            "operation 1.)\n\n"
            'Provide your answer as a string in the following format:\n\n<<< "some_final_string" >>>\n'
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        names = list(DELETION_RULES)
        while True:  # most draws stop after a few steps; loops and trivial runs are redrawn
            rules = rng.sample(names, self.num_rules)
            initial = "".join(rng.choice("abc") for _ in range(rng.randint(self.min_length, self.max_length)))
            states = run_rewrites(initial, rules, self.max_steps)
            if states is not None and len(states) - 1 >= self.min_steps:
                break
        meta = {"initial_string": initial, "rules": rules, "final_string": states[-1], "states": states}
        return self.question(initial, rules), f'"{states[-1]}"', meta

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        return float(_strip_quotes(answer) == entry["metadata"]["final_string"])

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        meta = entry["metadata"]
        final = meta["final_string"]
        wrong = [f'"{s}"' for s in meta["states"][:-1]] + [f'"{final}a"', f'"{final[1:]}"', ""]
        return [w for w in dict.fromkeys(wrong) if _strip_quotes(w) != final]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            final = field(sol, "final_string", path, str)
            rules = field(sol, "selected_rules", path, list)
            states = sol.get("intermediate_states") or [field(sol, "initial_string", path, str), final]
            meta = {
                "initial_string": sol.get("initial_string", ""),
                "rules": rules,
                "final_string": final,
                "states": states,
            }
            return question, f'"{final}"', meta

        yield from iter_published(self, folder, build)


# -- string_insertion ---------------------------------------------------------------------------

INSERTION_RULES = (("ABCD", "A"), ("BCDE", "B"), ("CDEA", "C"), ("DEAB", "D"), ("EABC", "E"))


def apply_insertions(s: str) -> str:
    """One T operation: every rule match is found in the original string, inserts go left to right."""
    out: list[str] = []
    inserts: dict[int, str] = {}
    for i in range(len(s) - 3):
        for pat, ch in INSERTION_RULES:
            if s.startswith(pat, i):
                inserts[i + 3] = inserts.get(i + 3, "") + ch
    for i, c in enumerate(s):
        out.append(c + inserts.get(i, ""))
    return "".join(out)


class StringInsertion(GeneratedTask):
    name = "symbench/string_insertion"
    description = "Insert characters after every occurrence of given substrings, scanning left to right."
    published_folders = ("string_insertion",)

    def __init__(self, min_length: int = 14, max_length: int = 18, min_matches: int = 1, max_matches: int = 3):
        self.min_length, self.max_length = min_length, max_length
        self.min_matches, self.max_matches = min_matches, max_matches

    def question(self, s: str) -> str:
        rules = "\n".join(
            f"{i}. If there is a substring {pat} in the string, insert the character {ch} after that substring."
            for i, (pat, ch) in enumerate(INSERTION_RULES, 1)
        )
        return (
            "Given the string consisting of characters A, B, C, D, and E, define the T operation as follows:\n\n"
            f"{rules}\n\n"
            f"Question: Given the string {s}, what will the string be after one operation T? String insertion from left "
            "to right (all substrings are found in the original string).\n"
            "Return the answer with the format <<<a string>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        length = rng.randint(self.min_length, self.max_length)
        chars = [rng.choice("ABCDE") for _ in range(length)]
        for _ in range(rng.randint(self.min_matches, self.max_matches)):  # plant matches so T does something
            pat = rng.choice(INSERTION_RULES)[0]
            at = rng.randint(0, length - 4)
            chars[at : at + 4] = pat
        s = "".join(chars)
        result = apply_insertions(s)
        return self.question(s), result, {"original_string": s, "modified_string": result}

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        return float(_strip_quotes(answer).replace(" ", "") == entry["metadata"]["modified_string"])

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        meta = entry["metadata"]
        res = meta["modified_string"]
        wrong = [meta["original_string"], res[:-1], res + "A", res[::-1]]
        return [w for w in dict.fromkeys(wrong) if w != res]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            meta = {
                "original_string": field(sol, "original_string", path, str),
                "modified_string": field(sol, "modified_string", path, str),
            }
            return question, meta["modified_string"], meta

        yield from iter_published(self, folder, build)


# -- string_splitting ---------------------------------------------------------------------------

#: (inputs, outputs) of the five methods over the stock A, B, C (machines) and X, Y, Z (parts).
SPLIT_METHODS: tuple[tuple[dict[str, int], dict[str, int]], ...] = (
    ({"A": 1}, {"X": 2, "Y": 1}),
    ({"B": 2}, {"X": 1}),
    ({"C": 2}, {"Y": 1}),
    ({"B": 1, "C": 1}, {"A": 1}),
    ({"X": 1, "Y": 1}, {"Z": 1}),
)
_SPLIT_PHRASES = (
    ("Dismantling a single machine A yields two part X and one part Y each cycle.",
     "Each round, one machine A breaks down into two part X and one part Y.",
     "One unit of machine A can be dismantled into two units of part X and one unit of part Y per round."),
    ("Every round, dismantling two machines B results in one part X.",
     "Two units of machine B can be dismantled into one unit of part X per round.",
     "Dismantling two machine B units produces one part X each cycle."),
    ("Two units of machine C can be dismantled into one unit of part Y per round.",
     "Each round, two machines C break down into one part Y.",
     "Dismantling two machine C units yields one part Y each cycle."),
    ("One unit of machine B and one unit of machine C can be combined into one unit of machine A per round.",
     "Every round, merging one machine B with one machine C creates one machine A.",
     "Combining one machine B and one machine C results in one machine A each cycle."),
    ("One unit of part X and one unit of part Y can be combined into one unit of part Z per round.",
     "Combining one part X with one part Y produces one part Z each cycle.",
     "Each round, one part X and one part Y merge to form one part Z."),
)  # fmt: skip
_STOCK = ("A", "B", "C", "X", "Y", "Z")


def run_cycles(
    stock: dict[str, int], methods: tuple[tuple[dict[str, int], dict[str, int]], ...], greedy: bool = False
) -> dict[str, int]:
    """Cycle through `methods` in order, each once per pass (or as often as possible when `greedy`),
    until a whole pass changes nothing."""
    stock = dict(stock)
    for _ in range(10_000):
        changed = False
        for needs, gives in methods:
            times = min(stock[k] // v for k, v in needs.items())
            times = times if greedy else min(times, 1)
            if times:
                changed = True
                for k, v in needs.items():
                    stock[k] -= v * times
                for k, v in gives.items():
                    stock[k] = stock.get(k, 0) + v * times
        if not changed:
            return stock
    raise RuntimeError("resource cycle did not stop")  # unreachable: every method uses up stock


class StringSplitting(GeneratedTask):
    name = "symbench/string_splitting"
    description = (
        "Cycle through dismantling/combining methods on machines and parts until none applies; report the stock."
    )
    published_folders = ("string_splitting",)

    def __init__(self, min_count: int = 1, max_count: int = 3):
        self.min_count, self.max_count = min_count, max_count

    def question(self, a: int, b: int, c: int, phrases: list[str]) -> str:
        methods = "\n".join(f"Method {i}: {p}" for i, p in enumerate(phrases, 1))
        return (
            "There is a dismantling engineer who has old machines A, B, and C. He discovered that he can obtain a batch "
            "of new parts X, Y, and Z through the following methods:\n"
            f"{methods}\n\n"
            "Xiao Li continuously cycles through these methods in the given order, executing one method at a time. "
            "After Method 5, start again from Method 1. Continue this cycle until no method can be executed. "
            f"Initially, there are {a} units of Machine A, {b} units of Machine B, and {c} units of Machine C. "
            "How many parts X, Y, and Z can Li ultimately obtain, and how many machines A, B, and C will remain?\n\n"
            "Generate the answer in the format <<<a string representing the outcome in the order of machines A, B, C, "
            "parts X, Y, Z>>>. For example, if Machine A has 1 unit, Machine B has 0 units, Machine C has 1 unit, "
            "Part X has 1 unit, Part Y has 1 unit, and Part Z has 1 unit, it should be represented as "
            '["1", "0", "1", "1", "1", "1"].\nYour answer:'
        )

    @staticmethod
    def solve(a: int, b: int, c: int) -> list[int]:
        final = run_cycles({"A": a, "B": b, "C": c, "X": 0, "Y": 0, "Z": 0}, SPLIT_METHODS)
        return [final[k] for k in _STOCK]

    @staticmethod
    def format(counts: list[int]) -> str:
        return "[" + ", ".join(f'"{v}"' for v in counts) + "]"

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        a, b, c = (rng.randint(self.min_count, self.max_count) for _ in range(3))
        phrases = [rng.choice(options) for options in _SPLIT_PHRASES]
        final = self.solve(a, b, c)
        return self.question(a, b, c, phrases), self.format(final), {"initial": [a, b, c], "final": final}

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        return float(_int_list(answer, 6) == entry["metadata"]["final"])

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        final = entry["metadata"]["final"]
        a, b, c = entry["metadata"]["initial"]
        bumped = [final[:i] + [final[i] + 1] + final[i + 1 :] for i in (0, 3, 5)]
        wrong = [self.format(v) for v in [*bumped, [a, b, c, 0, 0, 0], final[3:] + final[:3]]]
        return [w for w in dict.fromkeys(wrong) if _int_list(w, 6) != final]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        pattern = re.compile(
            r"there are (\d+) units of Machine A, (\d+) units of Machine B, and (\d+) units of Machine C"
        )

        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            expected = field(sol, "expected_answer", path, list)
            m = pattern.search(question)
            if m is None or len(expected) != 6 or not all(str(v).lstrip("-").isdigit() for v in expected):
                raise PublishedDataError(
                    f"{path}: expected 'expected_answer' of 6 integers and a question with initial counts"
                )
            meta = {"initial": [int(g) for g in m.groups()], "final": [int(v) for v in expected]}
            return question, self.format(meta["final"]), meta

        yield from iter_published(self, folder, build)


# -- string_synthesis ---------------------------------------------------------------------------

BLOCKS = ("[A]", "[B]", "[C]", "{A}", "{B}", "{C}", "(A)", "(B)", "(C)")
SYNTHESIS_METHODS: tuple[tuple[dict[str, int], dict[str, int]], ...] = (
    ({"[A]": 1, "[B]": 1, "[C]": 1}, {"{A}": 1}),
    ({"[A]": 1, "[B]": 1}, {"{C}": 1}),
    ({"[B]": 1, "[C]": 1}, {"{B}": 1}),
    ({"[C]": 2}, {"{C}": 1}),
    ({"{A}": 1, "{C}": 1}, {"(A)": 1, "(B)": 1}),
    ({"{B}": 2}, {"(C)": 1}),
)


class StringSynthesis(GeneratedTask):
    name = "symbench/string_synthesis"
    description = (
        "Combine blocks by six synthesis rules, each applied as often as possible in turn, and count the result."
    )
    published_folders = ("string_synthesis",)

    def __init__(self, min_count: int = 1, max_count: int = 8):
        self.min_count, self.max_count = min_count, max_count

    def question(self, a: int, b: int, c: int) -> str:
        return (
            "There are nine different blocks [A], [B], [C], {A}, {B}, {C}, (A), (B), (C) that satisfy:\n"
            "1. One [A], one [B], and one [C] can be combined to form one {A}.\n"
            "2. One [A] and one [B] can be combined to form one {C}.\n"
            "3. One [B] and one [C] can be combined to form one {B}.\n"
            "4. Two [C] can be combined to form one {C}.\n"
            "5. One {A} and one {C} can be combined to form one (A) and one (B).\n"
            "6. Two {B} can be combined to form one (C).\n\n"
            "Cycle through Methods 1..6 repeatedly until no more changes can be made (each method is applied as many "
            "times as possible before moving on to the next).\n\n"
            f"Question: If we now have {a} [A], {b} [B], and {c} [C], what will the synthesized block be?\n\n"
            "Return your final answer with the exact format:\n"
            "<<<a string of the number of certain block>>>\n"
            "listing the counts of [A], [B], [C], {A}, {B}, {C}, (A), (B), (C) in this order, separated by spaces, "
            "for example <<<1 0 0 0 0 0 1 1 0>>>.\nYour answer:\n"
        )

    @staticmethod
    def solve(a: int, b: int, c: int) -> list[int]:
        start = dict.fromkeys(BLOCKS, 0) | {"[A]": a, "[B]": b, "[C]": c}
        final = run_cycles(start, SYNTHESIS_METHODS, greedy=True)
        return [final[k] for k in BLOCKS]

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        a, b, c = (rng.randint(self.min_count, self.max_count) for _ in range(3))
        final = self.solve(a, b, c)
        return self.question(a, b, c), " ".join(map(str, final)), {"initial": [a, b, c], "final": final}

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        return float(_int_list(answer, 9) == entry["metadata"]["final"])

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        final = entry["metadata"]["final"]
        a, b, c = entry["metadata"]["initial"]
        wrong = [[a, b, c, 0, 0, 0, 0, 0, 0], final[:8] + [final[8] + 1], [final[0] + 1, *final[1:]], final[::-1]]
        return [" ".join(map(str, w)) for w in wrong if w != final]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            final = field(sol, "final_counts", path, list)
            initial = [field(sol, k, path, int) for k in ("A_count", "B_count", "C_count")]
            if len(final) != 9 or not all(isinstance(v, int) for v in final):
                raise PublishedDataError(f"{path}: expected 'final_counts' to be a list of 9 integers")
            meta = {"initial": initial, "final": final}
            return question, " ".join(map(str, final)), meta

        yield from iter_published(self, folder, build)


# -- letters ------------------------------------------------------------------------------------

#: Real words (10-15 letters) with repeated letters, so counts above one are common.
WORDS = tuple(
    """
    abracadabra accommodation accessories acknowledgement administration alphabetically anniversary appreciation
    architecture assassination barbershop bewilderment bookkeeper brotherhood bubblegum butterflies
    candlestick catastrophe celebration characteristic chrysanthemum circumference classification coincidence
    collaboration commemorate commissioner committee communication concentration congratulations connoisseur
    conscientious consequence constellation contemporary controversial correspondence counterbalance
    disappointment discrimination dissatisfaction distinguished effervescence electricity embarrassment
    encyclopedia engineering entertainment enthusiastic environmental establishment exaggeration excellence
    experimental extraordinary featherweight fingerprints firefighter flabbergasted grandfather grasshopper
    hallucination handkerchief headquarters helicopter hippopotamus horsefeathers hospitality householder
    housekeeping hummingbird hypothetical illumination imagination immeasurable impossibility inconvenience
    independence individuality infrastructure intelligence interference international interruption investigation
    irresistible kaleidoscope kindergarten knowledgeable locksmithing maintenance marshmallow
    massachusetts mathematician meadowsweet mediterranean millennium mischievous misunderstanding mississippi
    mountaineering multiplication neighborhood nevertheless nonnegotiable occasionally onomatopoeia opportunity
    organization overwhelming parallelogram pennsylvania perseverance personality philosophical photosynthesis
    possessiveness preoccupation procrastination pronunciation questionnaire recommendation refrigerator
    rehabilitation reminiscence representative responsibility restaurateur revolutionary sassafrasses
    schoolteacher semiconductor sleeplessness sophisticated strawberries successfulness
    superintendent tallahassee teleconference temperamental tennessee thermometer
    thunderstorm transcontinental transformation troubleshooting unbelievable uncomfortable understanding
    unnecessary unsuccessful vulnerability watermelon whatsoever whippersnapper wholeheartedly woodpecker
    """.split()
)


class Letters(GeneratedTask):
    name = "symbench/letters"
    description = "Count how many times a letter occurs in a word (the 'how many r in strawberry' test)."
    published_folders = ("Letters",)

    def __init__(self, min_length: int = 10, max_length: int = 15, max_count: int = 5, random_word_rate: float = 0.15):
        self.min_length, self.max_length, self.max_count = min_length, max_length, max_count
        self.random_word_rate = random_word_rate
        self._by_length = [w for w in WORDS if min_length <= len(w) <= max_length]

    @staticmethod
    def question(letter: str, word: str) -> str:
        return (
            f'How many times does the letter "{letter}" appear in the word "{word}"? '
            "Count every occurrence.\n"
            "Return your answer with the format <<<number>>>, for example <<<2>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        word = rng.choice(self._by_length) if self._by_length and rng.random() >= self.random_word_rate else None
        if word is not None:
            counts = {c: word.count(c) for c in set(word) if word.count(c) <= self.max_count}
            # favour letters that repeat: those are the ones models miscount
            letter = rng.choice(sorted(counts, key=lambda c: (-counts[c], c))[:3])
        else:  # a random string with a letter planted 1..max_count times, as in the published data
            letter = rng.choice(string.ascii_lowercase)
            length = rng.randint(self.min_length, self.max_length)
            count = rng.randint(1, min(self.max_count, length))
            others = [c for c in string.ascii_lowercase if c != letter]
            chars = [rng.choice(others) for _ in range(length - count)]
            for _ in range(count):
                chars.insert(rng.randint(0, len(chars)), letter)
            word = "".join(chars)
        count = word.count(letter)
        return self.question(letter, word), str(count), {"letter": letter, "word": word, "count": count}

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        return float(_single_int(answer, max_digits=4) == entry["metadata"]["count"])

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        c = entry["metadata"]["count"]
        return [str(v) for v in (c + 1, c - 1, c + 2) if v >= 0] + ["two"]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        # Letters/<dataset>/<letter>_<count>_<i>/test_words.json: two levels of folders
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "test_words.json"
            m = re.fullmatch(r"([a-z])_(\d+)_(\d+)", sample.name)
            word = read_json(path, "the word as a JSON string")
            if m is None or not isinstance(word, str):
                raise PublishedDataError(f"{path}: expected a JSON string in a folder named <letter>_<count>_<i>")
            letter, count = m.group(1), word.count(m.group(1))
            if count != int(m.group(2)):
                raise PublishedDataError(f"{path}: folder says {m.group(2)} {letter!r} but {word!r} has {count}")
            return self.question(letter, word), str(count), {"letter": letter, "word": word, "count": count}

        yield from iter_published(self, folder, build, sample_dirs(folder, depth=2))


# -- statistical_counting -----------------------------------------------------------------------

_COUNT_WORDS = {2: "two", 3: "three", 4: "four"}


def run_score(sequence: str, rules: list[dict[str, Any]]) -> int:
    """Sum of the rule scores over maximal runs of a letter at least `min_consecutive` long."""
    by_letter = {r["letter"]: r for r in rules}
    total = 0
    for m in re.finditer(r"(.)\1*", sequence):
        rule = by_letter.get(m.group(1))
        if rule and len(m.group(0)) >= rule["min_consecutive"]:
            total += rule["score"]
    return total


class StatisticalCounting(GeneratedTask):
    name = "symbench/statistical_counting"
    description = "Score a letter sequence by runs of repeated letters under given per-letter rules."
    published_folders = ("statistical_counting_dataset",)

    def __init__(
        self, min_letters: int = 2, max_letters: int = 5, length_per_letter: int = 5, vary_rules: bool = False
    ):
        self.min_letters, self.max_letters = min_letters, max_letters
        self.length_per_letter, self.vary_rules = length_per_letter, vary_rules

    @staticmethod
    def question(sequence: str, rules: list[dict[str, Any]]) -> str:
        letters = [r["letter"] for r in rules]
        names = ", ".join(letters[:-1]) + f" and {letters[-1]}"
        lines = "\n".join(
            f"{i}. If there are {_COUNT_WORDS[r['min_consecutive']]} or more consecutive {r['letter']}'s, "
            f"add {r['score']} to the total score."
            for i, r in enumerate(rules, 1)
        )
        return (
            f"The initial total score is 0. Given a string consisting of letters {names}, scan from front to back:\n\n"
            f"{lines}\n\n"
            f"What is the total score of the string {sequence}?\n"
            "Return your answer with the format <<<number>>>, like <<<5>>> means the total score is 5."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        k = rng.randint(self.min_letters, self.max_letters)
        letters = "ABCDE"[:k] if k <= 5 else string.ascii_uppercase[:k]
        rules = [
            {
                "letter": c,
                "score": rng.randint(1, 6) if self.vary_rules else i + 1,
                "min_consecutive": rng.choice((2, 2, 3)) if self.vary_rules else 2,
            }
            for i, c in enumerate(letters)
        ]
        sequence = "".join(rng.choice(letters) for _ in range(self.length_per_letter * max(1, k - 1)))
        total = run_score(sequence, rules)
        return self.question(sequence, rules), str(total), {"sequence": sequence, "rules": rules, "solution": total}

    def verify(self, answer: str, entry: dict[str, Any]) -> float:
        return float(_single_int(answer, max_digits=6) == entry["metadata"]["solution"])

    def corruptions(self, entry: dict[str, Any]) -> list[str]:
        s = entry["metadata"]["solution"]
        return [str(v) for v in (s + 1, s - 1, s + 2, 2 * s + 1) if v >= 0 and v != s]

    def load_published(self, folder: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            meta = {
                "sequence": field(sol, "sequence", path, str),
                "rules": field(sol, "rules", path, list),
                "solution": field(sol, "solution", path, int),
            }
            return question, str(meta["solution"]), meta

        yield from iter_published(self, folder, build)


TASKS = [
    StringDeletionAndModification(),
    StringInsertion(),
    StringSplitting(),
    StringSynthesis(),
    Letters(),
    StatisticalCounting(),
]
