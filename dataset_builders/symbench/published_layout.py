"""Reading the paper's published SymBench data one sample at a time: the one mechanism every reader uses.

Contract shared by the `load_published` readers of the SymBench task modules:
- a reader is a generator over one task folder (or file); it yields an entry dict for every good
  sample and a `PublishedDataError` *instance* (yielded, not raised) for every bad one (missing
  file, malformed JSON, a missing field, a reference answer that fails the task's own verifier),
  so one bad sample never hides the others; the dispatcher (`dataset_builders/published.py`)
  collects the errors;
- a folder (or file) that does not exist, is not a folder, or holds no sample at all is *raised*
  as `PublishedDataError`: there is nothing to read at all (the dispatcher records it against the
  task, like a bad sample);
- entry ids are "<short name>-pub-<sample name>", and every yielded entry's `answer` scores 1.0
  under the task's `score`: `checked_entry` re-scores it before it is yielded. A task that sets
  `keeps_flawed_references` keeps a sample whose stored reference breaks its own question's rules
  (the paper's checker accepted it), flagged in metadata (`task.FLAWED_REFERENCE`) with the reason,
  and its `verify` accepts that stored reference as well as any answer that keeps the rules.

Layouts: `iter_published(task, folder, build)` walks `sample_<i>/` folders (`sample_dirs`, in
natural order) or a given list of sample paths and applies `build(sample) -> (question, answer,
metadata)`; a reader of another shape (a CSV, a JSONL file, MATH's `<split>/<subset>/<n>.json`)
passes each record through `checked_entry` itself. `read_text`, `read_json`, `field` and
`read_sample` turn unreadable files and missing fields into `PublishedDataError`s that name the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from dataset_builders.task import FLAWED_REFERENCE, FLAWED_REFERENCE_REASON, Entry, PublishedDataError, Task

#: Published files are small; a larger one is treated as malformed rather than read into memory.
MAX_FILE_BYTES = 2_000_000

#: What a sample builder returns: (question, reference answer, metadata).
Built = tuple[str, str, dict[str, Any]]


class LevelReader(Protocol):
    """A task that can say which of its generator levels a published entry's structure matches."""

    def level_of(self, metadata: dict[str, Any]) -> int: ...


def with_level(task: LevelReader, build: Callable[[Path], Built]) -> Callable[[Path], Built]:
    """`build` for a published sample, with the generator level its structure matches (0 if none) recorded
    as metadata["complexity"], so published and generated entries share one difficulty scale."""

    def built(sample: Path) -> Built:
        question, answer, metadata = build(sample)
        return question, answer, {**metadata, "complexity": task.level_of(metadata)}

    return built


def natural_key(name: str) -> list[Any]:
    """Sort key that puts sample_2 before sample_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def require_folder(folder: Path) -> Path:
    """`folder` as a Path; PublishedDataError (raised) when it is not an existing folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PublishedDataError(f"{folder}: expected a folder of published samples, found none")
    return folder


def require_file(path: Path, what: str) -> Path:
    """`path` as a Path; PublishedDataError (raised) when it is not an existing file."""
    path = Path(path)
    if not path.is_file():
        raise PublishedDataError(f"{path}: expected {what}, found none")
    return path


def subfolders(folder: Path) -> list[Path]:
    """The sub-folders of an existing `folder` in natural order (empty when it has none)."""
    return sorted((p for p in Path(folder).iterdir() if p.is_dir()), key=lambda p: natural_key(p.name))


def sample_dirs(folder: Path, depth: int = 1) -> list[Path]:
    """The sample folders of a task folder, `depth` levels down, in natural order.

    Raises PublishedDataError when `folder` is missing or holds no sample folder at that depth
    (an empty group folder in a two-level layout just contributes nothing).
    """
    samples = [require_folder(folder)]
    for _ in range(depth):
        samples = [inner for outer in samples for inner in subfolders(outer)]
    if not samples:
        levels = "/".join(["<sample>"] * depth)
        raise PublishedDataError(f"{folder}: expected {levels}/ folders of published samples, the folder has none")
    return samples


def read_text(path: Path, what: str = "") -> str:
    """The text of `path`; PublishedDataError naming the file (and `what` it should hold) otherwise."""
    expected = f" (expected {what})" if what else ""
    if not path.is_file():
        raise PublishedDataError(f"{path}: file is missing{expected}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise PublishedDataError(f"{path}: larger than {MAX_FILE_BYTES} bytes{expected}")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PublishedDataError(f"{path}: unreadable as UTF-8 text{expected} ({exc})") from None


def read_json(path: Path, expected: str = "a JSON document") -> Any:
    """The parsed JSON of `path`; `expected` describes the wanted shape for the error message."""
    try:
        return json.loads(read_text(path, expected))
    except json.JSONDecodeError as exc:
        raise PublishedDataError(f"{path}: malformed JSON, expected {expected} ({exc})") from None


def field(data: Any, key: str, path: Path, kind: type | tuple[type, ...], what: str | None = None) -> Any:
    """`data[key]` checked to be of `kind`; a PublishedDataError names the file and the field otherwise."""
    if what is None:
        what = "a " + (kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind))
    if not isinstance(data, dict) or key not in data:
        raise PublishedDataError(f"{path}: expected a JSON object with the field {key!r} ({what})")
    value = data[key]
    # bool is an int subclass, but true/false in a JSON file is never a count or a weight
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise PublishedDataError(f"{path}: field {key!r} should be {what}, got {type(value).__name__}")
    return value


def read_sample(
    sample: Path, question_file: str = "question.txt", solution_file: str = "solution.json"
) -> tuple[str, Any]:
    """(question text as stored, parsed solution JSON) of one `sample_<i>/` folder."""
    question = read_text(sample / question_file, "the question text")
    solution = read_json(sample / solution_file, "the reference solution")
    return question, solution


def checked_entry(task: Task, name: str, built: Built, where: Path | str) -> Entry | PublishedDataError:
    """The entry for one published sample, or an error when its stored reference does not verify.

    A reference that breaks the question's own rules is kept when the task `keeps_flawed_references`:
    the entry is flagged (FLAWED_REFERENCE, with `task.reference_flaw(entry)` as the reason), which
    makes the task's `verify` accept that stored reference too; it must then score 1 like any other.
    """
    question, answer, metadata = built
    entry = task.entry(f"pub-{name}", question, answer, metadata)
    completion = f"<<<{answer}>>>"
    if task.score(completion, entry) == 1.0:
        return entry
    if task.keeps_flawed_references:
        try:
            reason = task.reference_flaw(entry)
        except Exception:  # an unparseable reference: reported as not verifying, below
            reason = ""
        if reason:
            entry["metadata"].update({FLAWED_REFERENCE: True, FLAWED_REFERENCE_REASON: reason})
            if task.score(completion, entry) == 1.0:
                return entry
    return PublishedDataError(
        f"{where}: the stored reference answer {answer[:80]!r} does not verify under the task's rules"
    )


def iter_published(
    task: Task,
    folder: Path,
    build: Callable[[Path], Built],
    samples: Iterable[Path] | None = None,
    name: Callable[[Path], str] = lambda sample: sample.name,
) -> Iterator[Entry | PublishedDataError]:
    """Apply `build` to every sample folder of `folder` (or the given `samples`) and yield entries or errors.

    `folder` is checked first (`sample_dirs`, raising when there is nothing to read). `name` gives
    the sample's part of the entry id; it must be unique within the task, so layouts whose sample
    names repeat across sub-folders include the sub-folder.
    """
    for sample in sample_dirs(folder) if samples is None else samples:
        try:
            built = build(sample)
        except PublishedDataError as exc:
            yield exc
            continue
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            yield PublishedDataError(f"{sample}: unexpected content ({exc.__class__.__name__}: {exc})")
            continue
        yield checked_entry(task, name(sample), built, sample)
