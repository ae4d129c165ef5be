"""Big-Bench-Hard: 27 tasks whose questions come from the BBH data, scored by per-task normalisation.

Where the questions come from (first that applies, looked up when data is first needed, never at
import time):
1. the `path` constructor argument: a folder of the original BBH files `<task>.json`
   (`{"examples": [{"input": ..., "target": ...}]}`) or one such file;
2. the environment variable `R1CI_BBH_PATH`, with the same meaning;
3. the Hub dataset `hub_id` (constructor argument, else `R1CI_BBH_DATASET`, else "lukaemon/bbh"),
   one config per task, split `hub_split` ("test").
When none works, `generate` raises `TaskDataUnavailable` with one sentence saying what to set.

`generate(n, seed)` walks a seeded shuffle of the examples (a fresh shuffle per pass when n is
larger than the task, as some tasks have fewer than 200 examples), so entry i depends only on
(seed, i). The question is the BBH input followed by how to write the answer inside <<<>>>.

Scoring normalises the answer per kind of target (see `ANSWER_KINDS`):
- "choice": the option letter with or without parentheses ("(B)", "B", "b", "B)", "B."), the
  letter followed by the option's text ("(B) heptagon"), or the option's text alone when it names
  exactly one option (three BBH examples whose target is a text, not a letter, need that text);
- "yes_no", "valid_invalid", "true_false": the word, case-insensitive;
- "number": the same value, however written ("12", "12.0", "+12"), never evaluated;
- "dyck": the closing sequence, whitespace-insensitive;
- "words": the same words in the same order, whitespace- and comma-insensitive, case-insensitive.
A trailing full stop and wrapping quotes or backticks are ignored for every kind, and for all but
"dyck" and "words" so are "The answer is", Markdown bold, \\boxed{}, \\text{} and $...$ around it.

Published data: BBH's own JSON files are the paper's published form of these tasks, so
`load_published(<task>.json or a folder holding it)` yields the same entries, with a
`PublishedDataError` for each malformed example or file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from dataset_builders.task import DatasetTask, Entry, PublishedDataError, Task, TaskDataUnavailable

DEFAULT_HUB_ID = "lukaemon/bbh"
PATH_ENV = "R1CI_BBH_PATH"
HUB_ENV = "R1CI_BBH_DATASET"

#: task file stem -> (kind of target, what the task tests)
ANSWER_KINDS: dict[str, tuple[str, str]] = {
    "boolean_expressions": ("true_false", "evaluate a Boolean expression of True/False, not, and, or"),
    "causal_judgement": ("yes_no", "answer how a typical person judges causation in a short story"),
    "date_understanding": ("choice", "date arithmetic from a description (MM/DD/YYYY options)"),
    "disambiguation_qa": ("choice", "resolve the antecedent of a pronoun, or say it is ambiguous"),
    "dyck_languages": ("dyck", "close an unfinished sequence of nested brackets of four kinds"),
    "formal_fallacies": ("valid_invalid", "decide whether an argument is deductively valid"),
    "geometric_shapes": ("choice", "name the shape an SVG path draws"),
    "hyperbaton": ("choice", "pick the sentence with the correct English adjective order"),
    "logical_deduction_five_objects": ("choice", "order five objects from ordering clues"),
    "logical_deduction_seven_objects": ("choice", "order seven objects from ordering clues"),
    "logical_deduction_three_objects": ("choice", "order three objects from ordering clues"),
    "movie_recommendation": ("choice", "pick the movie most similar to a list of movies"),
    "multistep_arithmetic_two": ("number", "evaluate a nested integer arithmetic expression"),
    "navigate": ("yes_no", "decide whether a sequence of steps returns to the start"),
    "object_counting": ("number", "count the objects of a kind in a list of possessions"),
    "penguins_in_a_table": ("choice", "answer questions about a small table of penguins"),
    "reasoning_about_colored_objects": ("choice", "answer questions about colored objects on a surface"),
    "ruin_names": ("choice", "pick the humorous one-letter edit of an artist or movie name"),
    "salient_translation_error_detection": ("choice", "classify the error in a German-English translation"),
    "snarks": ("choice", "pick the sarcastic one of two statements"),
    "sports_understanding": ("yes_no", "judge whether a sentence about sports is plausible"),
    "temporal_sequences": ("choice", "find when a person could have gone somewhere, given a schedule"),
    "tracking_shuffled_objects_five_objects": ("choice", "track five objects through a sequence of swaps"),
    "tracking_shuffled_objects_seven_objects": ("choice", "track seven objects through a sequence of swaps"),
    "tracking_shuffled_objects_three_objects": ("choice", "track three objects through a sequence of swaps"),
    "web_of_lies": ("yes_no", "follow a chain of people who lie or tell the truth"),
    "word_sorting": ("words", "sort a list of words alphabetically"),
}

_FORMAT = {
    "choice": "Answer with the letter of the correct option, giving the final answer as <<<answer>>>, e.g. <<<(A)>>>.",
    "yes_no": "Answer Yes or No, giving the final answer as <<<answer>>>, e.g. <<<Yes>>>.",
    "valid_invalid": "Answer valid or invalid, giving the final answer as <<<answer>>>, e.g. <<<valid>>>.",
    "true_false": "Answer True or False, giving the final answer as <<<answer>>>, e.g. <<<True>>>.",
    "number": "Answer with a single number, giving the final answer as <<<answer>>>, e.g. <<<12>>>.",
    "dyck": (
        "Give only the closing brackets that complete the sequence, separated by spaces, "
        "as the final answer <<<answer>>>, e.g. <<<] ) }>>>."
    ),
    "words": (
        "Give the sorted words separated by spaces as the final answer <<<answer>>>, e.g. <<<apple banana cherry>>>."
    ),
}

_OPTION_LINE = re.compile(r"^\(([A-Z])\)\s*(.*?)\s*$", re.MULTILINE)
_LETTER = re.compile(r"^\(?([A-Za-z])\)?[.:]?$")
_LETTER_AND_TEXT = re.compile(r"^\(?([A-Za-z])\)[.:]?\s+(.+)$|^([A-Z])[.:]\s+(.+)$", re.DOTALL)
_NUMBER = re.compile(r"^[+-]?\d{1,40}(\.\d{0,40})?$")
_BINARY = {"yes_no": ("yes", "no"), "valid_invalid": ("valid", "invalid"), "true_false": ("true", "false")}


def _clean(text: str) -> str:
    """Strip what models wrap around a final answer: whitespace, quotes, backticks, a trailing full stop."""
    text = text.strip()
    for _ in range(2):
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
            text = text[1:-1].strip()
        text = text.removesuffix(".").strip()
    return text


_ANSWER_IS = re.compile(r"^(?:the\s+)?(?:final\s+)?answer(?:\s+is)?\s*[:=]?\s*", re.IGNORECASE)
_WRAPPERS = (("**", "**"), ("\\boxed{", "}"), ("\\text{", "}"), ("$", "$"))


def _unwrap(text: str) -> str:
    """One short answer without "The answer is", Markdown bold, \\boxed{}, \\text{} or $...$ around it."""
    text = _ANSWER_IS.sub("", _clean(text), count=1)
    for _ in range(3):
        before = text
        for head, tail in _WRAPPERS:
            if len(text) > len(head) + len(tail) and text.startswith(head) and text.endswith(tail):
                text = _clean(text[len(head) : -len(tail)])
        if text == before:
            break
    return text


def options_of(question: str) -> dict[str, str]:
    """{letter: option text} of a multiple-choice BBH question ("(A) circle" lines)."""
    return {m.group(1): m.group(2) for m in _OPTION_LINE.finditer(question)}


def _chosen_letter(answer: str, options: dict[str, str]) -> str | None:
    m = _LETTER.match(answer)
    if m:
        return m.group(1).upper()
    m = _LETTER_AND_TEXT.match(answer)
    if m:
        letter, text = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        letter = letter.upper()
        if options.get(letter, "").casefold() == _clean(text).casefold():
            return letter
    # a letter with some other option's text is contradictory: it names no option and scores 0
    named = [letter for letter, text in options.items() if text.casefold() == answer.casefold()]
    return named[0] if len(named) == 1 else None


def _number(text: str) -> Fraction | None:
    text = text.replace(",", "") if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", text) else text
    return Fraction(text) if _NUMBER.match(text) else None


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text.casefold()) if w]


def answers_match(kind: str, answer: str, target: str, question: str) -> bool:
    """Whether `answer` (as written inside <<<>>>) is the BBH `target` for a task of `kind`."""
    answer, target = _clean(answer), target.strip()
    if kind not in ("dyck", "words"):  # a bracket or a word could be part of those answers
        answer = _unwrap(answer)
    if kind == "choice":
        if not re.fullmatch(r"\([A-Z]\)", target):
            # a few BBH examples (movie_recommendation, ruin_names) split an option at its commas
            # and give the option text as target; only that text can be right
            return answer.casefold() == target.casefold()
        return _chosen_letter(answer, options_of(question)) == target[1]
    if kind in _BINARY:
        return answer.casefold() == target.casefold()
    if kind == "number":
        value = _number(answer)
        return value is not None and value == _number(target)
    if kind == "dyck":
        return "".join(answer.split()) == "".join(target.split())
    if kind == "words":
        return _words(answer) == _words(target)
    raise ValueError(f"unknown BBH answer kind {kind!r}")


class BBHTask(DatasetTask):
    """One Big-Bench-Hard task; its questions are the BBH examples of `stem`."""

    max_answer_chars = 2000  # the longest BBH target (word sorting) has under 200 characters
    path_env = PATH_ENV
    hub_env = HUB_ENV
    default_hub_id = DEFAULT_HUB_ID
    hub_split = "test"

    def __init__(
        self,
        stem: str,
        path: str | os.PathLike[str] | None = None,
        hub_id: str | None = None,
        hub_split: str = "test",
    ) -> None:
        if stem not in ANSWER_KINDS:
            raise KeyError(f"unknown BBH task {stem!r}; known: {', '.join(sorted(ANSWER_KINDS))}")
        super().__init__(path, hub_id, hub_split)
        self.stem = stem
        self.name = f"bbh/{stem}"
        self.kind, what = ANSWER_KINDS[stem]
        self.description = f"BBH: {what}"
        self.published_folders = (stem,)
        self.hub_config = stem

    # -- data -----------------------------------------------------------------------------------
    def data_hint(self) -> str:
        return f"set {PATH_ENV} to a folder of BBH JSON files or {HUB_ENV} to another dataset"

    def _file(self, path: Path) -> Path:
        return path / f"{self.stem}.json" if path.is_dir() else path

    def read_local(self, path: Path) -> list[dict[str, Any]]:
        file = self._file(path)
        examples, problems = [], []
        try:
            for item in self._read_file(file):
                (problems if isinstance(item, PublishedDataError) else examples).append(item)
        except PublishedDataError as exc:
            raise TaskDataUnavailable(f"{self.name}: {exc} ({self.data_hint()})") from None
        if not examples:
            detail = f"; first problem: {problems[0]}" if problems else ""
            raise TaskDataUnavailable(f"{self.name}: {file} holds no usable BBH examples{detail}")
        return examples

    def read_hub(self, hub_id: str) -> list[dict[str, Any]]:
        from datasets import load_dataset

        rows = load_dataset(hub_id, self.stem, split=self.hub_split)
        return [{"input": str(r["input"]), "target": str(r["target"]), "index": i} for i, r in enumerate(rows)]

    def _read_file(self, file: Path) -> Iterator[dict[str, Any] | PublishedDataError]:
        """Examples of a BBH JSON file; a bad example is yielded as an error, a bad file is raised."""
        if not file.is_file():
            raise PublishedDataError(f"{file}: BBH file is missing")
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PublishedDataError(
                f"{file}: not a readable BBH JSON file ({exc.__class__.__name__}: {exc})"
            ) from None
        examples = data.get("examples") if isinstance(data, dict) else None
        if not isinstance(examples, list):
            raise PublishedDataError(f"{file}: expected a JSON object with a list under 'examples'")
        for i, example in enumerate(examples):
            ok = isinstance(example, dict) and all(isinstance(example.get(k), str) for k in ("input", "target"))
            if not ok or not example["target"].strip():
                yield PublishedDataError(f"{file}: example {i} needs string fields 'input' and a non-empty 'target'")
            else:
                yield {"input": example["input"], "target": example["target"], "index": i}

    # -- entries --------------------------------------------------------------------------------
    def build(self, row: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        question = f"{row['input'].rstrip()}\n\n{_FORMAT[self.kind]}"
        return question, row["target"].strip(), {"index": row["index"], "answer_kind": self.kind}

    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        """Entries of `<stem>.json` (or that file inside `folder`); bad examples come out as errors."""
        for item in self._read_file(self._file(Path(folder))):
            yield (
                item if isinstance(item, PublishedDataError) else self.entry(f"pub-{item['index']}", *self.build(item))
            )

    # -- verdict --------------------------------------------------------------------------------
    def verify(self, answer: str, entry: Entry) -> float:
        return float(answers_match(self.kind, answer, entry["answer"], entry["question"]))

    def corruptions(self, entry: Entry) -> list[str]:
        """Wrong answers of the right shape: other options, the other word, off-by-one numbers, edited sequences."""
        target = entry["answer"].strip()
        wrong: list[str] = ["", "???"]
        if self.kind == "choice":
            wrong += [f"({k})" for k in options_of(entry["question"]) if k != target.strip("()")]
        elif self.kind in _BINARY:
            a, b = _BINARY[self.kind]
            wrong.append(b if target.casefold() == a else a)
        elif self.kind == "number":
            wrong += [str(_number(target) + 1), str(-_number(target) - 1)]
        elif self.kind == "dyck":
            closers = target.split()
            wrong += [f"{target} )", " ".join(closers[:-1]) or ("]" if closers != ["]"] else ")")]
        elif self.kind == "words":
            words = target.split()
            wrong.append(" ".join(words[:-1] + ["zzz"]))
            if words != words[::-1]:
                wrong.append(" ".join(words[::-1]))
        return wrong


def make_tasks(path: str | os.PathLike[str] | None = None, hub_id: str | None = None) -> list[BBHTask]:
    """All 27 BBH tasks reading from `path` / `hub_id` (None: the environment, then the Hub)."""
    return [BBHTask(stem, path=path, hub_id=hub_id) for stem in sorted(ANSWER_KINDS)]


TASKS: list[Task] = list(make_tasks())
