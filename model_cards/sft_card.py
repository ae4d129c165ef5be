"""Model card of an SFT checkpoint (`trainers/sft.py`), rendered with huggingface_hub's
`ModelCard.from_template` from `templates/sft_model.md`, and its training-curve PNG.

`extra_sections` (markdown) and `eval_results` (huggingface_hub `EvalResult`s, rendered as the
Hub's `model-index`) let a later stage add evaluation to the same card without a second renderer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from hub_tools.errors import HubInputError
from hub_tools.naming import check_repo_id
from model_cards.plots import png_bytes

TEMPLATES = Path(__file__).resolve().parent / "templates"
TAGS = ["r1-code-interpreter", "code-interpreter", "reasoning", "sft", "trl"]


def hub_id(name: str) -> str | None:
    """`name` when it reads as a Hub repo id and is not a local path, else None."""
    if Path(name).exists():
        return None
    try:
        return check_repo_id(name)
    except HubInputError:
        return None


def _link(name: str, kind: str) -> str:
    repo = hub_id(name)
    if repo is None:
        return f"`{name}` (a local {'folder' if kind == 'datasets' else 'model'})"
    prefix = "datasets/" if kind == "datasets" else ""
    return f"[{repo}](https://huggingface.co/{prefix}{repo})"


def sft_model_card(
    *,
    model_name: str,
    base_model: str,
    dataset: str,
    hyperparameters: Mapping[str, Any],
    data_summary: str,
    overlong: str,
    max_trace_length: int | None,
    curves: str | None = None,
    extra_sections: str = "",
    eval_results: Sequence[Any] | None = None,
) -> str:
    """The README.md of a fine-tuned model: metadata the Hub reads and a readable body."""
    base_repo, data_repo = hub_id(base_model), hub_id(dataset)
    data = ModelCardData(
        model_name=model_name,
        base_model=base_repo,
        datasets=[data_repo] if data_repo else None,
        library_name="transformers",
        pipeline_tag="text-generation",
        license="apache-2.0",
        language=["en"],
        tags=TAGS,
        eval_results=list(eval_results) if eval_results else None,
    )
    if max_trace_length is None:
        rule = "never cut (no cap was set; max_length was the longest trace)"
    elif overlong == "drop":
        rule = "dropped (a truncated trace loses its final answer and end-of-turn token)"
    else:
        rule = "truncated to their first tokens when model-written tokens remained"
    card = ModelCard.from_template(
        data,
        template_path=str(TEMPLATES / "sft_model.md"),
        model_name=model_name,  # with eval_results, card_data moves model_name into model-index
        base_model_link=_link(base_model, "models"),
        dataset_link=_link(dataset, "datasets"),
        hyperparameters=dict(hyperparameters),
        data_summary=data_summary.rstrip("."),
        max_trace_length=max_trace_length if max_trace_length is not None else "the cap",
        overlong_rule=rule,
        curves=curves,
        extra_sections=extra_sections,
    )
    return str(card)


def training_curves_png(log_history: Sequence[Mapping[str, Any]]) -> bytes | None:
    """Training loss (and eval loss, learning rate when logged) against step; None without logged losses."""
    train = [(h["step"], h["loss"]) for h in log_history if "loss" in h and "step" in h]
    if not train:
        return None
    evals = [(h["step"], h["eval_loss"]) for h in log_history if "eval_loss" in h]
    lrs = [(h["step"], h["learning_rate"]) for h in log_history if "learning_rate" in h]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2 if lrs else 1, figsize=(9 if lrs else 5, 3), dpi=100, squeeze=False)
    ax = axes[0][0]
    ax.plot(*zip(*train, strict=True), color="#4C72B0", label="train")
    if evals:
        ax.plot(*zip(*evals, strict=True), "o-", color="#DD8452", label="eval")
    ax.set_title("Loss (supervised tokens)")
    ax.set_xlabel("step")
    ax.legend()
    if lrs:
        ax2 = axes[0][1]
        ax2.plot(*zip(*lrs, strict=True), color="#55A868")
        ax2.set_title("Learning rate")
        ax2.set_xlabel("step")
    fig.tight_layout()
    return png_bytes(fig)
