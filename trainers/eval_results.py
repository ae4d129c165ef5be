"""What an evaluation run measured, from its per-sample records: accuracy per task, per source and
overall (the mean over tasks, as the paper reports it), and episode statistics.

A record is one finished sample (see `trainers.evaluation.sample_record`); a sample that errored
counts as wrong (verdict 0) and is counted in `errors`, never left out of the denominator.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError, MissingInput

#: Evaluation modes: with the code interpreter, and the text-only baseline (code never executed).
MODES = ("code", "text")
RESULTS_FILE = "results.json"


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def mode_results(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Results of one mode's records: per task, per source, overall and episode statistics."""
    by_task: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        by_task[r["task"]].append(r)
    per_task = {}
    for task in sorted(by_task):
        rows = by_task[task]
        per_task[task] = {
            "source": rows[0]["source"],
            "split": rows[0]["split"],
            "n": len(rows),
            "correct": sum(r["verdict"] for r in rows),
            "accuracy": _mean(r["verdict"] for r in rows),
            "errors": sum(1 for r in rows if r["error"]),
        }
    by_source: dict[str, list[float]] = defaultdict(list)
    for t in per_task.values():
        by_source[t["source"]].append(t["accuracy"])
    rows = [r for rs in by_task.values() for r in rs]
    return {
        "overall": _mean(t["accuracy"] for t in per_task.values()),
        "micro_accuracy": _mean(r["verdict"] for r in rows),
        "per_source": {s: {"accuracy": _mean(a), "tasks": len(a)} for s, a in sorted(by_source.items())},
        "per_task": per_task,
        "stats": {
            "samples": len(rows),
            "tasks": len(per_task),
            "mean_code_calls": _mean(r["num_code_calls"] for r in rows),
            "mean_turns": _mean(r["turns"] for r in rows),
            "mean_tokens": _mean(r["tokens"] for r in rows),
            "execution_errors": sum(r["execution_errors"] for r in rows),
            "timeouts": sum(r["timeouts"] for r in rows),
            "errors": sum(1 for r in rows if r["error"]),
            "finish_reasons": dict(sorted(_count(r["finish_reason"] for r in rows).items())),
        },
    }


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return out


def aggregate(records: Iterable[Mapping[str, Any]], run: Mapping[str, Any]) -> dict[str, Any]:
    """The results JSON of a run: its settings (`run`) and `mode_results` for each mode it ran."""
    by_mode: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in records:
        by_mode[r["mode"]].append(r)
    return {
        "model": run["model"],
        "model_fingerprint": run["model_fingerprint"],
        "settings": dict(run),
        "modes": {m: mode_results(by_mode[m]) for m in MODES if by_mode.get(m)},
    }


def model_fingerprint(model: str, backend: str = "transformers") -> str:
    """What identifies the evaluated weights: a local folder by its config and weight files (names,
    sizes and the first MiB of each), anything else (Hub id, served name) by backend and name."""
    path = Path(model)
    if backend != "transformers" or not path.is_dir():
        return f"{backend}:{model}"
    digest = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.name == "config.json" or p.suffix in (".safetensors", ".bin"))
    if not files:
        raise MissingInput(f"{model} holds no config.json or weight files: is it a model folder?")
    for p in files:
        with p.open("rb") as fh:
            head = fh.read(1 << 20)
        digest.update(f"{p.name}\0{p.stat().st_size}\0".encode() + hashlib.sha256(head).digest())
    return "sha256:" + digest.hexdigest()[:32]


def load_results(path: str | Path, *, expect_fingerprint: str | None = None, model: str = "") -> dict[str, Any]:
    """A results JSON written by `r1ci eval`; one sentence if it is missing, malformed, or (with
    `expect_fingerprint`) measured on another model."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.is_file():
        raise MissingInput(f"results file {path} does not exist; run `r1ci eval` first")
    try:
        results = json.loads(path.read_text())
        modes, fingerprint = results["modes"], results["model_fingerprint"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a results file written by `r1ci eval` ({type(exc).__name__})") from exc
    if not isinstance(modes, dict) or not modes:
        raise InputError(f"{path} holds no results")
    if expect_fingerprint is not None and fingerprint != expect_fingerprint:
        raise InputError(
            f"{path} was measured on {results.get('model')!r}, not on {model or 'this model'} "
            "(the weights differ): evaluate this model with `r1ci eval` and pass its results"
        )
    return results
