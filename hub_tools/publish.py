"""Push and pull folders to and from the Hub with huggingface_hub, the way its docs intend.

- `Target`: where a build goes. A local folder (`--output-dir`, or `HF_HUB_OFFLINE=1`) with
  exactly the layout the Hub repo gets, optionally pushed to a repo (`--push-to-hub`).
- `push_folder`: `create_repo(exist_ok=True)`, `upload_folder` to a branch (files the folder no
  longer has are deleted: the folder is the repo's content), then a tag on the
  commit id that the upload returned (a large upload may be split into several commits, so the tag
  names the last one, not a guess). Re-pushing the same bytes makes no new commit: the client
  compares each file with the repo's and skips an empty commit. Transient HTTP errors (429, 5xx,
  connection errors) are retried with exponential backoff.
- `pull`: `snapshot_download`, optionally limited to some paths.

Tokens come only from the standard places (`HF_TOKEN`, the huggingface_hub login); this module
never reads, prints or writes one itself beyond asking whether one exists.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from hub_tools.dataset_folder import check_output_folder
from hub_tools.errors import HubInputError, HubUnavailable
from hub_tools.naming import check_repo_id

T = TypeVar("T")

#: Where `Target` puts a repo's folder when the Hub is offline and no output folder was given.
OFFLINE_ROOT = Path("outputs/hub")
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Target:
    """A build's destination: always a local folder; a repo to push it to unless offline."""

    folder: Path
    repo_id: str | None = None
    repo_type: str = "dataset"
    private: bool = False

    @property
    def pushes(self) -> bool:
        return self.repo_id is not None and not offline()


def resolve_target(
    output_dir: str | os.PathLike[str] | None,
    push_to_hub: str | None,
    *,
    repo_type: str = "dataset",
    private: bool = False,
) -> Target:
    """The Target of `--output-dir DIR` and/or `--push-to-hub REPO` (at least one is required).

    With only a repo id, the folder is `OFFLINE_ROOT/<type>s/<repo id>` (relative to the current folder; rebuilt in place),
    which is also where the build stays when `HF_HUB_OFFLINE=1`.
    """
    if push_to_hub is not None:
        check_repo_id(push_to_hub)
    if output_dir is None and push_to_hub is None:
        raise HubInputError("say where the build goes: --output-dir DIR, --push-to-hub REPO, or both")
    folder = Path(output_dir) if output_dir is not None else OFFLINE_ROOT / f"{repo_type}s" / str(push_to_hub)
    check_output_folder(folder)  # before the build, not after it
    return Target(folder=folder, repo_id=push_to_hub, repo_type=repo_type, private=private)


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    repo_type: str
    commit: str
    new_commit: bool
    tag: str | None
    url: str


def provenance() -> dict[str, str]:
    """What a commit message says the build came from: the toolkit's version and source revision."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool = version("r1ci")
    except PackageNotFoundError:
        tool = "unknown"
    here = Path(__file__).resolve().parent
    top, _, rev = _git(here, "rev-parse", "--show-toplevel", "--short=12", "HEAD").partition("\n")
    if not top or Path(top).resolve() != here.parent:
        rev = ""  # installed into a venv that sits inside some other repo: that repo's HEAD is not ours
    elif _git(here, "status", "--porcelain", "--untracked-files=no"):
        rev += "+dirty"  # built from uncommitted changes: the revision alone does not name the code
    return {"r1ci": tool, "source_revision": rev or "unknown"}


def _git(cwd: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def commit_message(what: str, **settings: object) -> tuple[str, str]:
    """(summary, description) of a commit: what was built, then one `key: value` line per setting."""
    lines = [f"{k}: {v}" for k, v in {**provenance(), **settings}.items()]
    return what, "\n".join(lines)


def push_folder(
    folder: str | os.PathLike[str],
    repo_id: str,
    *,
    repo_type: str = "dataset",
    private: bool = False,
    summary: str,
    description: str = "",
    branch: str | None = None,
    tag: str | None = None,
    content_tag: bool = False,
    endpoint: str | None = None,
    max_attempts: int = 5,
    space_sdk: str | None = None,
) -> PushResult:
    """Upload `folder` as the content of `repo_id` (on `branch`, default main), tag the commit; idempotent.

    Tags are never moved: a tag that already names another commit stops the push before anything is
    uploaded. With `content_tag` the tag is named after the folder's content (a digest), so a tag
    that exists already names the same bytes and is kept as it is (re-publishing an earlier build).
    """
    from huggingface_hub import HfApi, get_token

    check_repo_id(repo_id)
    folder = Path(folder)
    if not folder.is_dir():
        raise HubInputError(f"nothing to push: {folder} is not a folder")
    if get_token() is None:
        raise HubInputError(f"no Hugging Face token to push {repo_id}: set HF_TOKEN or run `hf auth login`")
    api = HfApi(endpoint=endpoint)
    retry = _retrying(repo_id, max_attempts)
    # The Hub needs the SDK of a new Space ("gradio", "docker", "static"); huggingface_hub refuses without it.
    sdk = space_sdk or ("gradio" if repo_type == "space" else None)
    retry(lambda: api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True, space_sdk=sdk))
    if branch:
        retry(lambda: api.create_branch(repo_id, repo_type=repo_type, branch=branch, exist_ok=True))
    info = retry(lambda: api.repo_info(repo_id, repo_type=repo_type, revision=branch))
    if private and not info.private:  # create_repo(exist_ok=True) leaves an existing repo as it is
        raise HubInputError(
            f"{repo_id} already exists and is public, so --private would publish this build; make the repo "
            "private in its settings first, or push without --private"
        )
    before = info.sha
    existing: dict[str, str] = {}
    if tag:
        existing = {
            t.name: t.target_commit for t in retry(lambda: api.list_repo_refs(repo_id, repo_type=repo_type)).tags
        }
        if tag in existing and existing[tag] != before and not content_tag:
            raise HubInputError(
                f"tag {tag!r} of {repo_id} already names commit {existing[tag][:12]}, not the head of "
                f"{branch or 'main'}; nothing was pushed: choose another tag (tags are never moved)"
            )
    info = retry(
        lambda: api.upload_folder(
            repo_id=repo_id,
            repo_type=repo_type,
            folder_path=str(folder),
            revision=branch,
            commit_message=summary,
            commit_description=description,
            # The folder is the whole build: files of an earlier build that it no longer has (a shard
            # of a split that shrank, a dropped config) would still match the card's `<config>/<split>-*`
            # globs and load as stale rows. Unchanged files are skipped, so a re-push stays a no-op.
            delete_patterns="*",
        )
    )
    commit = info.oid
    if tag:
        if tag in existing and existing[tag] != commit and not content_tag:
            raise HubInputError(
                f"tag {tag!r} of {repo_id} already names commit {existing[tag][:12]}; this build was pushed as "
                f"{commit[:12]} but not tagged: choose another tag (tags are never moved)"
            )
        if tag not in existing:
            retry(lambda: api.create_tag(repo_id, repo_type=repo_type, tag=tag, revision=commit, exist_ok=True))
    prefix = "" if repo_type == "model" else f"{repo_type}s/"
    return PushResult(repo_id, repo_type, commit, commit != before, tag, f"{api.endpoint}/{prefix}{repo_id}")


def pull(
    repo_id: str,
    *,
    repo_type: str = "dataset",
    revision: str | None = None,
    local_dir: str | os.PathLike[str] | None = None,
    allow_patterns: Sequence[str] | None = None,
    endpoint: str | None = None,
    max_attempts: int = 5,
) -> Path:
    """The repo's files at `revision` in the local cache (or `local_dir`); only `allow_patterns` if given."""
    from huggingface_hub import snapshot_download

    check_repo_id(repo_id)
    path = _retrying(repo_id, max_attempts)(
        lambda: snapshot_download(
            repo_id,
            repo_type=repo_type,
            revision=revision,
            local_dir=local_dir,
            allow_patterns=list(allow_patterns) if allow_patterns else None,
            endpoint=endpoint,
        )
    )
    return Path(path)


def _retrying(repo_id: str, max_attempts: int) -> Callable[[Callable[[], T]], T]:
    def call(fn: Callable[[], T]) -> T:
        for attempt in range(1, max_attempts + 1):
            try:
                return fn()
            except Exception as exc:  # sorted below: transient ones retry, the rest become one sentence
                status = _status(exc)
                if status in (401, 403) or type(exc).__name__ in ("RepositoryNotFoundError", "GatedRepoError"):
                    raise HubInputError(
                        f"no permission for {repo_id} (HTTP {status or 'not found'}): check that the repo exists or "
                        "that you may create it, and that your token (HF_TOKEN or `hf auth login`) has write access"
                    ) from None
                if not _transient(exc, status):
                    raise
                if attempt == max_attempts:
                    raise HubUnavailable(
                        f"the Hub did not answer for {repo_id} after {max_attempts} attempts "
                        f"({f'HTTP {status}' if status else type(exc).__name__}): it is busy or unreachable "
                        "(check HF_ENDPOINT and the network), try again later; the local folder is kept"
                    ) from exc
                time.sleep(min(30.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random()))
        raise AssertionError("unreachable")

    return call


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what caused it: `snapshot_download` wraps a 5xx or a dropped connection in a
    LocalEntryNotFoundError that has no response of its own."""
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def _status(exc: BaseException) -> int | None:
    for cause in _causes(exc):
        status = getattr(getattr(cause, "response", None), "status_code", None)
        if status is not None:
            return status
    return None


def _transient(exc: BaseException, status: int | None) -> bool:
    if status is not None:
        return status in TRANSIENT_STATUS
    import httpx

    return any(isinstance(c, (httpx.TransportError, ConnectionError, TimeoutError)) for c in _causes(exc))
