"""SymBench string tasks: rewrite, extend, count letters in or score a string.

Tasks: symbench/string_deletion_and_modification (rewriting rules until none applies),
symbench/string_insertion (insert after trigger substrings), symbench/letters (count a letter and
list its positions), symbench/statistical_counting (score runs of repeated letters).

Each has one correct answer (the rules are deterministic), so the verifier recomputes or compares
the final state; answers are parsed with bounded parsers, never evaluated.

Difficulty (`complexity_levels`, see each task's `level_description`) follows the published
generators (CodeSteer's `create_dataset_*.py`): their string lengths, rewrite and trigger counts,
word-length bands and sequence configurations, with an easier first level where they filtered
easy instances out and, for some tasks, a level beyond their largest setting.

Published data (`load_published`): every reader yields one entry per good sample and, for a bad
sample (missing file, malformed JSON or CSV row, a missing field, a reference that breaks the
question's rules), a `PublishedDataError` instance instead of raising, so one bad sample never hides
the others; a missing or empty folder raises. See `published_layout` for the shared contract.
Besides the `sample_<i>/question.txt` + `solution.json` folders, letters reads
`Letters/<dataset>/<letter>_<count>_<i>/test_words.json`.
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
from dataset_builders.task import Entry, GeneratedTask, PublishedDataError


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


def example_unlike(rng: random.Random, draw: Callable[[], Any], answer: Any) -> Any:
    """A value for the question's format example that differs from `answer`.

    The example sits in the question's last <<<...>>>; when it equals the answer, a completion that
    only copies the question back scores 1. Drawn at random, it says nothing about the answer.
    """
    while True:
        example = draw()
        if example != answer:
            return example


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


#: Rewrites per level (inclusive bands). The published generator keeps runs of at least 4 rewrites
#: (its complexity 4-5; published runs reach 11); level 1 is an easier warm-up below that filter.
DELETION_STEPS = {1: (2, 3), 2: (4, 4), 3: (5, 6), 4: (7, 9), 5: (10, 14)}
_MIDDLE_RULE = "If the string length is greater than 15, remove the middle character."
_CB_RULE = "If the string prefix is 'cb', replace it with 'aa' and delete the last character."


class StringDeletionAndModification(GeneratedTask):
    name = "symbench/string_deletion_and_modification"
    description = "Apply an ordered list of string rewriting rules until none applies and give the final string."
    published_folders = ("string_deletion_and_modification",)
    complexity_levels = len(DELETION_STEPS)

    def __init__(self, min_length: int = 10, max_length: int = 20, num_rules: int = 6, max_steps: int = 60):
        self.min_length, self.max_length = min_length, max_length
        self.num_rules, self.max_steps = num_rules, max_steps

    def level_description(self, level: int) -> str:
        lo, hi = DELETION_STEPS[level]
        steps = f"{lo}" if lo == hi else f"{lo}-{hi}"
        return (
            f"{self.num_rules} of {len(DELETION_RULES)} rewrite rules on a {self.min_length}-{self.max_length} letter "
            f"string, {steps} rewrites until none applies"
        )

    def question(self, initial: str, rules: list[str]) -> str:
        listed = "\n".join(f"{i}. {r}" for i, r in enumerate(rules, 1))
        # "the middle character" of an even-length string is ambiguous in the published wording; say which
        middle = (
            " For a string of even length, the middle character is the first character of its second half."
            if _MIDDLE_RULE in rules
            else ""
        )
        return (
            "Cycle through the following operations one at a time until no further operations can be performed:\n\n"
            f"{listed}\n\n"
            f'For the string "{initial}", what is the final string after performing all operations?\n\n'
            "(At each step, apply the first operation in the list that can be performed, then start again from "
            f"operation 1.{middle})\n\n"
            'Provide your answer as a string in the following format:\n\n<<< "some_final_string" >>>\n'
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        names = list(DELETION_RULES)
        lo, hi = DELETION_STEPS[level]
        while True:  # about 1 draw in 70 reaches level 5's band; a draw costs ~10 us
            rules = rng.sample(names, self.num_rules)
            initial = "".join(rng.choice("abc") for _ in range(rng.randint(self.min_length, self.max_length)))
            states = run_rewrites(initial, rules, self.max_steps)
            if states is None or not lo <= len(states) - 1 <= hi or not states[-1]:
                continue  # loops, runs outside the level's band, and an empty final string (an empty answer)
            if _CB_RULE in rules and "cb" in states[:-1]:
                continue  # on exactly "cb" the published simulator keeps "aa" where the wording gives "a"
            break
        meta = {"initial_string": initial, "rules": rules, "final_string": states[-1], "states": states}
        return self.question(initial, rules), f'"{states[-1]}"', meta

    def verify(self, answer: str, entry: Entry) -> float:
        return float(_strip_quotes(answer) == entry["metadata"]["final_string"])

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        final = meta["final_string"]
        wrong = [f'"{s}"' for s in meta["states"][:-1]] + [f'"{final}a"', f'"{final[1:]}"', ""]
        return [w for w in dict.fromkeys(wrong) if _strip_quotes(w) != final]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
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


def _insert_while_scanning(s: str) -> str:
    """The misreading the question rules out: matches looked for in the string as it grows."""
    i = 0
    while i <= len(s) - 4:
        ch = next((c for pat, c in INSERTION_RULES if s.startswith(pat, i)), None)
        if ch is not None:
            s = s[: i + 4] + ch + s[i + 4 :]
        i += 1
    return s


def count_triggers(s: str) -> int:
    """How many positions of `s` start a substring that one of the insertion rules matches."""
    return sum(s.startswith(pat, i) for i in range(len(s) - 3) for pat, _ in INSERTION_RULES)


class StringInsertion(GeneratedTask):
    name = "symbench/string_insertion"
    description = "Insert characters after every occurrence of given substrings, scanning left to right."
    published_folders = ("string_insertion",)
    #: Level k has k trigger substrings; the published generator always plants 3 (level 3), each
    #: followed by one random letter, with 0-2 random letters before and after. Levels 1-4 keep the
    #: triggers apart; level 5 chains two or three of them so that they overlap (in "ABCDEA" every
    #: window of four letters is a trigger), where inserting into the string as it is scanned would
    #: hide the later matches.
    complexity_levels = 5

    def level_description(self, level: int) -> str:
        if level == 5:
            return "5 trigger substrings, two or three of them overlapping in a chain; 16-24 letters"
        return f"{level} separate trigger substring{'s' if level > 1 else ''}; {5 * level - 1}-{5 * level + 3} letters"

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
        letters = "ABCDE"
        while True:  # a random separator can complete an extra trigger: redraw until the count is exact
            pieces: list[str] = []
            if level == 5:
                chained = rng.randint(2, 3)  # a cyclic run of 3 + m letters holds m overlapping triggers
                start = rng.randrange(5)
                pieces.append("".join(letters[(start + j) % 5] for j in range(3 + chained)))
                pieces += [rng.choice(INSERTION_RULES)[0] for _ in range(level - chained)]
                rng.shuffle(pieces)
            else:
                pieces = [rng.choice(INSERTION_RULES)[0] for _ in range(level)]
            body = pieces[0] + "".join(rng.choice(letters) + piece for piece in pieces[1:])
            prefix = "".join(rng.choice(letters) for _ in range(rng.randint(0, 2)))
            suffix = "".join(rng.choice(letters) for _ in range(rng.randint(0, 2)))
            s = prefix + body + suffix
            if count_triggers(s) == level:
                break
        result = apply_insertions(s)
        return self.question(s), result, {"original_string": s, "modified_string": result}

    def verify(self, answer: str, entry: Entry) -> float:
        return float(_strip_quotes(answer).replace(" ", "") == entry["metadata"]["modified_string"])

    def corruptions(self, entry: Entry) -> list[str]:
        meta = entry["metadata"]
        res = meta["modified_string"]
        wrong = [
            meta["original_string"],
            res[:-1],
            res + "A",
            res[::-1],
            _insert_while_scanning(meta["original_string"]),
        ]
        return [w for w in dict.fromkeys(wrong) if w != res]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            question, sol = read_sample(sample)
            path = sample / "solution.json"
            meta = {
                "original_string": field(sol, "original_string", path, str),
                "modified_string": field(sol, "modified_string", path, str),
            }
            return question, meta["modified_string"], meta

        yield from iter_published(self, folder, build)


# -- letters ------------------------------------------------------------------------------------

#: Real words of 5 to 30 letters, many with repeated letters (the counts models get wrong). Where no
#: word of a level's length has the drawn letter the drawn number of times, a random string is used,
#: as in the published generator.
WORDS = tuple(
    sorted(
        set(
            """
    abacus address alfalfa arrow assassin assess avocado balloon bamboo banana barrage bazaar bubble butter
    carrot cassette cheese cocoa coffee committee cucumber cuckoo daddy dazzle eggshell error essence fizzle
    freeze giraffe goggles grammar guarantee haggard hollow horror hubbub illegal jiggle kayak kitten letter
    level llama lollipop mammoth mirror mummy muzzle needle nonsense noodle nuzzle papaya parallel pepper
    pinnacle pizza potato puppet puzzle quizzes raccoon radar razzle referee rhythm shampoo sleeve strength
    summer tattoo teepee terror toddler tomato trekking umbrella vacuum voodoo waffle woodwork xylophone yellow
    zigzag zucchini
    abracadabra accommodation accessories acknowledgement administration alphabetically anniversary appreciation
    architecture assassination barbershop bewilderment bookkeeper brotherhood bubblegum butterflies
    candlestick catastrophe celebration characteristic chrysanthemum circumference classification coincidence
    collaboration commemorate commissioner communication concentration congratulations connoisseur
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
    acknowledgements antiestablishment autobiographical characterization chlorofluorocarbons commercialization
    conscientiousness contradistinction counterintelligence counterproductive disenfranchisement
    disproportionately electrocardiogram electroluminescence electromagnetically environmentalists
    extraterrestrial gastroenterologist hyperparathyroidism hypersensitivity immunocompromised
    incomprehensibility indestructibility indistinguishable individualistically industrialization
    interchangeability intercontinental interdisciplinary irresponsibilities mischaracterization
    misinterpretation multidimensionality neuropsychological neurotransmitters nonrepresentational
    oversimplification overrepresentation pharmacologically phenomenologically photographically
    psychopharmacology psychotherapeutic responsibilities sesquicentennial sesquipedalianism
    spectroscopically straightforwardness superconductivity telecommunications thermodynamically
    transubstantiation triskaidekaphobia unconstitutionality uncontrollability underrepresentation
    unenthusiastically unselfconsciously
    anthropomorphization compartmentalization counterrevolutionary deindustrialization
    electrocardiographic electroencephalogram electrophysiological hypercholesterolemia
    immunohistochemistry incomprehensibleness institutionalization internationalization magnetohydrodynamics
    microminiaturization overenthusiastically tetrahydrocannabinol uncharacteristically ultramicroscopically
    counterrevolutionaries deinstitutionalization dichlorodifluoromethane hydrochlorofluorocarbon
    immunoelectrophoretically incomprehensibilities otorhinolaryngological overcommercialization
    overintellectualization paraskavedekatriaphobia polytetrafluoroethylene psychophysicotherapeutics
    spectrophotometrically thyroparathyroidectomized
    antidisestablishmentarianism electroencephalographically ethylenediaminetetraacetate
    floccinaucinihilipilification hepaticocholangiogastrostomy honorificabilitudinitatibus
    methylenedioxymethamphetamine pseudopseudohypoparathyroidism psychoneuroendocrinological
    radioimmunoelectrophoresis spectrophotofluorometrically
    """.split()
        )
    )
)

#: Word length per level: the published generator's five bands (its benchmark reads 10-15, 15-20 and 20-25).
LETTER_LENGTHS = {1: (5, 10), 2: (10, 15), 3: (15, 20), 4: (20, 25), 5: (25, 30)}
_LETTER_ANSWER = re.compile(
    r"count ?[:=] ?(\d{1,4}) ?[,;]? ?positions ?[:=] ?(?:\[([\d, ]*)\]|([\d, ]*))", re.IGNORECASE
)


def letter_positions(word: str, letter: str) -> list[int]:
    """1-based positions of `letter` in `word`."""
    return [i for i, c in enumerate(word, 1) if c == letter]


def format_letter_answer(positions: list[int]) -> str:
    return f"Count: {len(positions)}, Positions: [{', '.join(map(str, positions))}]"


def parse_letter_answer(text: str) -> tuple[int, list[int]]:
    """(count, positions) from "Count: 3, Positions: [2, 5, 9]" (any case, quotes or a final period allowed)."""
    text = " ".join(_strip_quotes(text).split()).rstrip(".").strip()
    m = _LETTER_ANSWER.fullmatch(text)
    if m is None:
        raise AnswerParseError("expected 'Count: X, Positions: [Y, Z, ...]'")
    listed = m.group(2) if m.group(2) is not None else m.group(3)
    positions = parse_int_sequence(listed, allowed=r"\s,", max_chars=400, max_items=100, max_digits=3)
    return int(m.group(1)), positions


class Letters(GeneratedTask):
    name = "symbench/letters"
    description = "Count a letter in a word and list its positions (the 'how many r in strawberry' test)."
    published_folders = ("Letters",)
    complexity_levels = len(LETTER_LENGTHS)

    def __init__(self, max_count: int = 5, real_word_rate: float = 0.9):
        self.max_count, self.real_word_rate = max_count, real_word_rate
        # (level, letter, count) -> the real words of that level's length with that letter that many times
        self._words: dict[tuple[int, str, int], list[str]] = {}
        for level, (lo, hi) in LETTER_LENGTHS.items():
            for word in WORDS:
                if lo <= len(word) <= hi:
                    for letter in sorted(set(word)):
                        self._words.setdefault((level, letter, word.count(letter)), []).append(word)

    def level_description(self, level: int) -> str:
        lo, hi = LETTER_LENGTHS[level]
        return f"a {lo}-{hi} letter word (real or random), the letter 1-{self.max_count} times; count and positions"

    @staticmethod
    def question(letter: str, word: str, example: list[int]) -> str:
        return (
            f"How many times does the letter '{letter}' appear in the word '{word}', and at which positions? "
            "Positions count from 1 (the first letter of the word is position 1).\n"
            "Give your answer in the format <<<Count: X, Positions: [Y, Z, ...]>>>, "
            f"for example <<<{format_letter_answer(example)}>>>."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        # as the published generator: a letter and a count first, then a real word that fits or a random one
        letter = rng.choice(string.ascii_lowercase)
        count = rng.randint(1, self.max_count)
        real = self._words.get((level, letter, count), [])
        if real and rng.random() < self.real_word_rate:
            word = rng.choice(real)
        else:
            lo, hi = LETTER_LENGTHS[level]
            others = [c for c in string.ascii_lowercase if c != letter]
            chars = [letter] * count + [rng.choice(others) for _ in range(rng.randint(lo, hi) - count)]
            rng.shuffle(chars)
            word = "".join(chars)
        positions = letter_positions(word, letter)
        example = example_unlike(rng, lambda: sorted(rng.sample(range(1, 10), 2)), positions)
        return self._built(letter, word, example)

    def _built(self, letter: str, word: str, example: list[int] | None = None) -> tuple[str, str, dict[str, Any]]:
        positions = letter_positions(word, letter)
        if example is None:  # a published word: a fixed example, moved off the answer
            example = [1, 3] if positions != [1, 3] else [2, 5]
        meta = {"letter": letter, "word": word, "count": len(positions), "positions": positions}
        return self.question(letter, word, example), format_letter_answer(positions), meta

    def solve_with_code(self, question: str) -> tuple[str, str] | None:
        m = re.match(r"How many times does the letter '([a-z])' appear in the word '([a-z]+)'", question)
        if m is None:
            return None
        code = (
            f"w = {m.group(2)!r}\np = [i + 1 for i, c in enumerate(w) if c == {m.group(1)!r}]\n"
            'print(f"Count: {len(p)}, Positions: {p}")'
        )
        return "Count with code.", code

    def verify(self, answer: str, entry: Entry) -> float:
        count, positions = parse_letter_answer(answer)
        expected = entry["metadata"]["positions"]
        # positions in any order, but each once: a repeated or missing one is a wrong list
        return float(count == len(expected) and sorted(positions) == expected)

    def corruptions(self, entry: Entry) -> list[str]:
        positions = entry["metadata"]["positions"]
        n = len(positions)
        shifted = positions[:-1] + [positions[-1] + 1 if positions[-1] + 1 not in positions else positions[-1] - 1]
        wrong = [
            f"Count: {n + 1}, Positions: [{', '.join(map(str, positions))}]",  # right list, wrong count
            format_letter_answer(shifted),
            format_letter_answer([p - 1 for p in positions]),  # counted from 0
            format_letter_answer(positions[:-1]),
            str(n),  # the count alone, without the positions the question asks for
            f"{format_letter_answer(positions)} or {format_letter_answer(shifted)}",
        ]
        return [w for w in dict.fromkeys(wrong) if w != entry["answer"]]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        # Letters/<dataset>/<letter>_<count>_<i>/test_words.json: two levels of folders; the question is the
        # published benchmark's (count and positions), which the data set does not store
        def build(sample: Path) -> tuple[str, str, dict[str, Any]]:
            path = sample / "test_words.json"
            m = re.fullmatch(r"([a-z])_(\d+)_(\d+)", sample.name)
            word = read_json(path, "the word as a JSON string")
            if m is None or not isinstance(word, str):
                raise PublishedDataError(f"{path}: expected a JSON string in a folder named <letter>_<count>_<i>")
            letter, count = m.group(1), word.count(m.group(1))
            if count != int(m.group(2)):
                raise PublishedDataError(f"{path}: folder says {m.group(2)} {letter!r} but {word!r} has {count}")
            return self._built(letter, word)

        samples = sample_dirs(folder, depth=2)
        # sample names (a_1_0, ...) repeat across the length-band folders: the id names the band too
        yield from iter_published(
            self, folder, build, samples, name=lambda sample: f"{sample.parent.name}-{sample.name}"
        )


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


#: (sequence lengths, numbers of letters) per level: the published generator's configurations, from
#: 5 letters over A-B up to 65 letters over A-G (its samples 0-19 stop at 20 over A-E, level 4).
STAT_LEVELS: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {
    1: ((5,), (2,)),
    2: ((10,), (3,)),
    3: ((15,), (4,)),
    4: ((20,), (5,)),
    5: ((25,), (6,)),
    6: ((35, 45, 55), (3,)),
    7: ((65,), (3, 4, 5, 6, 7)),
}


def _span(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


class StatisticalCounting(GeneratedTask):
    name = "symbench/statistical_counting"
    description = "Score a letter sequence by runs of repeated letters under given per-letter rules."
    published_folders = ("statistical_counting_dataset",)
    complexity_levels = len(STAT_LEVELS)

    def __init__(self, vary_rules: bool = False):
        # vary_rules (random scores, "three or more" runs) goes beyond the published rules, which always
        # score letter i with i + 1 for runs of two or more
        self.vary_rules = vary_rules

    def level_description(self, level: int) -> str:
        lengths, letters = STAT_LEVELS[level]
        return (
            f"a {_span(lengths)}-letter sequence over {_span(letters)} letters "
            f"(A-{string.ascii_uppercase[letters[-1] - 1]}), runs of two or more score"
        )

    @staticmethod
    def question(sequence: str, rules: list[dict[str, Any]], example: int = 5) -> str:
        letters = [r["letter"] for r in rules]
        names = f"the letter {letters[0]}" if len(letters) == 1 else "letters " + ", ".join(letters[:-1])
        names += f" and {letters[-1]}" if len(letters) > 1 else ""
        lines = "\n".join(
            f"{i}. If there are {_COUNT_WORDS[r['min_consecutive']]} or more consecutive {r['letter']}'s, "
            f"add {r['score']} to the total score."
            for i, r in enumerate(rules, 1)
        )
        return (
            f"The initial total score is 0. Given a string consisting of {names}, scan from front to back:\n\n"
            f"{lines}\n\n"
            # the published wording leaves open whether a long run scores more than once; its checker says once
            "A run of consecutive equal letters scores once, however long it is.\n"
            f"What is the total score of the string {sequence}?\n"
            f"Return your answer with the format <<<number>>>, like <<<{example}>>> means the total score is {example}."
        )

    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        lengths, counts = STAT_LEVELS[level]
        length, k = rng.choice(lengths), rng.choice(counts)
        letters = string.ascii_uppercase[:k]
        rules = [
            {
                "letter": c,
                "score": rng.randint(1, 6) if self.vary_rules else i + 1,
                "min_consecutive": rng.choice((2, 2, 3)) if self.vary_rules else 2,
            }
            for i, c in enumerate(letters)
        ]
        sequence = "".join(rng.choice(letters) for _ in range(length))
        total = run_score(sequence, rules)
        example = example_unlike(rng, lambda: rng.randint(1, 9), total)
        return (
            self.question(sequence, rules, example),
            str(total),
            {"sequence": sequence, "rules": rules, "solution": total},
        )

    def verify(self, answer: str, entry: Entry) -> float:
        return float(_single_int(answer, max_digits=6) == entry["metadata"]["solution"])

    def corruptions(self, entry: Entry) -> list[str]:
        s = entry["metadata"]["solution"]
        return [str(v) for v in (s + 1, s - 1, s + 2, 2 * s + 1) if v >= 0 and v != s]

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
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


TASKS = [StringDeletionAndModification(), StringInsertion(), Letters(), StatisticalCounting()]
