"""Dataset cards rendered with huggingface_hub's `DatasetCard.from_template` from templates in
`model_cards/templates/`: YAML metadata the Hub reads (license, task categories, size category,
tags, pretty name; `configs:` is added by `hub_tools.dataset_folder`) and a readable body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData

TEMPLATES = Path(__file__).resolve().parent / "templates"
CITATION_KEY = "chen2025r1codeinterpreter"


@dataclass(frozen=True)
class TaskRow:
    """One line of a card's per-task table."""

    name: str
    source: str
    split: str
    rows: int
    levels: str
    distinct: int | None = None
    """Distinct questions, when fewer than `rows`: a dataset-backed task with fewer source rows than
    asked for repeats them (reshuffled), and the card says so."""


def size_category(n: int) -> str:
    """The Hub's size bucket for `n` rows."""
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def tasks_dataset_card(
    *,
    repo_id: str,
    tasks: Sequence[TaskRow],
    absent: Sequence[tuple[str, str]],
    num_per_task: int,
    seed: int,
    provenance: str,
) -> str:
    """The card of the tasks dataset (`r1ci tasks build`)."""
    num_rows = sum(t.rows for t in tasks)
    data = DatasetCardData(
        pretty_name="R1-CI tasks",
        license="apache-2.0",
        language=["en"],
        task_categories=["question-answering", "text-generation"],
        size_categories=[size_category(num_rows)],
        tags=["reasoning", "planning", "code-interpreter", "verifiable-rewards", "r1-code-interpreter", "synthetic"],
    )
    example = tasks[0] if tasks else TaskRow("symbench/game24", "symbench", "train", 0, "")
    card = DatasetCard.from_template(
        data,
        template_path=str(TEMPLATES / "tasks_dataset.md"),
        repo_id=repo_id,
        tasks=tasks,
        absent=absent,
        num_tasks=len(tasks),
        num_train_tasks=sum(t.split == "train" for t in tasks),
        num_test_tasks=sum(t.split == "test" for t in tasks),
        num_rows=num_rows,
        num_per_task=num_per_task,
        seed=seed,
        example_config=config_name(example.name),
        example_split=example.split,
        provenance=provenance,
    )
    return str(card)


def config_name(task_name: str) -> str:
    """A task's config in the tasks dataset: "symbench/game24" -> "symbench.game24" (configs may not hold '/')."""
    return task_name.replace("/", ".")


def traces_dataset_card(
    *,
    repo_id: str,
    num_rows: int,
    tally: Sequence[tuple[str, object]],
    max_per_task: int,
    teacher: str,
    styles: str,
    settings: str,
) -> str:
    """The card of the SFT traces dataset (`r1ci traces build`); `tally` holds (task, obj with attempted/accepted)."""
    attempted = sum(t.attempted for _, t in tally)  # type: ignore[attr-defined]
    data = DatasetCardData(
        pretty_name="R1-CI SFT traces",
        license="apache-2.0",
        language=["en"],
        task_categories=["text-generation"],
        size_categories=[size_category(num_rows)],
        tags=["reasoning", "code-interpreter", "sft", "multi-turn", "r1-code-interpreter", "synthetic"],
    )
    card = DatasetCard.from_template(
        data,
        template_path=str(TEMPLATES / "traces_dataset.md"),
        repo_id=repo_id,
        num_rows=num_rows,
        num_tasks=sum(1 for _, t in tally if t.accepted),  # type: ignore[attr-defined]
        max_per_task=max_per_task,
        attempted=attempted,
        acceptance=f"{num_rows / attempted:.0%}" if attempted else "0%",
        teacher=teacher,
        styles=styles,
        tally=tally,
        settings=settings,
    )
    return str(card)
