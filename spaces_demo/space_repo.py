"""The Space as a repo: stage its folder and push it (`r1ci space push --repo ...`).

A Space repo holds the card (README.md with the Space's YAML front matter) at its root, the
requirements and apt packages, and the app with the toolkit's packages it imports, so the Space runs
`python spaces_demo/app.py` with no install of the toolkit. The card's `models:` and `datasets:`
name what the Space uses; the app reads its default model and dataset from them.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from hub_tools.dataset_folder import split_front_matter
from hub_tools.errors import HubInputError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Packages the app imports, uploaded beside it (tests check that it imports no other of the project's).
SPACE_PACKAGES = ("code_interpreter", "dataset_builders", "hub_tools", "spaces_demo")
#: The project's packages the Space leaves out: the app never imports them.
OTHER_PACKAGES = ("model_cards", "trainers")
#: Files of spaces_demo/ that go to the Space repo's root.
ROOT_FILES = ("README.md", "requirements.txt", "packages.txt")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", *ROOT_FILES)


def card_defaults(card_paths: tuple[Path, ...] = (ROOT / "README.md", HERE / "README.md")) -> dict[str, str]:
    """`model` and `dataset` named first in the Space card (the first card with `sdk:` in its front matter)."""
    for path in card_paths:
        if not path.is_file():
            continue
        meta, _ = split_front_matter(path.read_text(encoding="utf-8"))
        if "sdk" not in meta:
            continue
        out = {}
        for key, field in (("model", "models"), ("dataset", "datasets")):
            values = meta.get(field) or []
            if isinstance(values, list) and values and isinstance(values[0], str):
                out[key] = values[0]
        return out
    return {}


def space_card(model: str | None = None, dataset: str | None = None, hardware: str | None = None) -> str:
    """spaces_demo/README.md with the chosen model, dataset and hardware written into its front matter."""
    from hub_tools.naming import check_repo_id

    meta, body = split_front_matter((HERE / "README.md").read_text(encoding="utf-8"))
    if model:
        meta["models"] = [check_repo_id(model)]
    if dataset:
        meta["datasets"] = [check_repo_id(dataset)]
    if hardware:
        meta["suggested_hardware"] = hardware
    try:
        import gradio

        meta["sdk_version"] = gradio.__version__  # the version the app was tested with here
    except ImportError:
        pass
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\n{body}"


def stage_space(
    dest: Path, *, model: str | None = None, dataset: str | None = None, hardware: str | None = None
) -> Path:
    """Write the Space repo's content to `dest` (which must not exist or be empty)."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise HubInputError(f"{dest} is not empty; stage the Space into a new folder")
    dest.mkdir(parents=True, exist_ok=True)
    for package in SPACE_PACKAGES:
        shutil.copytree(ROOT / package, dest / package, ignore=_IGNORE)
    (dest / "README.md").write_text(space_card(model, dataset, hardware), encoding="utf-8")
    for name in ROOT_FILES[1:]:
        shutil.copy2(HERE / name, dest / name)
    return dest


def push_space(
    repo_id: str,
    *,
    private: bool = False,
    model: str | None = None,
    dataset: str | None = None,
    hardware: str | None = None,
    endpoint: str | None = None,
) -> Any:
    """Stage and upload the Space; returns hub_tools' PushResult."""
    from hub_tools.naming import check_repo_id
    from hub_tools.publish import commit_message, push_folder

    check_repo_id(repo_id)
    with tempfile.TemporaryDirectory(prefix="r1ci-space-") as tmp:
        folder = stage_space(Path(tmp) / "space", model=model, dataset=dataset, hardware=hardware)
        summary, description = commit_message("R1-CI Space", model=model or "(card default)", dataset=dataset or "-")
        return push_folder(
            folder,
            repo_id,
            repo_type="space",
            private=private,
            summary=summary,
            description=description,
            endpoint=endpoint,
            space_sdk="gradio",
        )
