"""What a task is: a small typed object that owns its data, its prompt and its verdict."""

from __future__ import annotations

import os
import random
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypedDict

from code_interpreter.errors import InputError
from code_interpreter.protocol import ANSWER_SOURCES, extract_answer
from dataset_builders.answer_parsing import ascii_digits, has_invisible, model_written

SOURCES = ("symbench", "bbh", "reasoning_gym")

#: Metadata key: True on a published entry whose stored reference breaks its own question's rules
#: (kept because the paper's checker accepted it; see `Task.keeps_flawed_references`).
FLAWED_REFERENCE = "published_reference_breaks_rules"
#: Metadata key: one sentence saying which rule the flagged reference breaks ("" when not flagged).
FLAWED_REFERENCE_REASON = "published_reference_flaw"


class PublishedDataError(InputError):
    """A published-data file is missing or malformed; the message names the file and what was expected."""


class TaskDataUnavailable(InputError, RuntimeError):
    """A task whose questions come from a dataset (Hub or local files) could not find them."""


class Entry(TypedDict):
    """One question of a task, as datasets store it and `Task.score` reads it."""

    task: str
    id: str
    question: str
    #: One correct answer, as the model should write it inside <<<>>>.
    answer: str
    #: What the verifier needs beyond the answer (a dict; a dataset row holds it as a JSON string).
    metadata: dict[str, Any]


class Task(ABC):
    """A reasoning task with a rule-based verifier: it owns its questions, its prompt and its verdict.

    Subclasses set `name` ("<source>/<short name>") and `description` (one line: what it tests), and
    implement `generate` (seeded entries) and `verify` (an extracted answer against an entry).
    `score` is the public verdict and is not overridden. Two kinds cover most tasks:
    `GeneratedTask` (a seeded `make_entry` per level) and `DatasetTask` (rows of a dataset).
    """

    name: str
    description: str = ""
    #: Folder names of the paper's published data that hold this task's instances.
    published_folders: tuple[str, ...] = ()
    #: Extracted answers longer than this score 0 without being parsed (hostile-input guard).
    max_answer_chars: int = 4000
    #: Whether a published sample whose stored reference breaks its own question's rules (or whose
    #: question gives its answer away, e.g. Reversi's, so an evaluation can leave it out) is kept
    #: (flagged with FLAWED_REFERENCE and FLAWED_REFERENCE_REASON, and `verify` then accepts that
    #: stored reference as well as any answer that keeps the rules) instead of rejected as a
    #: PublishedDataError. Every entry of such a task, generated or published, carries both keys
    #: (False and "" unless flagged), so a dataset of its entries has one metadata schema.
    keeps_flawed_references: bool = False
    #: How many difficulty levels the generator spans (levels are 1..complexity_levels, 1 easiest).
    #: `generate` draws each entry's level uniformly unless one is asked for, and records it as
    #: metadata["complexity"]; generators map the level to their structural knobs (grid size,
    #: constraint kinds, number of objects ...) so that 200 entries cover the published range.
    complexity_levels: int = 1

    @property
    def source(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split("/", 1)[1]

    @property
    def split(self) -> str:
        from dataset_builders.splits import split_of

        return split_of(self.name)

    # -- generation ---------------------------------------------------------------------------
    @abstractmethod
    def generate(self, n: int, seed: int = 0) -> Iterator[Entry]:
        """Yield `n` entries; the same (n, seed) gives identical entries, and entry i does not depend on n."""

    def level_description(self, level: int) -> str:
        """What the generator's knobs are at `level` (shown by `r1ci tasks stats`); "" when it has one level."""
        return ""

    def solve_with_code(self, question: str) -> tuple[str, str] | None:
        """A one-line plan and a python script that prints the answer, read from `question` alone.

        The offline solver teacher (`dataset_builders.solver_teacher`) writes traces with it where
        no teacher model is reachable. None (the default) means the task has no such solver.
        """
        return None

    def entry(self, id_: str, question: str, answer: str, metadata: dict[str, Any] | None = None) -> Entry:
        # Every entry carries its level so a dataset has one metadata schema; 0 = not generated here
        # (a published or dataset-backed instance whose level is unknown).
        metadata = {"complexity": 0, **(metadata or {})}
        if self.keeps_flawed_references:
            metadata.setdefault(FLAWED_REFERENCE, False)
            metadata.setdefault(FLAWED_REFERENCE_REASON, "")
        return {
            "task": self.name,
            "id": f"{self.short_name}-{id_}",
            "question": question,
            "answer": answer,
            "metadata": metadata,
        }

    # -- verdict ------------------------------------------------------------------------------
    def score(
        self,
        completion: str,
        entry: Entry,
        *,
        inserted_spans: Sequence[tuple[int, int]] = (),
        answer_source: str = "model",
    ) -> float:
        """1.0 when the last <<<...>>> that the model wrote in `completion` verifies, else 0.0 (never raises).

        Interpreter output never supplies the answer: pass an episode's `inserted_spans` when known;
        without them the protocol finds results by their template, and the first line of each result
        is blanked too (`answer_parsing.model_written`). An answer holding invisible characters scores
        0; full-width digits read as ASCII ones; markdown emphasis or a sentence's full stop around the
        whole answer is dropped (`unwrapped`), the same for every task. `entry` may hold its metadata as the JSON string a
        datasets column stores. `answer_source="anywhere"` reads the last answer in the whole
        completion, interpreter output included: only for evaluating checkpoints trained under that
        looser rule (`ProtocolConfig.answer_source`), never for rewards.
        """
        if answer_source not in ANSWER_SOURCES:
            raise InputError(f"answer_source must be one of {ANSWER_SOURCES}, got {answer_source!r}")
        if not isinstance(completion, str):
            return 0.0
        try:
            if answer_source == "anywhere":
                answer = extract_answer(completion, answer_source="anywhere")
            else:
                answer = extract_answer(model_written(completion), inserted_spans=inserted_spans or None)
        except ValueError:  # malformed spans: no answer can be trusted
            return 0.0
        if answer is None or len(answer) > self.max_answer_chars or has_invisible(answer):
            return 0.0
        try:
            entry = decoded_entry(entry)
            value = float(self.verify(unwrapped(ascii_digits(answer), str(entry["answer"])), entry))
        except Exception:  # a malformed answer is a wrong answer, whatever the parser raised
            return 0.0
        return min(1.0, max(0.0, value)) if value == value else 0.0

    @abstractmethod
    def verify(self, answer: str, entry: Entry) -> float:
        """Score an extracted answer in [0, 1]; may raise on malformed input (scored 0)."""

    def reference_flaw(self, entry: Entry) -> str:
        """Which of the question's rules the stored reference of `entry` breaks, in one sentence ("" if none).

        Only asked of tasks that set `keeps_flawed_references`, for a published reference that failed `verify`.
        """
        return ""

    def corruptions(self, entry: Entry) -> list[str]:
        """Wrong answers for `entry` (each must score 0); tasks override when one edit can stay valid."""
        answer = entry["answer"]
        flipped = "".join(_flip(c) if i == _first_flippable(answer) else c for i, c in enumerate(answer))
        return [a for a in ("", "???", flipped) if a != answer]

    # -- published data -----------------------------------------------------------------------
    def load_published(self, folder: Path) -> Iterator[Entry | PublishedDataError]:
        """Entries from one of `published_folders` in the paper's layout.

        Yields an entry for every good sample and a PublishedDataError instance for every bad one;
        raises PublishedDataError when `folder` is missing or holds nothing to read at all.
        """
        raise PublishedDataError(f"{self.name} has no reader for published data (folder {folder})")

    def __repr__(self) -> str:
        return f"<Task {self.name} ({self.split})>"


#: Rejection-sampling guard for generators: knobs that admit (almost) no valid instance fail loudly
#: after this many draws instead of looping.
MAX_DRAWS = 10_000


class GeneratedTask(Task):
    """A task whose questions a seeded generator makes: implement `make_entry(rng, level)`.

    Entry i of (n, seed) depends only on (name, seed, i); its level is drawn uniformly from
    1..`complexity_levels` unless `generate` is asked for one.
    """

    def generate(
        self, n: int, seed: int = 0, *, complexity: int | None = None, levels: tuple[int, int] | None = None
    ) -> Iterator[Entry]:
        """Yield `n` entries; the same (n, seed) gives identical entries, and entry i does not depend on n.

        `complexity` fixes every entry's level (1..complexity_levels); by default each entry draws its
        own, uniformly from `levels` (an inclusive (low, high) range, capped at `complexity_levels`;
        default: all levels).
        """
        if complexity is not None and not 1 <= complexity <= self.complexity_levels:
            raise ValueError(f"{self.name}: complexity must be in 1..{self.complexity_levels}, got {complexity}")
        low, high = levels or (1, self.complexity_levels)
        high = min(high, self.complexity_levels)
        if not 1 <= low <= high:
            raise ValueError(f"{self.name}: levels {levels} are not a range within 1..{self.complexity_levels}")
        for i in range(n):
            key = f"{self.name}:{seed}:{i}"
            level = complexity or low + random.Random(f"{key}:level").randrange(high - low + 1)
            question, answer, metadata = self.make_entry(random.Random(key), level)
            yield self.entry(f"{seed}-{i}", question, answer, {**metadata, "complexity": level})

    @abstractmethod
    def make_entry(self, rng: random.Random, level: int = 1) -> tuple[str, str, dict[str, Any]]:
        """One (question, reference answer as written inside <<<>>>, metadata) drawn from `rng` at difficulty `level`."""


def parse_levels(text: str | None) -> tuple[int, int] | None:
    """`--complexity` as an inclusive level range: "2" -> (2, 2), "1-3" -> (1, 3); None -> None (all levels)."""
    if text is None or str(text).strip() == "":
        return None
    # ASCII digits only (int() reads any script's digits) and few of them: a 5,000-digit level
    # would otherwise end in int()'s own ValueError instead of this message
    m = re.fullmatch(r"\s*([0-9]{1,6})\s*(?:-\s*([0-9]{1,6})\s*)?", str(text))
    if m is None or int(m.group(1)) < 1 or int(m.group(2) or m.group(1)) < int(m.group(1)):
        shown = str(text) if len(str(text)) <= 40 else str(text)[:40] + "..."
        raise InputError(f"--complexity takes a level or a range of levels such as 2 or 1-3, got {shown!r}")
    return int(m.group(1)), int(m.group(2) or m.group(1))


def generate_entries(task: Task, n: int, seed: int, complexity: str | None = None) -> Iterator[Entry]:
    """`task.generate(n, seed)`, restricted to the `complexity` levels ("2", "1-3") where the generator has levels."""
    levels = parse_levels(complexity)
    if levels is not None and isinstance(task, GeneratedTask):
        if levels[0] > task.complexity_levels:  # a range reaching past the top is capped; one starting past it is empty
            top = task.complexity_levels
            raise InputError(
                f"--complexity {complexity}: {task.name} has {'only level 1' if top == 1 else f'levels 1-{top}'}; "
                "start the range within them or leave the task out"
            )
        return task.generate(n, seed=seed, levels=levels)
    return task.generate(n, seed=seed)


_EMPHASIS = ("**", "__", "`")


def unwrapped(answer: str, reference: str) -> str:
    """`answer` without one layer of markdown around all of it and one final full stop.

    Models often write "**42**", "`up left`" or "42." for 42. One rule for every task (BBH accepted
    these, Reasoning-Gym and SymBench did not): an answer loses one pair of ``**``, ``__`` or single
    backticks that wraps all of it (with no more such markers inside than the reference has: "x**2"
    is a power), and a single-line answer one trailing "." (outside or inside that pair) unless the
    reference itself ends in one. Nothing else is removed, so the verifier still sees every
    character the answer claims; a multi-line answer (a grid, a plan) keeps its final "." because
    "." can be one of its cells.
    """
    text = answer.strip()
    if reference.strip().startswith(_EMPHASIS):
        return answer
    keeps_stop = reference.strip().endswith(".") or "\n" in text
    stopped = False
    if not keeps_stop and text.endswith(".") and not text.endswith(".."):
        text, stopped = text[:-1].rstrip(), True
    for mark in _EMPHASIS:
        inner = text[len(mark) : -len(mark)]
        wrapped = len(text) > 2 * len(mark) and text.startswith(mark) and text.endswith(mark)
        if wrapped and inner.count(mark) == reference.count(mark):
            text = inner.strip()
            break
    if not keeps_stop and not stopped and text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    return answer if text == answer.strip() else text


def decoded_entry(entry: Entry) -> Entry:
    """`entry` with its metadata as a dict: a datasets row of mixed tasks stores it as JSON text."""
    metadata = entry.get("metadata")
    if isinstance(metadata, str):
        import json

        return {**entry, "metadata": json.loads(metadata) if metadata.strip() else {}}
    return entry


class DatasetTask(Task):
    """A task whose questions are rows of a dataset, found at the first source that applies:

    1. the `path` constructor argument (a file or folder in the dataset's own layout);
    2. the environment variable `path_env`, with the same meaning;
    3. the Hub dataset `hub_id` (constructor argument, else the environment variable `hub_env`,
       else `default_hub_id`), config `hub_config`, split `hub_split`.

    Rows are loaded when first needed (never at import), cached per source so that pointing the
    environment elsewhere later takes effect, and sampled with `shuffled_passes`. Subclasses
    implement `read_local`, `read_hub`, `build` (one row to question, answer, metadata; None for a
    row the task cannot use) and `data_hint` (one clause saying what to set).
    """

    path_env: str = ""
    hub_env: str = ""
    default_hub_id: str = ""
    hub_config: str | None = None
    hub_split: str = "train"

    def __init__(
        self, path: str | os.PathLike[str] | None = None, hub_id: str | None = None, hub_split: str | None = None
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.hub_id = hub_id
        if hub_split is not None:
            self.hub_split = hub_split
        self._rows: dict[str, list[dict[str, Any]]] = {}

    @abstractmethod
    def read_local(self, path: Path) -> list[dict[str, Any]]:
        """Rows from a local file or folder; raise TaskDataUnavailable naming the file when it is unusable."""

    @abstractmethod
    def read_hub(self, hub_id: str) -> list[dict[str, Any]]:
        """Rows of the Hub dataset `hub_id` (any exception means "not available here")."""

    @abstractmethod
    def build(self, row: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        """(question, reference answer, metadata) of one row, or None when the task cannot use it."""

    @abstractmethod
    def data_hint(self) -> str:
        """What to set to make the data available, as one clause for error messages."""

    def rows(self) -> list[dict[str, Any]]:
        """The usable rows of the first source that applies (cached); TaskDataUnavailable when none works."""
        local = self.path or (
            Path(os.environ[self.path_env]) if self.path_env and os.environ.get(self.path_env) else None
        )
        hub_id = self.hub_id or (os.environ.get(self.hub_env) if self.hub_env else None) or self.default_hub_id
        key = f"path:{local}" if local is not None else f"hub:{hub_id}:{self.hub_config}:{self.hub_split}"
        if key in self._rows:
            return self._rows[key]
        if local is not None:
            rows = self.read_local(local)
            where = str(local)
        elif hub_id:
            try:
                rows = self.read_hub(hub_id)
            except Exception as exc:  # offline, unknown id, missing config: all mean "not available here"
                config = f" (config {self.hub_config!r})" if self.hub_config else ""
                raise TaskDataUnavailable(
                    f"{self.name}: the Hub dataset {hub_id!r}{config} could not be loaded "
                    f"({exc.__class__.__name__}); {self.data_hint()}"
                ) from None
            where = f"the Hub dataset {hub_id!r}"
        else:
            raise TaskDataUnavailable(f"{self.name}: no data source is configured; {self.data_hint()}")
        usable = [row for row in rows if self.build(row) is not None]
        if not usable:
            raise TaskDataUnavailable(f"{self.name}: {where} holds no usable rows; {self.data_hint()}")
        self._rows[key] = usable
        return usable

    def generate(self, n: int, seed: int = 0) -> Iterator[Entry]:
        """`n` entries from a seeded shuffle of the rows (reshuffled per pass when n exceeds them).

        The rows are loaded on the call, so a missing source raises here rather than at first iteration.
        """
        return self._walk(self.rows(), n, seed)

    def _walk(self, rows: list[dict[str, Any]], n: int, seed: int) -> Iterator[Entry]:
        for i, index in enumerate(shuffled_passes(f"{self.name}:{seed}", len(rows), n)):
            built = self.build(rows[index])
            assert built is not None  # rows() keeps only buildable rows
            yield self.entry(f"{seed}-{i}", *built)


def shuffled_passes(key: str, size: int, n: int) -> Iterator[int]:
    """`n` indices into a dataset of `size` rows: a seeded shuffle, reshuffled on each further pass.

    Dataset-backed tasks sample with it so that entry i does not depend on n and no row repeats
    before every row has been used.
    """
    rng = random.Random(key)
    order: list[int] = []
    for _ in range(n):
        if not order:
            order = list(range(size))
            rng.shuffle(order)
            order.reverse()  # pop() from the end walks the shuffle front to back
        yield order.pop()


def _first_flippable(text: str) -> int:
    return next((i for i, c in enumerate(text) if c.isalnum()), -1)


def _flip(c: str) -> str:
    if c.isdigit():
        return str((int(c) + 1) % 10)
    if c.isalpha():
        base = "a" if c.islower() else "A"
        return chr((ord(c.lower()) - ord("a") + 1) % 26 + ord(base)) if c.isascii() else "x"
    return c
