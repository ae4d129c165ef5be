"""`r1ci quickstart`: the main job on offline defaults, end to end on a laptop CPU.

At this stage it builds the tiny Qwen2 model (real Qwen2.5 tokenizer), draws a few questions from
the task library, runs R1-CI episodes with the local sandbox and prints each transcript with its
verdict. Later stages (SFT, GRPO, evaluation) extend it into the full pipeline.
"""

from __future__ import annotations

import json
from pathlib import Path

QUICKSTART_TASKS = ("symbench/number_multiply", "symbench/game24", "symbench/letters", "bbh/boolean_expressions")


def _questions(n: int, seed: int) -> list[dict]:
    from dataset_builders import get_task
    from dataset_builders.task import TaskDataUnavailable

    entries = []
    for i in range(n):
        task = get_task(QUICKSTART_TASKS[i % len(QUICKSTART_TASKS)])
        try:
            entries.append(next(iter(task.generate(1, seed=seed + i))))
        except TaskDataUnavailable:  # dataset-backed tasks need data that may be absent offline
            entries.append(next(iter(get_task(QUICKSTART_TASKS[0]).generate(1, seed=seed + i))))
    return entries


def run_quickstart(out_dir: str | Path = "outputs/quickstart", n_questions: int = 4, seed: int = 0) -> int:
    import torch
    from rich.console import Console
    from rich.panel import Panel

    from code_interpreter import get_sandbox
    from code_interpreter.episode import EpisodeRunner
    from code_interpreter.generation import TransformersGenerator
    from dataset_builders import get_task
    from trainers.tiny_model import build_tiny_model

    console = Console()
    out = Path(out_dir)
    model_dir = out / "tiny-model"
    if not (model_dir / "config.json").exists():
        console.print(f"[bold]Building the tiny Qwen2 model[/] -> {model_dir}")
        build_tiny_model(model_dir, seed=seed)
    torch.manual_seed(seed)
    generator = TransformersGenerator.from_pretrained(str(model_dir), temperature=1.0)
    entries = _questions(n_questions, seed)
    with get_sandbox("local") as sandbox:
        console.print(f"[bold]Running {len(entries)} episodes[/] (sandbox isolation: {_isolation(sandbox)})")
        runner = EpisodeRunner(generator, sandbox, max_new_tokens=96)
        episodes = runner.run([e["question"] for e in entries], metadata=entries)
    transcripts = out / "transcripts.jsonl"
    lines = []
    for ep, entry in zip(episodes, entries, strict=True):
        score = get_task(entry["task"]).score(ep.completion, entry)
        body = []
        for seg in ep.segments:
            style = "cyan" if seg.role == "interpreter" else "white"
            body.append(f"[{style}]{_escape(seg.text)}[/]")
        title = f"{entry['task']}  finish={ep.finish_reason}  calls={ep.num_code_calls}  answer={ep.answer!r}  score={score}"
        console.print(Panel("".join(body) or "(empty)", title=_escape(title), subtitle=f"reference: {_escape(entry['answer'])}"))
        lines.append(json.dumps(ep.to_dict() | {"entry": entry, "score": score}, ensure_ascii=False))
    tmp = transcripts.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.rename(transcripts)
    console.print(
        "The tiny model is randomly initialised, so its text is noise: this run shows the machinery "
        f"(tokenizer, generation, stop rule, sandbox, verifiers). Transcripts: {transcripts}"
    )
    return 0


def _isolation(sandbox) -> str:
    return getattr(sandbox, "isolation", sandbox.name)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
