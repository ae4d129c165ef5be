"""`r1ci curriculum estimate`: each training question's pass rate and improvement potential.

N answers per question are sampled from a model (default 20, spread across the paper's prompt
styles and a few temperatures) with R1-CI episodes that really run their code; each answer is
scored by the task's verifier (answers read only from model-written text). The pass rate p and the
potential 4·p·(1−p) become columns `pass_rate`, `potential` and `num_samples` of the training
dataset, written with the Hub repo's layout to a local folder (and pushed when a repo is named and
the Hub is online), with a histogram of the potentials in `images/potential_histogram.png`.
GRPO's curriculum (`curriculum: true` in a recipe) reads the `potential` column.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from code_interpreter.errors import InputError, MissingInput
from model_cards.plots import png_bytes
from trainers.curriculum import pass_rate, potential

HISTOGRAM = "potential_histogram.png"


@dataclass
class EstimateSettings:
    num_samples: int = 20
    temperatures: tuple[float, ...] = (0.7, 1.0)
    styles: tuple[str, ...] = ("free", "code_first", "text_then_code")
    max_new_tokens: int = 1024
    batch_size: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        from dataset_builders.traces import STYLES

        if self.num_samples < 1 or self.batch_size < 1 or self.max_new_tokens < 1:
            raise InputError("--num-samples, --batch-size and --max-new-tokens must be at least 1")
        if not self.temperatures or any(t < 0 for t in self.temperatures):
            raise InputError(f"--temperatures must be one or more values >= 0, got {self.temperatures}")
        unknown = [s for s in self.styles if s not in STYLES]
        if unknown or not self.styles:
            raise InputError(f"unknown style(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(STYLES)}")

    def plan(self) -> list[tuple[float, str]]:
        """(temperature, style) of each of the N samples: every combination in turn."""
        combos = [(t, s) for t in self.temperatures for s in self.styles]
        return [combos[k % len(combos)] for k in range(self.num_samples)]


def styled_messages(question: str, style: str, protocol: Any) -> list[dict[str, str]]:
    from code_interpreter.protocol import build_messages
    from dataset_builders.traces import STYLES

    messages = build_messages(question, protocol)
    if STYLES[style]:
        messages[0] = {"role": "system", "content": f"{messages[0]['content']}\n\n{STYLES[style]}"}
    return messages


def sample_scores(
    rows: Sequence[dict], generator: Any, sandbox: Any, protocol: Any, settings: EstimateSettings
) -> list[list[float]]:
    """Verifier scores of N episodes per row (row order kept). The generator's `temperature` is set per
    group of samples, so any backend with that attribute (transformers, OpenAI-compatible) works."""
    import torch
    from tqdm.auto import tqdm

    from code_interpreter.episode import EpisodeRunner
    from dataset_builders import get_task

    torch.manual_seed(settings.seed)
    scores: list[list[float]] = [[] for _ in rows]
    runner = EpisodeRunner(generator, sandbox, protocol, max_new_tokens=settings.max_new_tokens)
    by_temperature: dict[float, list[tuple[int, str]]] = {}
    for temperature, style in settings.plan():
        by_temperature.setdefault(temperature, []).extend((i, style) for i in range(len(rows)))
    total = len(rows) * settings.num_samples
    with tqdm(total=total, desc="episodes", unit="episode") as bar:
        for temperature, jobs in by_temperature.items():
            generator.temperature = temperature
            if hasattr(generator, "do_sample"):
                generator.do_sample = temperature > 0
            for start in range(0, len(jobs), settings.batch_size):
                batch = jobs[start : start + settings.batch_size]
                episodes = runner.run([styled_messages(rows[i]["question"], style, protocol) for i, style in batch])
                for (i, _), ep in zip(batch, episodes, strict=True):
                    entry = rows[i]
                    scores[i].append(
                        get_task(entry["task"]).score(ep.completion, entry, inserted_spans=ep.inserted_spans)
                    )
                bar.update(len(batch))
    return scores


def histogram_png(potentials: Sequence[float], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.hist(potentials, bins=20, range=(0.0, 1.0), color="#3b7dd8", edgecolor="white")
    ax.set_xlabel("improvement potential 4·p·(1−p)")
    ax.set_ylabel("questions")
    ax.set_title(title)
    fig.tight_layout()
    return png_bytes(fig)


def with_potentials(data: Any, scores: Sequence[Sequence[float]]) -> Any:
    rates = [pass_rate(s) for s in scores]
    data = data.remove_columns([c for c in ("pass_rate", "potential", "num_samples") if c in data.column_names])
    data = data.add_column("pass_rate", rates)
    data = data.add_column("potential", [potential(p) for p in rates])
    return data.add_column("num_samples", [len(s) for s in scores])


def card(source: str, model: str, settings: EstimateSettings, data: Any) -> str:
    pots = data["potential"]
    mean = sum(pots) / len(pots)
    return (
        f"# Curriculum estimates for {source}\n\n"
        f"Each question of `{source}` with its pass rate `pass_rate` over `num_samples` R1-CI episodes of `{model}` "
        f"(code executed, verifier-scored) and its improvement potential `potential` = 4·p·(1−p). GRPO's "
        f"curriculum sorts by `potential` and adds one stage of questions at a time.\n\n"
        f"- questions: {len(pots)}; samples per question: {settings.num_samples}\n"
        f"- temperatures: {', '.join(map(str, settings.temperatures))}; prompt styles: {', '.join(settings.styles)}\n"
        f"- mean pass rate {sum(data['pass_rate']) / len(pots):.3f}, mean potential {mean:.3f}\n\n"
        f"![potential histogram](images/{HISTOGRAM})\n"
    )


def load_rows(dataset: str, config: str | None, split: str, max_rows: int | None) -> Any:
    from pathlib import Path

    from datasets import load_dataset

    try:
        local = Path(dataset).is_dir()
        data = load_dataset(dataset, config, split=split, download_mode="force_redownload" if local else None)
    except Exception as exc:
        raise MissingInput(f"cannot load dataset {dataset!r} ({config}/{split}): {exc}") from exc
    missing = [c for c in ("task", "id", "question", "answer", "metadata") if c not in data.column_names]
    if missing:
        raise InputError(f"dataset {dataset!r} lacks column(s) {', '.join(missing)}; build it with r1ci tasks build")
    if max_rows is not None:
        data = data.select(range(min(max_rows, len(data))))
    if len(data) == 0:
        raise InputError(f"dataset {dataset!r} has no rows")
    from dataset_builders import get_task

    tasks = data["task"]
    for name in dict.fromkeys(tasks):  # an unknown task fails here, before any model loads
        try:
            get_task(name)
        except InputError as exc:
            raise InputError(f"dataset row {tasks.index(name)} has an unknown task: {exc}") from None
    return data


def make_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("curriculum", help="the GRPO curriculum by improvement potential")
    sub = p.add_subparsers(dest="curriculum_command", required=True)
    e = sub.add_parser("estimate", help="sample N answers per training question; add pass rate and potential columns")
    e.add_argument("--dataset", required=True, help="tasks dataset: local folder or Hub repo id")
    e.add_argument("--config", default="train", help="dataset config (default: train)")
    e.add_argument("--split", default="train")
    e.add_argument("--model", required=True, help="local model folder or Hub id (served model name for openai)")
    e.add_argument("--backend", choices=["transformers", "openai"], default="transformers")
    e.add_argument("--base-url", help="OpenAI-compatible endpoint (backend openai)")
    e.add_argument("--num-samples", type=int, default=20)
    e.add_argument("--temperatures", default="0.7,1.0", help="comma-separated sampling temperatures")
    e.add_argument("--styles", default="free,code_first,text_then_code", help="comma-separated prompt styles")
    e.add_argument("--max-new-tokens", type=int, default=1024)
    e.add_argument("--batch-size", type=int, default=16)
    e.add_argument("--sandbox", default="local")
    e.add_argument("--timeout-s", type=float, default=60.0)
    e.add_argument("--max-rows", type=int, help="estimate only the first N rows (smoke runs)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--output-dir", help="local folder with the Hub repo's layout")
    e.add_argument("--push-to-hub", metavar="REPO", help="dataset repo id")
    e.add_argument("--private", action="store_true")
    e.set_defaults(func=main)


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"--temperatures must be comma-separated numbers, got {text!r}") from None


def main(args: argparse.Namespace) -> int:
    from rich.console import Console

    from code_interpreter import ProtocolConfig, get_sandbox
    from dataset_builders.rollouts import RolloutJobConfig, make_generator
    from hub_tools.dataset_folder import write_dataset_folder
    from hub_tools.publish import commit_message, push_folder, resolve_target

    console = Console(stderr=True)
    settings = EstimateSettings(
        num_samples=args.num_samples,
        temperatures=_floats(args.temperatures),
        styles=tuple(s.strip() for s in args.styles.split(",") if s.strip()),
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    target = resolve_target(args.output_dir, args.push_to_hub, private=args.private)
    data = load_rows(args.dataset, args.config, args.split, args.max_rows)
    protocol = ProtocolConfig(timeout_s=args.timeout_s)
    job = RolloutJobConfig(
        model=args.model, backend=args.backend, base_url=args.base_url, temperature=settings.temperatures[0],
        max_new_tokens=args.max_new_tokens,
    )  # fmt: skip
    generator = make_generator(job)
    with get_sandbox(args.sandbox) as sandbox:
        scores = sample_scores(list(data), generator, sandbox, protocol, settings)
    data = with_potentials(data, scores)
    png = histogram_png(
        data["potential"], f"{args.dataset}: {len(data)} questions, {settings.num_samples} samples each"
    )
    folder = write_dataset_folder(
        target.folder,
        {args.config or "default": {args.split: data}},
        card(args.dataset, args.model, settings, data),
        images={HISTOGRAM: png},
    )
    console.print(f"wrote {len(data)} rows with pass_rate and potential to {folder}")
    if target.pushes:
        summary, description = commit_message(
            f"Curriculum estimates: {len(data)} questions x {settings.num_samples}", model=args.model
        )
        result = push_folder(
            folder,
            str(target.repo_id),
            repo_type="dataset",
            private=target.private,
            summary=summary,
            description=description,
        )
        console.print(f"pushed to {result.url} ({result.commit[:12]})")
    return 0
