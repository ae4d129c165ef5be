"""One R1-CI assistant turn as chat messages, for the live chat and the Browse tab alike.

A turn is a list of segments (`code_interpreter.episode.Segment` as dicts): model text, possibly
ending in a python block, and the interpreter output inserted after it. Each python block becomes a
collapsible "Code" message with its output nested under it (gradio's `metadata.parent_id`), the
final `<<<answer>>>` gets a message of its own, and why the turn ended is said when it is not a
plain answer.

Everything shown was written by a model or printed by its code, so it is hostile: control and
invisible characters are escaped (`escape_controls`), code and output go into fences longer than
any backtick run they hold (so they cannot close their block), HTML tags in prose are written as
text, and markdown images are disarmed (a remote image would make every viewer's browser fetch a
URL the model chose). The messages are plain dicts that `gr.Chatbot` accepts, so this module needs
no gradio.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Any

from code_interpreter.protocol import escape_controls, iter_blocks

#: Phases of a live turn: the model is writing ("generating"), its last block runs ("running"), or
#: the turn is over ("done").
PHASES = ("generating", "running", "done")

FINISH_NOTES = {
    "no_answer": "The model ended its turn without a final <<<answer>>>.",
    "length": "The token budget ran out before a final answer.",
    "max_code_calls": "The code-call cap was reached; the last block was not run.",
    "generator_error": "Generation failed.",
    "sandbox_error": "The sandbox failed to run the code.",
    "stopped": "Stopped.",
}

_BACKTICK_RUN = re.compile(r"`+")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_TEMPLATE_LABEL = re.compile(r"^\s*Code Execution Results:\s?")


def fenced(text: str, lang: str = "") -> str:
    """`text` as a fenced block that nothing inside can close (control characters escaped)."""
    text = escape_controls(text)
    longest = max((len(m.group()) for m in _BACKTICK_RUN.finditer(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def safe_markdown(text: str) -> str:
    """Model prose as markdown that renders no HTML and fetches no image; code spans stay as they are."""
    text = escape_controls(text)
    out, pos = [], 0
    for start, end in code_spans(text):
        out.append(_disarm(text[pos:start]))
        out.append(text[start:end])
        pos = end
    out.append(_disarm(text[pos:]))
    return "".join(out)


def code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of markdown code spans: a backtick run up to the next run of the same length.

    O(n log n): a regex with a backreference (`(`+).+?\\1`) takes cubic time on a long run of
    backticks, which a model can write to stall the page.
    """
    runs = [(m.start(), m.end()) for m in _BACKTICK_RUN.finditer(text)]
    by_length: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(runs):
        by_length.setdefault(b - a, []).append(i)
    spans, i = [], 0
    while i < len(runs):
        a, b = runs[i]
        same = by_length[b - a]
        j = bisect.bisect_right(same, i)
        if j < len(same):
            close = same[j]
            spans.append((a, runs[close][1]))
            i = close + 1
        else:
            i += 1
    return spans


def _disarm(prose: str) -> str:
    return _TAG_START.sub("&lt;", prose).replace("![", "!\\[")


def _message(content: str, *, title: str | None = None, role: str = "assistant", **metadata: Any) -> dict[str, Any]:
    meta = {k: v for k, v in metadata.items() if v is not None}
    if title is not None:
        meta["title"] = title
    return {"role": role, "content": content, "metadata": meta}


def output_text(segment_text: str) -> str:
    """The interpreter output of an inserted segment, without the result template's label."""
    return _TEMPLATE_LABEL.sub("", segment_text, count=1).strip("\n")


def _execution_log(execution: dict[str, Any] | None) -> tuple[str | None, float | None]:
    if not execution:
        return None, None
    duration = execution.get("duration_s")
    if execution.get("timed_out"):
        log = "timed out"
    elif execution.get("error"):
        log = "sandbox error"
    else:
        log = f"exit {execution.get('exit_code')}"
    if execution.get("truncated"):
        log += " · truncated"
    return log, round(float(duration), 3) if isinstance(duration, int | float) else None


def turn_messages(
    segments: Sequence[dict[str, Any]],
    *,
    phase: str = "done",
    answer: str | None = None,
    finish_reason: str | None = None,
    error: str | None = None,
    key: str = "t",
) -> list[dict[str, Any]]:
    """Chat messages for one assistant turn; `key` keeps message ids unique across turns of one chat."""
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    messages: list[dict[str, Any]] = []
    calls = 0
    last_code: dict[str, Any] | None = None
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg.get("role") == "interpreter":
            log, duration = _execution_log(seg.get("execution"))
            if last_code is not None:
                last_code["metadata"].pop("status", None)
                last_code["metadata"]["title"] = f"Code · call {calls}"
                if duration is not None:
                    last_code["metadata"]["duration"] = duration
            messages.append(
                _message(
                    fenced(output_text(seg.get("text", "")) or "(no output)"),
                    title="Output",
                    log=log,
                    id=f"{key}-out-{calls}",
                    parent_id=last_code["metadata"]["id"] if last_code else None,
                )
            )
            last_code = None
            continue
        text = seg.get("text", "")
        pos = 0
        for block in iter_blocks(text):
            if not block.is_python:
                continue
            prose = text[pos : block.start]
            if prose.strip():
                messages.append(_message(safe_markdown(prose)))
            calls += 1
            if block.end is None:
                writing = last and phase == "generating"
                title, status = ("Writing code…", "pending") if writing else ("Unfinished code (not run)", None)
            elif last and phase == "running":
                title, status = "Running…", "pending"
            elif last and finish_reason == "max_code_calls":
                title, status = "Code (not run: code-call cap reached)", None
            else:
                title, status = f"Code · call {calls}", None
            last_code = _message(fenced(block.code, "python"), title=title, status=status, id=f"{key}-code-{calls}")
            messages.append(last_code)
            pos = len(text) if block.end is None else block.end
        rest = text[pos:]
        if rest.strip():
            messages.append(_message(safe_markdown(rest)))
    if phase == "generating" and not (messages and messages[-1]["metadata"].get("status") == "pending"):
        messages.append(_message("", title="Thinking…", status="pending", id=f"{key}-thinking"))
    if phase == "done":
        if answer is not None:
            messages.append(_message(fenced(answer), title="Final answer", id=f"{key}-answer"))
        if finish_reason not in (None, "answer"):
            note = FINISH_NOTES.get(finish_reason, f"The turn ended: {finish_reason}.")
            detail = f"\n\n{fenced(error)}" if error else ""
            messages.append(_message(note + detail, title=f"Ended: {finish_reason}", id=f"{key}-end"))
    return messages


def verdict_message(score: float | None, reference: str | None, *, key: str = "t", reason: str | None = None) -> dict:
    """The verifier's verdict on a turn, or why there is none."""
    if score is None:
        return _message(safe_markdown(reason or "No verdict."), title="Verdict: none", id=f"{key}-verdict")
    word = "correct" if score >= 1.0 else ("partly correct" if score > 0 else "wrong")
    body = f"Score {score:g} by the task's verifier."
    if reference is not None:
        body += f" One correct answer:\n\n{fenced(reference)}"
    return _message(body, title=f"Verdict: {word}", id=f"{key}-verdict")


def user_message(question: str) -> dict[str, Any]:
    return _message(safe_markdown(question), role="user")


def note_message(text: str, *, title: str, key: str = "t") -> dict[str, Any]:
    """A notice in the chat (a model that failed to load, an endpoint that is down), never a dead page."""
    return _message(safe_markdown(text), title=title, id=f"{key}-note")


_STOPPED_TITLES = {
    "Running…": "Code (stopped while running)",
    "Writing code…": "Code (stopped while being written)",
    "Thinking…": "Stopped while generating",
    "Loading the model…": "Stopped while loading the model",
}


def settle(messages: Sequence[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    """`messages` with every spinner stopped and `note` appended: the chat after a stop button."""
    out = []
    for m in messages:
        meta = dict(m.get("metadata") or {})
        if meta.get("status") == "pending":
            meta.pop("status")
            meta["title"] = _STOPPED_TITLES.get(meta.get("title", ""), meta.get("title", ""))
        out.append({**m, "metadata": meta})
    return [*out, _message(note, title="Stopped", id=f"stop-{len(out)}")]
