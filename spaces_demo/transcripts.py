"""Transcripts for the Browse tab: load a dataset of episodes, adapt its rows, filter, count.

Sources: an SFT traces dataset (`r1ci traces build`: `messages` + `inserted_spans`), the
`transcripts.jsonl` of `r1ci rollouts` (records with `segments`, `entry` and `score`), and the
details dataset of `r1ci eval` (rows with `segments` as JSON, `verdict`, `extracted_answer`,
`reference`; its default config, "code"), as a local folder or file or a Hub dataset id.
`transcript_from_row` is the one place that knows row shapes.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError, MissingInput
from code_interpreter.protocol import first_closed_python

#: Rows read at most from one source: Browse is for looking, not for analysing a whole corpus.
MAX_ROWS = 20_000
VERDICTS = ("all", "correct", "wrong", "no verdict")
CODE_CALLS = ("any", "0", "1", "2", "3+")


@dataclass
class Transcript:
    """One episode as Browse shows it."""

    task: str
    id: str
    question: str
    segments: list[dict[str, Any]]
    answer: str | None = None
    score: float | None = None
    num_code_calls: int = 0
    finish_reason: str | None = None
    error: str | None = None
    reference: str | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.score is None:
            return "no verdict"
        return "correct" if self.score >= 1.0 else "wrong"

    def label(self, index: int) -> str:
        return f"#{index} {self.task} {self.id} · {self.verdict} · {self.num_code_calls} code call(s)"


def segments_from_spans(completion: str, inserted_spans: Sequence[Sequence[int]]) -> list[dict[str, Any]]:
    """Segments of an assistant turn from its text and the character spans the interpreter inserted."""
    segments, pos = [], 0
    for span in inserted_spans:
        a, b = int(span[0]), int(span[1])
        if not pos <= a <= b <= len(completion):
            raise InputError(
                f"inserted span {list(span)} is out of order or outside the text ({len(completion)} chars)"
            )
        if a > pos:
            segments.append(_model_segment(completion[pos:a]))
        segments.append({"role": "interpreter", "text": completion[a:b], "code": None, "execution": None})
        pos = b
    if pos < len(completion):
        segments.append(_model_segment(completion[pos:]))
    return segments


def _model_segment(text: str) -> dict[str, Any]:
    block = first_closed_python(text)
    return {"role": "model", "text": text, "code": block.code if block else None, "execution": None}


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def transcript_from_row(row: dict[str, Any]) -> Transcript:
    """Adapt one row of a traces, rollouts or eval-details dataset."""
    entry = _json(row.get("entry")) or {}
    if not isinstance(entry, dict):
        entry = {}
    messages = _json(row.get("messages")) or []
    question = entry.get("question") or row.get("question") or ""
    if not question and isinstance(messages, list):
        question = next((m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "user"), "")
    spans = _json(row.get("inserted_spans"))
    note = ""
    stored_segments = _json(row.get("segments"))
    if isinstance(stored_segments, list):
        segments = [dict(s) for s in stored_segments]
        kind = "eval" if "verdict" in row else "rollout"
    elif spans is not None:
        completion = row.get("completion")
        if not isinstance(completion, str):
            turn = messages[-1] if isinstance(messages, list) and messages else {}
            completion = turn.get("content", "") if isinstance(turn, dict) and turn.get("role") == "assistant" else ""
        segments = segments_from_spans(completion, spans)
        kind = "trace" if "completion" not in row else "eval"
    else:
        raise InputError(
            "a row needs `segments` (r1ci rollouts) or `inserted_spans` with `messages` or `completion` "
            f"(traces, eval details); this one has {', '.join(sorted(row)) or 'no columns'}"
        )
    score = next((row[k] for k in ("score", "verdict", "reward") if row.get(k) is not None), None)
    if score is None and kind == "trace":
        score = 1.0  # the traces builder keeps a trace only when the verifier accepted its answer
        note = "Traces are kept only when the task's verifier accepts the answer."
    calls = row.get("num_code_calls")
    if calls is None:
        calls = sum(1 for s in segments if s.get("role") == "interpreter")
    return Transcript(
        task=str(entry.get("task") or row.get("task") or "?"),
        id=str(entry.get("id") or row.get("id") or ""),
        question=str(question),
        segments=segments,
        answer=row.get("answer") or row.get("extracted_answer") or None,
        score=float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
        num_code_calls=int(calls),
        finish_reason=row.get("finish_reason") or ("answer" if kind == "trace" else None),
        error=row.get("error"),
        reference=entry.get("answer") if entry else row.get("reference"),
        note=note,
        extra={"kind": kind, **{k: row[k] for k in ("style", "mode") if k in row}},
    )


def load_transcripts(source: str, *, allow_local: bool = True, max_rows: int = MAX_ROWS) -> list[Transcript]:
    """Transcripts from a local folder or file (when `allow_local`) or a Hub dataset id."""
    source = (source or "").strip()
    if not source:
        raise InputError("give a dataset: a Hub dataset id, or a local folder or transcripts.jsonl")
    path = Path(source).expanduser()
    if allow_local and path.exists():
        rows = _local_rows(path, max_rows)
    elif "/" in source and not source.startswith((".", "/", "~")):
        from hub_tools.naming import check_repo_id

        rows = _dataset_rows(check_repo_id(source), max_rows)
    elif not allow_local:
        raise InputError(f"{source!r} is not a Hub dataset id ('<user or org>/<name>'); local paths are off here")
    else:
        raise MissingInput(f"{source!r} is neither an existing folder or file nor a Hub dataset id")
    transcripts = []
    for i, row in enumerate(rows):
        try:
            transcripts.append(transcript_from_row(row))
        except (InputError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"row {i} of {source}: {exc}") from exc
    if not transcripts:
        raise InputError(f"{source} holds no transcripts")
    return transcripts


def _local_rows(path: Path, max_rows: int) -> list[dict[str, Any]]:
    if path.is_dir() and (path / "transcripts.jsonl").is_file():
        path = path / "transcripts.jsonl"
    if path.is_file() and path.suffix == ".jsonl":
        rows = []
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if len(rows) >= max_rows:
                    break
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise InputError(f"{path} line {n} is not JSON: {exc}") from exc
                if not isinstance(row, dict):
                    raise InputError(f"{path} line {n} is not a JSON object")
                rows.append(row)
        return rows
    return _dataset_rows(str(path), max_rows)


def _dataset_rows(name: str, max_rows: int) -> list[dict[str, Any]]:
    from itertools import islice

    from datasets import load_dataset

    try:
        # Streaming reads only the rows shown, not a whole (possibly huge) dataset onto the disk.
        loaded = load_dataset(name, streaming=True)
        rows: list[dict[str, Any]] = []
        for split in loaded.values():
            rows += islice(split, max_rows - len(rows))
            if len(rows) >= max_rows:
                break
    except Exception as exc:  # missing repo, no data files, offline: one sentence
        raise InputError(f"could not load dataset {name}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
    return rows


def filter_transcripts(
    transcripts: Iterable[Transcript], task: str = "all", verdict: str = "all", code_calls: str = "any"
) -> list[int]:
    """Indices of the transcripts that pass the filters."""
    if verdict not in VERDICTS:
        raise InputError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    if code_calls not in CODE_CALLS:
        raise InputError(f"code calls must be one of {', '.join(CODE_CALLS)}, got {code_calls!r}")
    keep = []
    for i, t in enumerate(transcripts):
        if task not in ("all", "", None) and t.task != task:
            continue
        if verdict != "all" and t.verdict != verdict:
            continue
        if code_calls == "3+" and t.num_code_calls < 3:
            continue
        if code_calls not in ("any", "3+") and t.num_code_calls != int(code_calls):
            continue
        keep.append(i)
    return keep


def task_counts(transcripts: Sequence[Transcript]) -> list[list[Any]]:
    """Per task: transcripts, correct, wrong, mean code calls (rows of the counts table)."""
    by_task: dict[str, list[Transcript]] = defaultdict(list)
    for t in transcripts:
        by_task[t.task].append(t)
    rows = []
    for task in sorted(by_task):
        items = by_task[task]
        verdicts = Counter(t.verdict for t in items)
        mean_calls = sum(t.num_code_calls for t in items) / len(items)
        rows.append([task, len(items), verdicts["correct"], verdicts["wrong"], round(mean_calls, 2)])
    return rows
