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

The source may also be a Hub dataset repo id ("owner/name", optionally with `revision`): only the
task folders the read needs are downloaded, into the standard cache (`dataset_builders.published_hub`),
and what the repo holds that no task reads is reported with the reason among the problems. An
existing local path always wins over a repo id of the same spelling; a `str` that is neither is
refused in one sentence. `only` (task names) reads just those tasks' folders; the folders of other
known tasks are recognised and skipped, not reported. `read_published` returns the same plus where
the data came from (repo, commit, card), which `r1ci published convert` credits.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from code_interpreter.errors import InputError, MissingInput
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


@dataclass
class PublishedRead:
    """Everything one read found: entries, problems, and where the data came from."""

    entries: list[Entry]
    errors: list[PublishedDataError]
    source: str
    repo_id: str | None = None
    revision: str | None = None
    commit: str | None = None
    folder: Path | None = None
    card: str | None = None
    read_paths: list[str] = field(default_factory=list)


def is_repo_id(source: str) -> bool:
    """Whether `source` has the shape of a Hub repo id ("owner/name")."""
    from hub_tools.errors import HubInputError
    from hub_tools.naming import check_repo_id

    try:
        check_repo_id(source)
    except HubInputError:
        return False
    return True


def read_published(
    source: str | os.PathLike[str],
    tasks: Iterable[Task] | None = None,
    *,
    revision: str | None = None,
    only: Collection[str] | None = None,
    progress: bool = False,
) -> PublishedRead:
    """Read a local folder or a Hub dataset repo in the published layout (see the module doc)."""
    if tasks is None:
        from dataset_builders.registry import list_tasks

        tasks = list_tasks()
    tasks = list(tasks)
    if only is not None:
        only = set(only)
        unknown = sorted(only - {t.name for t in tasks})
        if unknown:
            raise PublishedDataError(f"unknown task(s) {', '.join(unknown)}: run `r1ci tasks list` to see them")
    local = Path(source)
    if isinstance(source, os.PathLike) or local.exists() or not is_repo_id(str(source)):
        if not local.exists():
            raise MissingInput(
                f"published data path {local} does not exist (and it is not a Hub repo id 'owner/name'): expected "
                "a folder or file in the paper's published layout"
            )
        if revision is not None:
            raise InputError(
                f"--revision {revision!r} applies to a Hub repo, but {local} is a local path; drop the revision"
            )
        # links may point anywhere inside the given folder, never out of it (a hostile folder's
        # "question.txt -> /etc/passwd" would otherwise be read into a dataset that gets published)
        reader = _Reader(tasks, only, inside=(local if local.is_dir() else local.parent).resolve())
        reader.run(reader.plan(local), progress)
        card = local / "README.md" if local.is_dir() else None
        return PublishedRead(
            reader.entries,
            reader.errors,
            source=str(local),
            folder=local,
            card=card.read_text(encoding="utf-8", errors="replace") if card and card.is_file() else None,
            read_paths=reader.read_paths(local),
        )
    from dataset_builders.published_hub import fetch_published

    fetched = fetch_published(str(source), revision=revision, tasks=tasks, only=only)
    # the cache's snapshot files are links to blobs two levels up: inside the repo's cache folder
    reader = _Reader(tasks, only, inside=fetched.folder.resolve().parent.parent)
    reader.run(reader.plan(fetched.folder), progress)
    for exc in fetched.unmapped:
        reader.error(exc, None)
    return PublishedRead(
        reader.entries,
        reader.errors,
        source=str(source),
        repo_id=fetched.repo_id,
        revision=fetched.revision,
        commit=fetched.commit,
        folder=fetched.folder,
        card=fetched.card,
        read_paths=fetched.task_paths,
    )


def load_published(
    path: str | os.PathLike[str],
    on_error: OnError = "raise",
    tasks: Iterable[Task] | None = None,
    *,
    revision: str | None = None,
    only: Collection[str] | None = None,
) -> list[Entry] | Collected:
    """Entries from the published data at `path`, a folder or a Hub dataset repo id (see the module doc);
    `tasks` defaults to all tasks."""
    if on_error not in ("raise", "skip", "collect"):
        raise ValueError(f"on_error must be 'raise', 'skip' or 'collect', got {on_error!r}")
    read = read_published(path, tasks, revision=revision, only=only)
    where = read.source if read.repo_id is None else f"{read.repo_id}@{(read.commit or '')[:12]}"
    if on_error == "collect":
        return Collected(read.entries, read.errors)
    if read.errors and on_error == "raise":
        listing = "\n".join(f"  - {e}" for e in read.errors)
        raise PublishedDataError(f"{len(read.errors)} problem(s) in the published data at {where}:\n{listing}")
    if read.errors:
        log.warning("skipped %d problem(s) in the published data at %s", len(read.errors), where)
    return read.entries


#: A file in a task folder larger than this is not handed to the task's reader (published sample
#: files are kilobytes; readers bound what they read, but a hostile folder must not cost memory).
MAX_READ_BYTES = 64 * 1024 * 1024


class _Reader:
    """One read: `plan` maps folder and file names to tasks (reporting unknown ones), `run` reads them."""

    def __init__(self, tasks: Iterable[Task], only: Collection[str] | None = None, inside: Path | None = None) -> None:
        self.inside = inside
        # one name can belong to several tasks (MATH holds both MATH subsets)
        self.by_name: dict[str, list[Task]] = {}
        for task in tasks:
            for name in task.published_folders:
                self.by_name.setdefault(name, []).append(task)
        self.only = only
        self.entries: list[Entry] = []
        self.errors: list[PublishedDataError] = []
        self.jobs: list[tuple[Task, Path]] = []

    def readers_of(self, path: Path) -> list[Task]:
        if path.name in self.by_name:
            return self.by_name[path.name]
        if path.is_file() and path.suffix in DATA_SUFFIXES:
            return self.by_name.get(path.stem, [])
        return []

    def plan(self, root: Path) -> list[tuple[Task, Path]]:
        self.scan(root, depth=0)
        return self.jobs

    def scan(self, path: Path, depth: int) -> None:
        tasks = self.readers_of(path)
        if tasks:
            # a known folder of a task that was not asked for is skipped, not reported
            self.jobs += [(task, path) for task in tasks if self.only is None or task.name in self.only]
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

    def run(self, jobs: list[tuple[Task, Path]], progress: bool = False) -> None:
        if progress:
            from tqdm.auto import tqdm

            jobs = tqdm(jobs, desc="reading published folders", unit="folder")  # type: ignore[assignment]
        for task, path in jobs:
            self.read(task, path)

    def read_paths(self, root: Path) -> list[str]:
        paths = sorted({path for _, path in self.jobs})
        return [p.relative_to(root).as_posix() if p != root else p.name for p in paths]

    def read(self, task: Task, path: Path) -> None:
        unsafe = _unsafe_file(path, self.inside)
        if unsafe is not None:
            self.error(PublishedDataError(f"{unsafe}, so {path.name} was not read"), task.name)
            return
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


def _unsafe_file(path: Path, inside: Path | None) -> str | None:
    """Why `path` (a task file or folder) must not be read, or None: a file larger than MAX_READ_BYTES,
    or a link that leads out of `inside`. File links are followed (the Hub cache's snapshot files
    are links to blobs); folder links are checked, not walked."""
    entries = [path]
    if path.is_dir():
        entries += [Path(d) / n for d, dirs, names in os.walk(path.resolve()) for n in dirs + names]
    for file in entries:
        try:
            target = file.resolve(strict=True)
            size = target.stat().st_size
        except (OSError, RuntimeError):  # a dangling or looping link: the task's reader reports the file
            continue
        if inside is not None and not target.is_relative_to(inside):
            return f"{file}: a link that leads out of the published folder (to {target})"
        if target.is_file() and size > MAX_READ_BYTES:
            return f"{file}: larger than {MAX_READ_BYTES} bytes (published files are kilobytes; remove or replace it)"
    return None


def _visible_children(folder: Path) -> list[Path]:
    # hidden entries (.git, .DS_Store) and private ones (__MACOSX, _cache) are never data
    return sorted(p for p in folder.iterdir() if not p.name.startswith((".", "_")))
