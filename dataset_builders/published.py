"""Read the paper's published data (SymBench task folders, BBH JSON files) into task entries.

`load_published(path)` accepts any of:
- a SymBench root holding task folders (`game24_dataset/`, `eight_queens_dataset_2/`, `MATH/`,
  `gsmhardv2.jsonl`, ...), each read by the task(s) whose `published_folders` name it;
- a single task folder or file (its name is one of those folder names);
- a BBH folder of `<task>.json` files, or one such file (BBH tasks name their file stem);
- a root holding several of these, e.g. `external/` with `symbench/` and `bbh/` inside.

A folder that no task reads is reported (with the known names), unless it only groups known
folders, in which case it is searched (up to `MAX_DEPTH` levels). At a root, files that are not
data (NOTICE, LICENSE, README.md, hidden files) are ignored; an unknown `.json`/`.jsonl` file is
reported. Task readers yield a `PublishedDataError` for each bad sample instead of raising, so one
bad sample never hides the others; a reader that raises loses only its own folder.

`on_error` decides what happens to the problems once everything has been read:
- "raise" (default): one `PublishedDataError` listing every problem, if there was any;
- "skip": they are dropped (and logged); only the good entries are returned;
- "collect": `Collected(entries, errors)` is returned; each error has a `task` attribute, the
  name of the task whose reader reported it (None for a folder or file that no task reads).
A path that does not exist raises `FileNotFoundError` in every mode.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, NamedTuple

from dataset_builders.task import Entry, PublishedDataError, Task

log = logging.getLogger(__name__)

#: How deep below the given path to look for task folders inside folders that only group them.
MAX_DEPTH = 3
#: File suffixes that hold data at a root; anything else there (NOTICE, LICENSE, ...) is ignored.
DATA_SUFFIXES = (".json", ".jsonl")

OnError = Literal["raise", "skip", "collect"]


class Collected(NamedTuple):
    """What `load_published(..., on_error="collect")` returns: the good entries and every problem."""

    entries: list[Entry]
    errors: list[PublishedDataError]


def load_published(
    path: str | os.PathLike[str],
    on_error: OnError = "raise",
    tasks: Iterable[Task] | None = None,
) -> list[Entry] | Collected:
    """Entries from the published data at `path` (see the module doc); `tasks` defaults to all tasks."""
    if on_error not in ("raise", "skip", "collect"):
        raise ValueError(f"on_error must be 'raise', 'skip' or 'collect', got {on_error!r}")
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"published data path {root} does not exist")
    if tasks is None:
        from dataset_builders.registry import list_tasks

        tasks = list_tasks()
    reader = _Reader(tasks)
    reader.scan(root, depth=0)
    if on_error == "collect":
        return Collected(reader.entries, reader.errors)
    if reader.errors and on_error == "raise":
        listing = "\n".join(f"  - {e}" for e in reader.errors)
        raise PublishedDataError(f"{len(reader.errors)} problem(s) in the published data at {root}:\n{listing}")
    if reader.errors:
        log.warning("skipped %d problem(s) in the published data at %s", len(reader.errors), root)
    return reader.entries


class _Reader:
    """One scan: maps folder and file names to tasks and gathers entries and errors."""

    def __init__(self, tasks: Iterable[Task]) -> None:
        # one name can belong to several tasks (MATH holds both MATH subsets)
        self.by_name: dict[str, list[Task]] = {}
        for task in tasks:
            for name in task.published_folders:
                self.by_name.setdefault(name, []).append(task)
        self.entries: list[Entry] = []
        self.errors: list[PublishedDataError] = []

    def readers_of(self, path: Path) -> list[Task]:
        if path.name in self.by_name:
            return self.by_name[path.name]
        if path.is_file() and path.suffix in DATA_SUFFIXES:
            return self.by_name.get(path.stem, [])
        return []

    def scan(self, path: Path, depth: int) -> None:
        tasks = self.readers_of(path)
        if tasks:
            for task in tasks:
                self.read(task, path)
        elif path.is_dir() and self.groups_known(path, depth):
            for child in _visible_children(path):
                if self.readers_of(child) or (child.is_dir() and self.groups_known(child, depth + 1)):
                    self.scan(child, depth + 1)
                elif child.is_dir() or child.suffix in DATA_SUFFIXES:
                    self.unknown(child)
        else:
            self.unknown(path)

    def groups_known(self, folder: Path, depth: int) -> bool:
        """Whether `folder` holds, within the depth limit, something a task reads."""
        if depth >= MAX_DEPTH or not folder.is_dir():
            return False
        return any(
            self.readers_of(child) or (child.is_dir() and self.groups_known(child, depth + 1))
            for child in _visible_children(folder)
        )

    def read(self, task: Task, path: Path) -> None:
        try:
            for item in task.load_published(path):
                if isinstance(item, PublishedDataError):
                    self.error(item, task.name)
                elif isinstance(item, dict):
                    self.entries.append(item)
                else:
                    self.error(
                        PublishedDataError(f"{path}: the {task.name} reader produced a {type(item).__name__}"),
                        task.name,
                    )
        except PublishedDataError as exc:
            self.error(exc, task.name)
        except Exception as exc:  # a reader bug or an unreadable folder must not hide the other folders
            self.error(
                PublishedDataError(f"{path}: {task.name} could not read it ({type(exc).__name__}: {exc})"), task.name
            )

    def unknown(self, path: Path) -> None:
        kind = "folder" if path.is_dir() else "file"
        known = ", ".join(sorted(self.by_name))
        self.error(
            PublishedDataError(f"{path}: no task reads a {kind} named {path.name!r}; known names: {known}"), None
        )

    def error(self, exc: PublishedDataError, task: str | None) -> None:
        exc.task = task  # type: ignore[attr-defined]  # lets reports group problems by task
        self.errors.append(exc)


def _visible_children(folder: Path) -> list[Path]:
    # hidden entries (.git, .DS_Store) and private ones (__MACOSX, _cache) are never data
    return sorted(p for p in folder.iterdir() if not p.name.startswith((".", "_")))
