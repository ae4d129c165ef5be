"""Repo ids of what the project publishes, and the checks a repo id must pass before any upload."""

from __future__ import annotations

import os
import re

from hub_tools.errors import HubInputError

#: Environment variable naming the user or organisation that releases go to (default namespace).
ORG_ENV = "R1CI_HUB_ORG"

#: Repo names per artefact; a model release adds its size ("R1-CI-7B").
REPO_NAMES = {"tasks": "R1-CI-tasks", "traces": "R1-CI-SFT-traces", "model": "R1-CI"}
REPO_TYPES = {"tasks": "dataset", "traces": "dataset", "model": "model"}

# The Hub's own rule: letters, digits, '-', '_', '.'; no '--' or '..'; at most 96 characters per part;
# no '.git' ending. Matched with `fullmatch` and `\Z`: `$` would let a trailing newline through.
_PART = re.compile(r"(?!.*(--|\.\.))(?!.*\.git\Z)[A-Za-z0-9][A-Za-z0-9._-]{0,94}[A-Za-z0-9]\Z|[A-Za-z0-9]\Z")


def check_repo_id(repo_id: str) -> str:
    """`repo_id` if it is a valid "<namespace>/<name>"; HubInputError saying what is wrong otherwise."""
    parts = repo_id.split("/") if isinstance(repo_id, str) else []
    if len(parts) != 2 or not all(_PART.fullmatch(p) for p in parts):
        raise HubInputError(
            f"{repo_id!r} is not a Hub repo id: expected '<user or org>/<name>' made of letters, digits, "
            "'-', '_' and '.' (no '--' or '..', no '.git' ending, at most 96 characters each)"
        )
    return repo_id


def default_repo_id(kind: str, size: str | None = None, org: str | None = None) -> str:
    """ "<org>/R1-CI-tasks", "<org>/R1-CI-SFT-traces" or "<org>/R1-CI-<size>"; org from `ORG_ENV` if not given."""
    if kind not in REPO_NAMES:
        raise HubInputError(f"unknown artefact kind {kind!r}; choose one of {', '.join(REPO_NAMES)}")
    org = org or os.environ.get(ORG_ENV)
    if not org:
        raise HubInputError(f"no Hub namespace: pass the full repo id or set {ORG_ENV} to your user or organisation")
    name = REPO_NAMES[kind] if kind != "model" else f"{REPO_NAMES['model']}-{size or 'model'}"
    return check_repo_id(f"{org}/{name}")
