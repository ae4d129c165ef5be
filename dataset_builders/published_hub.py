"""The paper's published data on the Hub: fetch only the task folders a read needs, from the cache offline.

`fetch_published(repo_id, revision=..., tasks=..., only=...)` lists the dataset repo's files at the
revision (one tree request), maps every file to the task folder that holds it, the same way the
local reader (`dataset_builders.published`) maps folder and file names, and downloads just those
folders with `huggingface_hub.snapshot_download(repo_type="dataset", allow_patterns=...)` into the
standard cache. The card (README.md) comes along for its license. A second read of the same
revision downloads nothing.

What is not downloaded is reported, never dropped in silence (`HubFetch.unmapped`): a folder or data
file that no task reads (with the reason: images only, a Reasoning-Gym task that the toolkit
generates instead, an unknown name), a file name that could escape the cache (`..`, an absolute
path, backslashes, control characters), a file larger than `MAX_DOWNLOAD_BYTES`. Folders of tasks
left out by `only` are recognised and skipped quietly: they were not asked for.

With `HF_HUB_OFFLINE=1` nothing is listed or downloaded: the cached snapshot of the revision is read
as it is (`huggingface_hub.scan_cache_dir`), and `snapshot_download` (offline) checks that the
folders to read were cached completely.

Bad input ends in one sentence naming the repo, the revision and what was expected
(`HubInputError`): a repo that does not exist, a revision it does not have, a revision that holds
none of the expected folders, a snapshot that is not in the cache while offline.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dataset_builders.task import PublishedDataError, Task
from hub_tools.errors import HubInputError
from hub_tools.naming import check_repo_id

#: The published layout nests task folders at most this deep (as the local reader's MAX_DEPTH).
MAX_DEPTH = 3
#: A file larger than this is not downloaded (the published sample files are kilobytes; a BBH or
#: game24 file a few hundred).
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
#: Suffixes of files that hold data; other files outside task folders (images, NOTICE) are not data.
DATA_SUFFIXES = (".json", ".jsonl", ".csv")
#: Files every read takes along when the repo has them: the card carries the license.
CARD_FILES = ("README.md",)
MAX_CARD_BYTES = 1024 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")
_GLOB_SPECIAL = re.compile(r"([\[\]*?])")
_EXAMPLE_REPO = "yongchao98/R1-Code-Interpreter-Data"


@dataclass
class HubFetch:
    """A downloaded (or cached) snapshot: the local folder, what was read from where, and what was left out."""

    repo_id: str
    revision: str
    commit: str
    folder: Path
    task_paths: list[str] = field(default_factory=list)
    unmapped: list[PublishedDataError] = field(default_factory=list)
    card: str | None = None


@dataclass
class Plan:
    """Which repo paths to fetch: task folders (`<path>/*` patterns) and task files (exact paths)."""

    folders: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    skip: set[str] = field(default_factory=set)  # unsafe or oversized files inside fetched folders
    unmapped: list[PublishedDataError] = field(default_factory=list)

    @property
    def allow_patterns(self) -> list[str]:
        return sorted({f"{_literal(p)}/*" for p in self.folders} | {_literal(p) for p in self.files})

    @property
    def ignore_patterns(self) -> list[str]:
        return sorted(_literal(p) for p in self.skip)

    @property
    def task_paths(self) -> list[str]:
        return sorted(self.folders | self.files)


def _literal(path: str) -> str:
    """`path` as an fnmatch pattern that matches only itself."""
    return _GLOB_SPECIAL.sub(r"[\1]", path)


def is_safe_repo_path(path: str) -> bool:
    """Whether a repo file name stays inside the folder it is downloaded to, on any platform."""
    if not path or len(path) > 1000 or path.startswith("/") or _UNSAFE.search(path):
        return False
    parts = path.split("/")
    return all(part not in ("", ".", "..") for part in parts) and not re.match(r"^[A-Za-z]:", parts[0])


def names_of(tasks: Iterable[Task]) -> dict[str, list[Task]]:
    """{published folder or file name: tasks that read it}."""
    by_name: dict[str, list[Task]] = {}
    for task in tasks:
        for name in task.published_folders:
            by_name.setdefault(name, []).append(task)
    return by_name


def readers_of(name: str, is_file: bool, by_name: dict[str, list[Task]]) -> list[Task]:
    """Tasks that read a folder or file called `name` (a BBH file is named by its stem)."""
    if name in by_name:
        return by_name[name]
    suffix = PurePosixPath(name).suffix
    if is_file and suffix in (".json", ".jsonl"):
        return by_name.get(PurePosixPath(name).stem, [])
    return []


def plan_download(
    files: Iterable[tuple[str, int | None]],
    tasks: Iterable[Task],
    only: Collection[str] | None = None,
    *,
    where: str = "",
) -> Plan:
    """Map repo files ((path, size) pairs) to the task folders and files to fetch.

    A file belongs to the shallowest path component (at most `MAX_DEPTH` folders down) that a task
    reads; its task folder is fetched whole (`only`: just the folders of those task names). Files no
    task reads are grouped by their top folder and reported with the reason; non-data files at the
    root (README, NOTICE, .gitattributes) are not data and are left out quietly.
    """
    by_name = names_of(tasks)
    plan = Plan()
    owned: list[tuple[str, int | None, str | None, list[Task]]] = []
    for path, size in files:
        if not is_safe_repo_path(path):
            plan.unmapped.append(PublishedDataError(f"{where}{path!r}: unsafe file name (it could be written "
                                                    "outside the download folder), not downloaded"))  # fmt: skip
            plan.skip.add(path)
            continue
        parts = path.split("/")
        if any(part.startswith((".", "_")) for part in parts):
            continue  # hidden or private (.gitattributes, .cache, __MACOSX) is never data, as locally
        prefix, readers = None, []
        for depth, part in enumerate(parts[:MAX_DEPTH]):  # as deep as the local reader looks
            readers = readers_of(part, depth == len(parts) - 1, by_name)
            if readers:
                prefix = "/".join(parts[: depth + 1])
                break
        owned.append((path, size, prefix, readers))
    # folders that hold a task folder somewhere below only group them: what else they hold is reported
    # as its own unit (the first folder or file on its path that holds no task folder)
    grouping = {"/".join(p.split("/")[:i]) for _, _, p, _ in owned if p for i in range(1, p.count("/") + 1)}
    orphans: dict[str, list[str]] = {}
    for path, size, prefix, readers in owned:
        if prefix is None:
            parts = path.split("/")
            unit = next("/".join(parts[: i + 1]) for i in range(len(parts)) if "/".join(parts[: i + 1]) not in grouping)
            if unit != path or PurePosixPath(path).suffix in DATA_SUFFIXES:
                orphans.setdefault(unit, []).append(path)  # a non-data file beside task folders is no data
            continue
        if only is not None and not any(t.name in only for t in readers):
            continue
        if size is not None and size > MAX_DOWNLOAD_BYTES:
            plan.unmapped.append(PublishedDataError(
                f"{where}{path}: {size} bytes, larger than the {MAX_DOWNLOAD_BYTES} bytes a published file may "
                "have; not downloaded"))  # fmt: skip
            plan.skip.add(path)
            continue
        (plan.files if prefix == path else plan.folders).add(prefix)
    for unit, paths in sorted(orphans.items()):
        plan.unmapped.append(PublishedDataError(f"{where}{unit}: {orphan_reason(unit, paths, by_name)}"))
    return plan


def orphan_reason(unit: str, paths: list[str], by_name: dict[str, list[Task]]) -> str:
    """Why no task reads the folder (or file) `unit`, whose files are `paths`."""
    kind = "file" if paths == [unit] else f"folder ({len(paths)} file{'s' if len(paths) != 1 else ''})"
    suffixes = {PurePosixPath(p).suffix.lower() for p in paths}
    if not suffixes & set(DATA_SUFFIXES):
        shown = ", ".join(sorted(s or "files without suffix" for s in suffixes))
        return f"{kind} holds no data files (only {shown}), not downloaded"
    from dataset_builders.registry import list_tasks

    generated = {t.short_name: t.name for t in list_tasks(source="reasoning_gym")}
    named = sorted(
        {generated[n] for p in paths for n in PurePosixPath(p).parts + (PurePosixPath(p).stem,) if n in generated}
    )
    if named:
        shown = ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        return (
            f"{kind} holds published data of {shown}, which the toolkit does not read: Reasoning-Gym questions "
            "come from its generators (`r1ci tasks build`); not downloaded"
        )
    known = ", ".join(sorted(by_name)[:8])
    return (
        f"no task reads a {kind} named {PurePosixPath(unit).name!r}; known names include {known}, ...; not downloaded"
    )


def _cached_snapshot(repo_id: str, revision: str) -> tuple[str, Path] | None:
    """(commit, snapshot folder) of `revision` of the dataset repo in the local cache, or None."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        cache = scan_cache_dir()
    except CacheNotFound:
        return None
    for repo in cache.repos:
        if repo.repo_type != "dataset" or repo.repo_id != repo_id:
            continue
        for rev in repo.revisions:
            if revision in rev.refs or (len(revision) >= 7 and rev.commit_hash.startswith(revision)):
                return rev.commit_hash, Path(rev.snapshot_path)
    return None


def _cached_listing(snapshot: Path, commit: str) -> list[tuple[str, int | None]]:
    """The repo's files at `commit` as the last online download listed them (huggingface_hub keeps
    the listing beside the snapshots), so an offline read reports what it leaves out like an online
    one; the files in the snapshot folder when that listing is unavailable."""
    try:
        from huggingface_hub._tree_cache import read_tree_cache

        entries = read_tree_cache(str(snapshot.parent.parent), commit)
    except (ImportError, OSError, ValueError):
        entries = None
    if entries:
        return sorted((path, entry.size) for path, entry in entries.items())
    return _local_files(snapshot)


def _local_files(folder: Path) -> list[tuple[str, int | None]]:
    out = []
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            path = Path(dirpath) / name
            out.append((path.relative_to(folder).as_posix(), path.stat().st_size))
    return sorted(out)


def fetch_published(
    repo_id: str,
    *,
    revision: str | None = None,
    tasks: Iterable[Task],
    only: Collection[str] | None = None,
) -> HubFetch:
    """Download the task folders of a published-layout dataset repo (see the module doc)."""
    from huggingface_hub import HfApi, RepoFile, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    from hub_tools.publish import _retrying, offline

    check_repo_id(repo_id)
    tasks = list(tasks)
    rev = revision or "main"
    what = f"dataset repo {repo_id}" + (f" at revision {rev!r}" if revision else "")
    expected = _expected(tasks, only)

    def readable(fn):  # the Hub's "not found" answers, as one sentence each
        def call():
            try:
                return fn()
            except RevisionNotFoundError:
                raise HubInputError(
                    f"revision {rev!r} of dataset repo {repo_id} does not exist: expected a branch, tag or commit "
                    f"of it that holds {expected}"
                ) from None
            except RepositoryNotFoundError:
                raise HubInputError(
                    f"no local path {repo_id!r} and no dataset repo {repo_id} on the Hub (or it is private and "
                    f"your token may not read it): expected a folder or a Hub dataset repo in the paper's "
                    f"published layout, e.g. {_EXAMPLE_REPO}"
                ) from None

        return call

    retry = _retrying(repo_id, max_attempts=5)
    if offline():
        cached = _cached_snapshot(repo_id, rev)
        if cached is None:
            raise HubInputError(
                f"{what} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: expected a snapshot "
                "downloaded earlier; run once online (unset HF_HUB_OFFLINE) or give a local folder"
            )
        commit, snapshot = cached
        listing = _cached_listing(snapshot, commit)
    else:
        api = HfApi()
        commit = retry(readable(lambda: api.repo_info(repo_id, repo_type="dataset", revision=rev))).sha
        tree = retry(
            readable(lambda: list(api.list_repo_tree(repo_id, repo_type="dataset", revision=commit, recursive=True)))
        )
        listing = [(f.path, f.size) for f in tree if isinstance(f, RepoFile)]
    plan = plan_download(listing, tasks, only, where=f"{repo_id}@{commit[:12]}/")
    if not plan.task_paths:
        tops = sorted({p.split("/")[0] for p, _ in listing if not p.startswith(".")})
        shown = ", ".join(tops[:12]) + (", ..." if len(tops) > 12 else "") if tops else "no files"
        raise HubInputError(
            f"{what} (commit {commit[:12]}) holds none of the expected folders: expected {expected} (it holds {shown})"
        )
    sizes = dict(listing)
    # a card only for its license: a huge one is left behind (the license is then stated unknown)
    allow = plan.allow_patterns + [c for c in CARD_FILES if c in sizes and (sizes[c] or 0) <= MAX_CARD_BYTES]

    def download() -> str:
        # by the revision's name, not the commit listed above: the cache then records the name, so an
        # offline read of the same revision finds the snapshot
        return snapshot_download(
            repo_id, repo_type="dataset", revision=rev, allow_patterns=allow, ignore_patterns=plan.ignore_patterns
        )

    try:
        # offline, a missing file is final: retrying (the offline error is a ConnectionError) only waits
        folder = download() if offline() else retry(readable(download))
    except LocalEntryNotFoundError as exc:  # offline: the cached snapshot misses files of the folders to read
        raise HubInputError(
            f"{what} is only partly in the local cache and HF_HUB_OFFLINE is set: expected every file of "
            f"{', '.join(plan.task_paths[:5])} ({exc.__class__.__name__}); run once online to complete it"
        ) from None
    folder = Path(folder)
    commit = folder.name  # the snapshot's commit (the branch may have moved since the listing)
    card = folder / "README.md"
    return HubFetch(
        repo_id=repo_id,
        revision=rev,
        commit=commit,
        folder=folder,
        task_paths=plan.task_paths,
        unmapped=plan.unmapped,
        card=card.read_text(encoding="utf-8", errors="replace") if card.is_file() else None,
    )


def _expected(tasks: list[Task], only: Collection[str] | None) -> str:
    chosen = [t for t in tasks if only is None or t.name in only]
    names = sorted({n for t in chosen for n in t.published_folders})
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return f"task folders of the paper's published layout ({shown})" if names else "task folders (none known)"
