"""A dataset repo's layout in a local folder: parquet shards per config and split plus a README card.

The layout is what `Dataset.push_to_hub(config_name=...)` writes on the Hub:
`<config>/<split>-NNNNN-of-NNNNN.parquet` and a README whose YAML `configs:` lists the data files,
so `load_dataset(folder, config)` reads the folder exactly as it reads the Hub repo, and pushing
the folder (`hub_tools.publish.push_folder`) gives the Hub repo the same bytes. Folders written by
`save_to_disk` are not loadable by `load_dataset` and are not used.

The card also carries `dataset_info` (features, rows and bytes per split, as `push_to_hub` writes
it) for the Hub's viewer, and each `configs:` entry a `description` naming the sha256 of its shards.
Both key `datasets`' cache: for a folder whose README lists `configs:`, datasets 5.2 caches under
the folder's name and a hash of the README's `dataset_info` and config entries, never of the files,
so two folders of the same name, or one folder rebuilt in place, would otherwise load stale rows.
Sizes alone are not enough: a rebuild that changes one answer from "12" to "13", or reorders the
rows, keeps every count and byte size. (`description` is a builder parameter every config accepts.)

The folder is built in a temporary sibling and renamed into place, so a crash never leaves half a
dataset; an existing folder is replaced only when it holds nothing but such a layout. Siblings left
by a process that was killed mid-write (`.<name>.tmp-<pid>-*`, `.<name>.old-<pid>-*`) are removed
by the next write once that process is gone. A symlinked folder is written where the link points
(the link stays); the current folder, or one that holds it, is refused.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path

import yaml

from hub_tools.errors import HubInputError

#: Upper bound on one parquet shard (Arrow bytes); the Hub's viewer and datasets prefer < 500 MB.
MAX_SHARD_BYTES = 256 * 1024 * 1024
_CONFIG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SHARD = re.compile(r"^[A-Za-z0-9._-]+-\d{5}-of-\d{5}\.parquet$")
_IMAGE = re.compile(r"^[A-Za-z0-9._-]+\.(png|jpg|svg)$")


def shard_paths(config: str, split: str, num_shards: int) -> list[str]:
    """Repo paths of the shards of one split, as `push_to_hub` names them."""
    return [f"{config}/{split}-{i:05d}-of-{num_shards:05d}.parquet" for i in range(num_shards)]


def configs_metadata(
    layout: Mapping[str, Mapping[str, int]], default: str | None = None, digests: Mapping[str, str] | None = None
) -> list[dict]:
    """The README `configs:` list for {config: {split: num_shards}}; `digests` ({config: sha256 of its
    shards}) become each entry's `description`, which keys datasets' cache to the content."""
    out = []
    for config, splits in layout.items():
        item: dict = {"config_name": config}
        if config == default:
            item["default"] = True
        item["data_files"] = [{"split": split, "path": f"{config}/{split}-*"} for split in splits]
        if digests and config in digests:
            item["description"] = f"parquet shards sha256 {digests[config]}"
        out.append(item)
    return out


def card_with_configs(card: str, configs: list[dict], dataset_info: list[dict] | dict | None = None) -> str:
    """`card` (markdown, optionally with YAML front matter) with `configs:` (and `dataset_info:`) set."""
    meta, body = split_front_matter(card)
    meta["configs"] = configs
    if dataset_info is not None:
        meta["dataset_info"] = dataset_info
    return f"---\n{yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)}---\n{body.lstrip()}"


def dataset_info_metadata(
    configs: Mapping[str, Mapping[str, object]], download_sizes: Mapping[str, int]
) -> list | dict:
    """The README `dataset_info:` of {config: {split: Dataset}}, built with datasets' own DatasetInfo."""
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict

    infos = {}
    for config, splits in configs.items():
        first = next(iter(splits.values()))
        info = DatasetInfo(features=first.features)
        info.splits = SplitDict()
        for split, dataset in splits.items():
            info.splits.add(SplitInfo(name=split, num_bytes=dataset.data.nbytes, num_examples=dataset.num_rows))
        info.download_size = download_sizes[config]
        info.dataset_size = sum(dataset.data.nbytes for dataset in splits.values())
        infos[config] = info
    card_data: dict = {}
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    return card_data["dataset_info"]


def split_front_matter(card: str) -> tuple[dict, str]:
    """(YAML front matter as a dict, markdown body) of a card."""
    if card.startswith("---\n"):
        end = card.find("\n---", 4)
        if end != -1:
            meta = yaml.safe_load(card[4:end]) or {}
            if not isinstance(meta, dict):
                raise HubInputError("the card's YAML front matter must be a mapping")
            return meta, card[end + 4 :].lstrip("\n")
    return {}, card


def write_dataset_folder(
    folder: str | os.PathLike[str],
    configs: Mapping[str, Mapping[str, object]],
    card: str,
    *,
    default_config: str | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
    images: Mapping[str, bytes] | None = None,
) -> Path:
    """Write {config: {split: datasets.Dataset}} and the card to `folder` atomically; returns the folder.

    `images` ({file name: bytes}) go to `images/`, for plots the card shows.

    Same datasets and card, same bytes: shards are split by size deterministically and parquet is
    written without timestamps.
    """
    folder = check_output_folder(folder)
    layout: dict[str, dict[str, int]] = {}
    download_sizes: dict[str, int] = {}
    digests: dict[str, hashlib._Hash] = {}
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(folder)
    tmp = _sibling(folder, "tmp")
    tmp.mkdir()  # with the umask's permissions, like any folder the user creates (mkdtemp's are 0700)
    try:
        for config, splits in configs.items():
            if not _CONFIG.fullmatch(config):
                raise HubInputError(f"config name {config!r} must be letters, digits, '.', '_' or '-' (no '/')")
            layout[config] = {}
            for split, dataset in splits.items():
                num_shards = max(1, min(dataset.num_rows, math.ceil(dataset.data.nbytes / max_shard_bytes)))
                for i, path in enumerate(shard_paths(config, split, num_shards)):
                    (tmp / path).parent.mkdir(parents=True, exist_ok=True)
                    dataset.shard(num_shards, i, contiguous=True).to_parquet(str(tmp / path))
                    download_sizes[config] = download_sizes.get(config, 0) + (tmp / path).stat().st_size
                    digest = digests.setdefault(config, hashlib.sha256())
                    digest.update(path.encode() + b"\0" + hashlib.sha256((tmp / path).read_bytes()).digest())
                layout[config][split] = num_shards
        for name, data in (images or {}).items():
            if not _IMAGE.fullmatch(name):
                raise HubInputError(f"image name {name!r} must be a plain file name ending in .png, .jpg or .svg")
            (tmp / "images").mkdir(exist_ok=True)
            (tmp / "images" / name).write_bytes(data)
        (tmp / "README.md").write_text(
            card_with_configs(
                card,
                configs_metadata(layout, default_config, {c: d.hexdigest()[:16] for c, d in digests.items()}),
                dataset_info_metadata(configs, download_sizes),
            ),
            "utf-8",
        )
        _replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def folder_digest(folder: str | os.PathLike[str]) -> str:
    """sha256 over every file's path and bytes: the same build gives the same digest (and tag)."""
    folder = Path(folder)
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def check_output_folder(folder: str | os.PathLike[str]) -> Path:
    """The absolute folder a build will be written to (a symlink's target), or HubInputError if
    writing there would replace something that is not a dataset layout. Builders call it before the
    work starts, so a wrong --output-dir fails in a second rather than after the build."""
    folder = Path(os.path.abspath(folder))
    if folder.is_symlink():
        folder = folder.resolve()
    if Path.cwd() == folder or folder in Path.cwd().parents:
        raise HubInputError(f"output folder {folder} is the current folder or holds it; choose a subfolder")
    _check_replaceable(folder)
    return folder


def _check_replaceable(folder: Path) -> None:
    """Refuse to overwrite a folder that holds anything but a dataset layout of ours."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise HubInputError(f"output folder {folder} is a file; choose a folder path")
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        ours = (
            rel.as_posix() in ("README.md", ".gitattributes")
            or (path.is_dir() and len(rel.parts) == 1)
            or (len(rel.parts) == 2 and _SHARD.fullmatch(rel.parts[1]) is not None)
            or (len(rel.parts) == 2 and rel.parts[0] == "images" and _IMAGE.fullmatch(rel.parts[1]) is not None)
        )
        if not ours:
            raise HubInputError(
                f"output folder {folder} holds {rel}, which is not part of a dataset layout; "
                "choose an empty folder or remove it first"
            )


def _replace(tmp: Path, folder: Path) -> None:
    if folder.exists():
        old = _sibling(folder, "old")
        folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(folder)


def _sibling(folder: Path, kind: str) -> Path:
    """A fresh hidden sibling of `folder` that names this process, so a later write can tell a
    leftover of a killed process from one in use."""
    return folder.with_name(f".{folder.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def _remove_leftovers(folder: Path) -> None:
    pattern = re.compile(rf"\.{re.escape(folder.name)}\.(?:tmp|old)-(\d+)-[0-9a-f]{{8}}")
    for sibling in folder.parent.iterdir():
        match = pattern.fullmatch(sibling.name)
        if match and not _alive(int(match.group(1))):
            if sibling.is_symlink() or not sibling.is_dir():
                sibling.unlink()
            else:
                shutil.rmtree(sibling, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
