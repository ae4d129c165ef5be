"""Cards for what `r1ci published` converts from the paper's own artifacts: the published task data in
`datasets` layout, and the paper's SFT traces in our traces format. Both credit and link the
original and carry its license over from the source card (stated unknown when the source has none).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from huggingface_hub import DatasetCard, DatasetCardData

from model_cards.dataset_cards import TEMPLATES, TaskRow, config_name, size_category

#: A license id as the Hub's card metadata spells them ("apache-2.0", "cc-by-4.0", "other").
_LICENSE_ID = re.compile(r"[a-z0-9][a-z0-9.+-]{0,63}")
_LINK = re.compile(r"https?://[^\s<>()\[\]`]{1,300}")
#: Problems listed in a card at most (the rest are counted).
MAX_LISTED = 50


@dataclass(frozen=True)
class SourceLicense:
    """The license a source card declares: an id (None when the card states none) and, for
    "other", the name and link it gives."""

    id: str | None
    name: str | None = None
    link: str | None = None

    def metadata(self) -> dict[str, str]:
        """Card metadata: the source's license, or "unknown"."""
        meta = {"license": self.id or "unknown"}
        if self.name:
            meta["license_name"] = self.name
        if self.link:
            meta["license_link"] = self.link
        return meta

    def sentence(self) -> str:
        if self.id is None:
            return (
                "The source states no license, so the license of this data is **unknown**: check with the "
                "original's authors before redistributing or training on it commercially."
            )
        named = f" ({self.name})" if self.name else ""
        link = f", see {self.link}" if self.link else ""
        return f"`{self.id}`{named}, carried over from the source's card{link}."


def source_license(card: str | None) -> SourceLicense:
    """The license a source card's YAML front matter declares; a card without one (or none at all,
    or front matter that does not parse) declares none. Values are checked, never copied blindly."""
    from hub_tools.dataset_folder import split_front_matter

    if not card:
        return SourceLicense(None)
    try:
        meta, _ = split_front_matter(card)
    except Exception:  # malformed or hostile YAML (yaml.YAMLError, a non-mapping): no usable license
        return SourceLicense(None)
    value = meta.get("license")
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not _LICENSE_ID.fullmatch(value.strip().lower()):
        return SourceLicense(None)
    name = meta.get("license_name")
    link = meta.get("license_link")
    return SourceLicense(
        value.strip().lower(),
        name=name.strip()[:100] if isinstance(name, str) and _LICENSE_ID.fullmatch(name.strip()) else None,
        link=link.strip() if isinstance(link, str) and _LINK.fullmatch(link.strip()) else None,
    )


def source_credit(source: str, repo_id: str | None, revision: str | None, commit: str | None, endpoint: str) -> str:
    """One sentence naming and linking where the data came from."""
    if repo_id is None:
        # the folder's name only: a card is published, the converting machine's paths are not its business
        return f"Converted from a local copy of the published layout (`{_plain(PurePath(source).name)}`)."
    at = f" at revision `{_plain(revision)}`" if revision and revision != "main" else ""
    pinned = f", commit `{commit[:12]}`" if commit else ""
    return f"Converted from [{repo_id}]({endpoint.rstrip('/')}/datasets/{repo_id}){at}{pinned}."


def _plain(text: str) -> str:
    """`text` safe inside a markdown code span or fenced block of a card."""
    return text.replace("`", "'").replace("\n", " ")


def published_dataset_card(
    *,
    repo_id: str,
    tasks: Sequence[TaskRow],
    license: SourceLicense,
    credit: str,
    source_repo: str | None,
    problems: Sequence[str],
    provenance: str,
) -> str:
    """The card of a converted published-data repo (`r1ci published convert`)."""
    num_rows = sum(t.rows for t in tasks)
    data = DatasetCardData(
        pretty_name="R1-Code-Interpreter published data",
        language=["en"],
        task_categories=["question-answering", "text-generation"],
        size_categories=[size_category(num_rows)],
        tags=["reasoning", "planning", "code-interpreter", "verifiable-rewards", "r1-code-interpreter"],
        source_datasets=[source_repo] if source_repo else None,
        **license.metadata(),
    )
    example = tasks[0]
    card = DatasetCard.from_template(
        data,
        template_path=str(TEMPLATES / "published_dataset.md"),
        repo_id=repo_id,
        source_credit=credit,
        license_text=license.sentence(),
        tasks=tasks,
        num_tasks=len(tasks),
        num_train_tasks=sum(t.split == "train" for t in tasks),
        num_test_tasks=sum(t.split == "test" for t in tasks),
        num_rows=num_rows,
        example_config=config_name(example.name),
        example_split=example.split,
        problems=[_plain(p) for p in problems[:MAX_LISTED]],
        num_problems=len(problems),
        provenance=_plain(provenance),
    )
    return str(card)


def paper_traces_card(
    *,
    repo_id: str,
    num_rows: int,
    records: int,
    problems: Sequence[tuple[str, str, str]],
    license: SourceLicense,
    credit: str,
    source_repo: str | None,
) -> str:
    """The card of the paper's SFT traces imported into our format (`r1ci published traces`);
    `problems` holds (where, kind, reason) per record that could not be parsed."""
    from collections import Counter

    data = DatasetCardData(
        pretty_name="R1-Code-Interpreter SFT traces (imported)",
        language=["en"],
        task_categories=["text-generation"],
        size_categories=[size_category(num_rows)],
        tags=["reasoning", "code-interpreter", "sft", "multi-turn", "r1-code-interpreter"],
        source_datasets=[source_repo] if source_repo else None,
        **license.metadata(),
    )
    kinds = Counter(kind for _, kind, _ in problems)
    card = DatasetCard.from_template(
        data,
        template_path=str(TEMPLATES / "paper_traces_dataset.md"),
        repo_id=repo_id,
        source_credit=credit,
        license_text=license.sentence(),
        num_rows=num_rows,
        records=records,
        num_problems=len(problems),
        kinds=", ".join(f"{k}: {n}" for k, n in kinds.most_common()),
        problems=[_plain(f"{where}: {reason}") for where, _, reason in problems[:MAX_LISTED]],
    )
    return str(card)
