"""Model cards that carry their evaluation, rendered with huggingface_hub's `ModelCard` /
`ModelCardData` from `templates/model_card.md`; the per-task accuracy chart; the card of the
per-sample details dataset.

Results are the JSON that `r1ci eval` writes (`trainers/eval_results.py`): per mode ("code",
"text"), `overall` (mean over tasks), `per_source` and `per_task` accuracies. In the card metadata
they become `model-index` entries (`EvalResult`, one per task group and overall, for each mode), so
the Hub shows them; the body has a readable table, the chart, and the paper's reference figures,
labelled as reported by the paper. The SFT card (`sft_card.py`) takes the same `eval_results` and
`evaluation_section` so one renderer serves both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from huggingface_hub import (
    DatasetCard,
    DatasetCardData,
    EvalResult,
    EvalResultEntry,
    ModelCard,
    ModelCardData,
    eval_result_entries_to_yaml,
)

from code_interpreter.protocol import SYSTEM_PROMPT
from model_cards.plots import png_bytes
from model_cards.sft_card import _link, hub_id

TEMPLATES = Path(__file__).resolve().parent / "templates"
TAGS = ["r1-code-interpreter", "code-interpreter", "reasoning", "tool-use", "trl"]
CHART = "accuracy_per_task.png"
SOURCE_NAMES = {"symbench": "SymBench", "bbh": "Big-Bench Hard", "reasoning_gym": "Reasoning-Gym"}
MODE_NAMES = {"code": "with code interpreter", "text": "text only"}
DATASET_TYPE = "r1ci-tasks"

#: Overall accuracy (%) on the 37 test tasks, as the paper's abstract gives them (arXiv 2505.21668v2,
#: revised 29 Sep 2025). The abstract gives no R1-CI-3B or R1-CI-7B accuracy; those are in the
#: paper's result tables, which we could not check, so they are named but not reproduced.
PAPER_REFERENCE: tuple[tuple[str, float], ...] = (
    ("GPT-4o, text only", 58.6),
    ("GPT-4o + Code Interpreter", 70.9),
    ("R1-CI-14B", 72.4),
)
PAPER_URL = "https://arxiv.org/abs/2505.21668v2"


def _group_name(source: str | None, split: str) -> str:
    label = SOURCE_NAMES.get(source, source) if source else "all sources"
    return f"R1-CI {split} tasks ({label})"


def eval_results(results: Mapping[str, Any], *, dataset_id: str | None = None) -> list[EvalResult]:
    """`model-index` entries: for each mode, the overall accuracy (mean over tasks) and one per source."""
    split = _split_label(results)
    dataset_type = dataset_id or DATASET_TYPE
    out = []
    for mode, r in results["modes"].items():
        groups = [(None, r["overall"])] + [(s, v["accuracy"]) for s, v in r["per_source"].items()]
        for source, value in groups:
            out.append(
                EvalResult(
                    task_type="text-generation",
                    task_name="Reasoning and planning",
                    dataset_type=dataset_type,
                    dataset_name=_group_name(source, split),
                    dataset_config=source or "all",
                    dataset_split=split,
                    metric_type="accuracy",
                    metric_name=f"accuracy ({MODE_NAMES[mode]})",
                    metric_value=round(100 * value, 2),
                    metric_config=mode,
                )
            )
    return out


def eval_result_entries(results: Mapping[str, Any], dataset_id: str) -> list[EvalResultEntry]:
    """The newer `.eval_results/*.yaml` entries (huggingface_hub `EvalResultEntry`), which name the
    benchmark dataset on the Hub (`dataset_id`, e.g. the published tasks dataset): one per mode for
    the overall accuracy and each source, with the mode in `notes` ("tools" / "no-tools")."""
    out = []
    for mode, r in results["modes"].items():
        groups = [("overall", r["overall"])] + [(s, v["accuracy"]) for s, v in r["per_source"].items()]
        for task_id, value in groups:
            out.append(
                EvalResultEntry(
                    dataset_id=dataset_id,
                    task_id=task_id,
                    value=round(100 * value, 2),
                    notes="tools" if mode == "code" else "no-tools",
                )
            )
    return out


def eval_results_yaml(results: Mapping[str, Any], dataset_id: str) -> str:
    """The text of `.eval_results/<name>.yaml` for `results`."""
    import yaml

    return yaml.safe_dump(eval_result_entries_to_yaml(eval_result_entries(results, dataset_id)), sort_keys=False)


def _split_label(results: Mapping[str, Any]) -> str:
    splits = {t["split"] for r in results["modes"].values() for t in r["per_task"].values()}
    return splits.pop() if len(splits) == 1 else "train+test"


def evaluation_section(results: Mapping[str, Any], *, chart: str | None = CHART) -> str:
    """Markdown: overall and per-source table, episode statistics, per-task table, chart, paper reference."""
    modes = list(results["modes"])
    head = "| | " + " | ".join(f"accuracy ({MODE_NAMES[m]})" for m in modes) + " |"
    rule = "|---|" + "---|" * len(modes)
    lines = ["## Evaluation", ""]
    s = results["settings"]
    source = (
        f"published instances (`{s['published']}`)" if s.get("published") else f"generated questions (seed {s['seed']})"
    )
    n_tasks = max(r["stats"]["tasks"] for r in results["modes"].values())
    lines += [
        f"Measured with `r1ci eval` on {n_tasks} tasks, {s['num_questions']} {source} per task; "
        f"temperature {s['temperature']}, at most {s['max_new_tokens']} tokens per answer, protocol "
        f"{s['protocol_version']}. Overall is the mean of per-task accuracies, as the paper reports it.",
        "",
        head,
        rule,
    ]
    rows = [("**overall (mean over tasks)**", {m: results["modes"][m]["overall"] for m in modes})]
    sources = sorted({src for m in modes for src in results["modes"][m]["per_source"]})
    for src in sources:
        rows.append(
            (
                SOURCE_NAMES.get(src, src),
                {m: results["modes"][m]["per_source"].get(src, {}).get("accuracy") for m in modes},
            )
        )
    for label, values in rows:
        lines.append(f"| {label} | " + " | ".join(_pct(values[m]) for m in modes) + " |")
    lines += ["", "| per sample | " + " | ".join(MODE_NAMES[m] for m in modes) + " |", rule]
    for key, label in (
        ("mean_code_calls", "code calls"),
        ("mean_turns", "model turns"),
        ("mean_tokens", "tokens"),
        ("execution_errors", "execution errors (total)"),
        ("timeouts", "timeouts (total)"),
        ("errors", "errored samples (scored 0)"),
    ):
        vals = [results["modes"][m]["stats"][key] for m in modes]
        lines.append(f"| {label} | " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in vals) + " |")
    if chart:
        lines += ["", f"![accuracy per task](images/{chart})"]
    lines += ["", "<details><summary>Accuracy per task</summary>", "", "| task | n | " + " | ".join(modes) + " |"]
    lines.append("|---|---|" + "---|" * len(modes))
    tasks = sorted({t for m in modes for t in results["modes"][m]["per_task"]})
    for t in tasks:
        n = next(results["modes"][m]["per_task"][t]["n"] for m in modes if t in results["modes"][m]["per_task"])
        cells = [_pct(results["modes"][m]["per_task"].get(t, {}).get("accuracy")) for m in modes]
        lines.append(f"| {t} | {n} | " + " | ".join(cells) + " |")
    lines += ["", "</details>", "", reference_section()]
    return "\n".join(lines) + "\n"


def reference_section() -> str:
    rows = "\n".join(f"| {name} | {value:.1f}% |" for name, value in PAPER_REFERENCE)
    return (
        "### Reference figures reported by the paper\n\n"
        f"Overall accuracy on the 37 test tasks **as reported by the paper** ([arXiv 2505.21668v2]({PAPER_URL}), "
        "abstract), not measured here; they are comparable with the table above only for the same task split "
        "and question set (the paper's published instances).\n\n"
        "| model (reported by the paper) | overall, 37 test tasks |\n|---|---|\n"
        f"{rows}\n\n"
        "These are the accuracies the paper's abstract gives. It also says that training took R1-CI-14B from "
        "44.1% to 72.4% and that the curriculum raised the average RL gain across the 3B, 7B and 14B models "
        "from +3.4 to +9.3 points. The R1-CI-3B and R1-CI-7B accuracies are in the paper's result tables; "
        "they are not reproduced here.\n"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def accuracy_chart_png(results: Mapping[str, Any]) -> bytes:
    """Horizontal bars: accuracy per task for each mode, overall first; on test tasks, vertical lines
    mark the paper's reported overall figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(results["modes"])
    tasks = sorted({t for m in modes for t in results["modes"][m]["per_task"]})
    labels = ["overall (mean over tasks)"] + tasks
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.28 * len(labels) * max(1, len(modes)) / 1.5), dpi=100)
    height = 0.8 / len(modes)
    colors = {"code": "#4C72B0", "text": "#DD8452"}
    for i, m in enumerate(modes):
        r = results["modes"][m]
        values = [r["overall"]] + [r["per_task"].get(t, {}).get("accuracy", 0.0) for t in tasks]
        ys = [k + i * height for k in range(len(labels))]
        ax.barh(ys, [100 * v for v in values], height=height, color=colors.get(m), label=MODE_NAMES[m])
    if _split_label(results) == "test":  # the paper's overall figures are on the 37 test tasks
        for (name, value), style in zip(PAPER_REFERENCE, (":", "--", "-."), strict=True):
            ax.axvline(value, color="#555555", linestyle=style, linewidth=0.8, label=f"{name} (reported by the paper)")
    ax.set_yticks([k + height * (len(modes) - 1) / 2 for k in range(len(labels))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("accuracy (%)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.04 - 2.0 / len(labels) / 8), ncol=2, fontsize=7)
    fig.tight_layout()
    # "tight" keeps the legend below the axes in the picture
    return png_bytes(fig, bbox_inches="tight")


def model_card(
    *,
    model_name: str,
    base_model: str | None,
    results: Mapping[str, Any] | None,
    datasets: Sequence[str] = (),
    training: Mapping[str, Any] | None = None,
    protocol: Mapping[str, Any] | None = None,
    repo_id: str | None = None,
    chart: str | None = CHART,
    tasks_dataset: str | None = None,
) -> str:
    """The README.md of a released checkpoint: metadata (with `model-index` when `results` are given)
    and a body with the protocol, a usage snippet, training settings, evaluation, limitations, citation.
    `tasks_dataset` (the tasks dataset's Hub id) becomes the model-index dataset type, which the Hub links."""
    data_repos = [d for d in (hub_id(d) for d in datasets) if d]
    data = ModelCardData(
        model_name=model_name,
        base_model=hub_id(base_model) if base_model else None,
        datasets=data_repos or None,
        library_name="transformers",
        pipeline_tag="text-generation",
        license="apache-2.0",
        language=["en"],
        tags=TAGS,
        eval_results=eval_results(results, dataset_id=tasks_dataset) if results else None,
    )
    card = ModelCard.from_template(
        data,
        template_path=str(TEMPLATES / "model_card.md"),
        model_name=model_name,
        repo_id=repo_id or model_name,
        base_model_link=_link(base_model, "models") if base_model else "A causal language model",
        dataset_links=[_link(d, "datasets") for d in datasets],
        system_prompt=(protocol or {}).get("system_prompt", SYSTEM_PROMPT),
        protocol={k: json.dumps(v) for k, v in (protocol or {}).items() if k != "system_prompt"},
        training=dict(training or {}),
        evaluation=evaluation_section(results, chart=chart) if results else "",
    )
    return str(card)


def details_dataset_card(results: Mapping[str, Any]) -> str:
    """Card of the per-sample details dataset that `r1ci eval` writes next to its results."""
    n = sum(r["stats"]["samples"] for r in results["modes"].values())
    data = DatasetCardData(
        pretty_name=f"R1-CI evaluation details of {results['model']}",
        license="apache-2.0",
        language=["en"],
        task_categories=["text-generation"],
        tags=["r1-code-interpreter", "evaluation", "code-interpreter"],
    )
    card = DatasetCard.from_template(
        data,
        template_path=str(TEMPLATES / "eval_details.md"),
        model=results["model"],
        num_samples=n,
        modes=", ".join(f"`{m}` ({MODE_NAMES[m]})" for m in results["modes"]),
        evaluation=evaluation_section(results, chart=None),
    )
    return str(card)
