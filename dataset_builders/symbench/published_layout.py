"""Reading the paper's published SymBench folders one sample at a time.

Contract shared by the `load_published` readers of the SymBench task modules:
- a reader is a generator over one task folder; it yields an entry dict for every good sample and
  a `PublishedDataError` *instance* (yielded, not raised) for every bad one (missing file,
  malformed JSON, a reference answer that fails the task's own verifier), so one bad sample never
  hides the others; the dispatcher (`dataset_builders/published.py`) collects the errors;
- a folder that does not exist or is not a directory is raised as `PublishedDataError`, since
  there is nothing to read at all;
- entry ids are "<short name>-pub-<sample name>", and every yielded entry's `answer` scores 1.0
  under the task's `score` (that is checked here before the entry is yielded).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dataset_builders.task import PublishedDataError, Task

#: Published files are small; a larger one is treated as malformed rather than read into memory.
MAX_FILE_BYTES = 2_000_000

#: What a sample builder returns: (question, reference answer, metadata).
Built = tuple[str, str, dict[str, Any]]


def natural_key(name: str) -> list[Any]:
    """Sort key that puts sample_2 before sample_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def require_folder(folder: Path) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise PublishedDataError(f"{folder}: expected a folder of published samples, found none")
    return folder


def sample_dirs(folder: Path) -> list[Path]:
    """The sub-folders of `folder` in natural order."""
    return sorted((p for p in require_folder(folder).iterdir() if p.is_dir()), key=lambda p: natural_key(p.name))


def read_text(path: Path) -> str:
    """The text of `path`, or PublishedDataError naming the file."""
    if not path.is_file():
        raise PublishedDataError(f"{path}: file is missing")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise PublishedDataError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PublishedDataError(f"{path}: unreadable as UTF-8 text ({exc})") from None


def read_json(path: Path, expected: str = "a JSON document") -> Any:
    """The parsed JSON of `path`; `expected` describes the wanted shape for the error message."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise PublishedDataError(f"{path}: malformed JSON, expected {expected} ({exc})") from None


def field(data: Any, key: str, path: Path, kind: type | tuple[type, ...], what: str) -> Any:
    """`data[key]` checked to be of `kind`; a PublishedDataError names the file and the field otherwise."""
    if not isinstance(data, dict) or key not in data:
        raise PublishedDataError(f"{path}: expected a JSON object with the field {key!r} ({what})")
    value = data[key]
    # bool is an int subclass, but true/false in a JSON file is never a count or a weight
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise PublishedDataError(f"{path}: field {key!r} should be {what}, got {type(value).__name__}")
    return value


def checked_entry(task: Task, name: str, built: Built, where: Path) -> dict[str, Any] | PublishedDataError:
    """The entry for one published sample, or an error when its reference fails the task's verifier."""
    question, answer, metadata = built
    entry = task.entry(f"pub-{name}", question, answer, metadata)
    if task.score(f"<<<{answer}>>>", entry) != 1.0:
        return PublishedDataError(
            f"{where}: the reference answer {answer[:80]!r} does not satisfy the question's own rules"
        )
    return entry


def iter_published(
    task: Task,
    folder: Path,
    build: Callable[[Path], Built],
    samples: list[Path] | None = None,
    name: Callable[[Path], str] = lambda sample: sample.name,
) -> Iterator[dict[str, Any] | PublishedDataError]:
    """Apply `build` to every sample folder (or the given `samples` paths) and yield entries or errors.

    `name` gives the sample's part of the entry id; it must be unique within the task, so layouts
    whose sample names repeat across sub-folders include the sub-folder.
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
