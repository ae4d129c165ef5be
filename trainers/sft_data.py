"""SFT traces -> `input_ids` + `labels` for TRL's `SFTTrainer`, with interpreter output masked.

A trace row (`r1ci traces build`) holds `messages` (system, user, and one assistant message with the
whole turn, interpreter output included) and `inserted_spans`, the `[start, end)` character spans of
that assistant content which the interpreter inserted. The loss may only see what the model wrote.

Why we tokenize piece by piece instead of masking a whole-text tokenization by offsets
------------------------------------------------------------------------------------------
The Qwen pre-tokenizer glues punctuation to the newlines after it, so the closing fence the model
wrote and the newline the result template starts with become one token (`` `\\n ``) in a whole-text
tokenization: no token boundary falls where model text ends, and any offset-mapping rule would
either train on an interpreter character or drop a model one. The episode loop (eval, GRPO) does
not see such tokens either: it keeps the ids the model generated and appends
`tokenizer.encode(inserted_text)`. So each trace is cut at its spans and every piece is encoded on
its own, which gives the token layout the model meets at inference; the supervised tokens then
decode to the model-written text character for character (tested). Content is encoded with
`split_special_tokens=True`, so text such as "<|im_end|>" printed by a snippet or written by the
teacher stays plain characters and never becomes an end-of-turn token inside the turn.

Layout of one example, with what is supervised (labels = ids) or masked (-100):

    prompt: chat template of the context with the generation prompt   masked
    model-written piece                                               supervised
    interpreter-inserted piece                                        masked
    ... (alternating, as in the trace)
    the template's end of the assistant turn, up to the eos token     supervised (the model learns to stop)
    whatever the template puts after the eos token ("\\n")            masked

The context is tokenized with `apply_chat_template(..., add_generation_prompt=True)`, the call the
episode loop makes, and the template must render the assistant content verbatim right after it
(checked once per tokenizer).

Over-long traces (more than `max_trace_length` tokens): "drop" (default) leaves them out, because
a truncated trace loses its final answer and its end-of-turn token and would teach the model to
ramble on; "truncate" keeps the first `max_trace_length` tokens when at least one supervised token
remains. Both are counted (`PrepStats`) and logged.

`weight` (> 1 for traces that use code several times or repair code) repeats a row
`max(1, round(weight))` times when `repeat_by_weight` is on (weights above `MAX_WEIGHT` are refused);
the trainer's shuffle spreads the copies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from code_interpreter.errors import InputError

IGNORE_INDEX = -100
REQUIRED_COLUMNS = ("messages", "inserted_spans")
OVERLONG_RULES = ("drop", "truncate")
#: A weight repeats its row; a huge one (a typo, a hostile dataset) would fill memory with copies.
MAX_WEIGHT = 100


class TraceInputError(InputError):
    """A trace dataset or tokenizer that cannot be trained on; the message names the row or file."""


@dataclass(frozen=True)
class TurnTemplate:
    """How the tokenizer's chat template closes an assistant turn: the text after the content, split at eos."""

    supervised_suffix: str  # e.g. "<|im_end|>": the model must learn to write it
    masked_suffix: str  # e.g. "\n": the template writes it, the model never generates it


@dataclass
class PrepStats:
    rows: int = 0
    kept: int = 0
    dropped_overlong: int = 0
    truncated: int = 0
    repeated: int = 0  # extra copies added by weight
    longest: int = 0
    supervised_tokens: int = 0
    total_tokens: int = 0
    lengths: list[int] = field(default_factory=list)

    def summary(self) -> str:
        share = self.supervised_tokens / max(1, self.total_tokens)
        return (
            f"{self.rows} traces: {self.kept} kept, {self.dropped_overlong} dropped as over-long, {self.truncated} "
            f"truncated, {self.repeated} copies added by weight; longest kept {self.longest} tokens; "
            f"{self.supervised_tokens} of {self.total_tokens} tokens supervised ({share:.0%})"
        )


def check_columns(column_names: Iterable[str], source: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in set(column_names)]
    if missing:
        raise TraceInputError(
            f"the dataset {source} has no {' or '.join(repr(c) for c in missing)} column; SFT needs trace rows "
            "from `r1ci traces build` (messages with one assistant turn, and the inserted_spans to mask)"
        )


def turn_template(tokenizer: Any, source: str) -> TurnTemplate:
    """Check that the chat template renders an assistant turn as prompt + content verbatim + suffix with eos."""
    if not getattr(tokenizer, "is_fast", False):
        raise TraceInputError(f"the tokenizer of {source} is not a fast tokenizer; load one with use_fast=True")
    if not getattr(tokenizer, "chat_template", None):
        raise TraceInputError(
            f"the tokenizer of {source} has no chat template; use an instruct model's tokenizer or set "
            "tokenizer.chat_template (e.g. Qwen2.5's)"
        )
    eos = tokenizer.eos_token
    # Leading and trailing whitespace catch templates that trim content (which would shift every span).
    probe = "\n Probe 1 ```python\nprint(2)\n```\nCode Execution Results: 2\n<<<2>>>\n"
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    try:
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": probe}], tokenize=False)
    except Exception as exc:  # a broken Jinja template raises many kinds of errors
        raise TraceInputError(f"the chat template of {source} cannot render a chat: {exc}") from None
    if not isinstance(full, str) or not full.startswith(prompt + probe):
        raise TraceInputError(
            f"the chat template of {source} does not render the assistant content verbatim after the generation "
            "prompt, so interpreter spans cannot be located in its tokens; use a template like Qwen2.5's"
        )
    suffix = full[len(prompt) + len(probe) :]
    if not eos or eos not in suffix:
        raise TraceInputError(
            f"the chat template of {source} does not end an assistant turn with the eos token {eos!r}, so the "
            "model could not learn to stop; set tokenizer.eos_token to the template's end-of-turn token"
        )
    cut = suffix.index(eos) + len(eos)
    return TurnTemplate(supervised_suffix=suffix[:cut], masked_suffix=suffix[cut:])


def model_pieces(row: dict[str, Any], index: int, source: str) -> tuple[list[dict[str, str]], list[tuple[str, bool]]]:
    """The context messages and the assistant content cut into (text, written_by_model) pieces."""
    messages = row.get("messages")
    where = f"row {index} of {source}"
    if not isinstance(messages, list) or len(messages) < 2 or not all(isinstance(m, dict) for m in messages):
        raise TraceInputError(f"{where}: 'messages' must be a list of at least two chat messages")
    if messages[-1].get("role") != "assistant" or not isinstance(messages[-1].get("content"), str):
        raise TraceInputError(f"{where}: the last message must be the assistant turn with string content")
    if any(m.get("role") == "assistant" for m in messages[:-1]):
        raise TraceInputError(
            f"{where}: only the last message may be the assistant's (a trace holds the whole turn in one message)"
        )
    content = messages[-1]["content"]
    spans = row.get("inserted_spans")
    if spans is None:
        spans = []
    pieces: list[tuple[str, bool]] = []
    at = 0
    for span in spans:
        ok = (
            isinstance(span, Sequence)
            and len(span) == 2
            and all(isinstance(x, int) and not isinstance(x, bool) for x in span)
        )
        if not ok or not (at <= span[0] < span[1] <= len(content)):
            raise TraceInputError(
                f"{where}: inserted span {list(span) if isinstance(span, Sequence) else span!r} does not fall inside "
                f"the assistant content ({len(content)} characters) after the previous span ending at {at}; spans "
                "must be sorted, non-overlapping [start, end) character offsets"
            )
        if span[0] > at:
            pieces.append((content[at : span[0]], True))
        pieces.append((content[span[0] : span[1]], False))
        at = span[1]
    if at < len(content):
        pieces.append((content[at:], True))
    if not any(written and text for text, written in pieces):
        raise TraceInputError(f"{where}: the assistant wrote nothing outside inserted spans")
    return [{"role": m["role"], "content": m["content"]} for m in messages[:-1]], pieces


def tokenize_trace(
    row: dict[str, Any], tokenizer: Any, template: TurnTemplate, *, index: int = 0, source: str = "the dataset"
) -> dict[str, list[int]]:
    """`input_ids` and `labels` (-100 outside model-written tokens) of one trace row."""
    context, pieces = model_pieces(row, index, source)
    prompt = tokenizer.apply_chat_template(context, add_generation_prompt=True, tokenize=True)
    input_ids = list(prompt["input_ids"] if hasattr(prompt, "keys") else prompt)
    labels = [IGNORE_INDEX] * len(input_ids)
    suffix = [(template.supervised_suffix, True, False), (template.masked_suffix, False, False)]
    for text, supervised, content in [*((t, s, True) for t, s in pieces), *suffix]:
        if not text:
            continue
        # Content never yields control tokens: "<|im_end|>" printed by a snippet or written in the text
        # stays characters; only the template's own markers are special tokens.
        ids = tokenizer.encode(text, add_special_tokens=False, split_special_tokens=content)
        input_ids += ids
        labels += ids if supervised else [IGNORE_INDEX] * len(ids)
    return {"input_ids": input_ids, "labels": labels}


def supervised_text(input_ids: Sequence[int], labels: Sequence[int], tokenizer: Any) -> str:
    """The text of the supervised tokens, in order (what the loss trains the model to write)."""
    return tokenizer.decode([i for i, lab in zip(input_ids, labels, strict=True) if lab != IGNORE_INDEX])


def prepare_traces(
    dataset: Any,
    tokenizer: Any,
    *,
    source: str,
    max_trace_length: int | None = None,
    overlong: str = "drop",
    repeat_by_weight: bool = True,
) -> tuple[Any, PrepStats]:
    """Validate every row, then tokenize: a `datasets.Dataset` with `input_ids` and `labels`, and counts.

    Every row is checked before any is returned, so bad input stops before training starts.
    """
    from datasets import Dataset

    if overlong not in OVERLONG_RULES:
        raise TraceInputError(f"overlong must be one of {', '.join(OVERLONG_RULES)}, got {overlong!r}")
    if max_trace_length is not None and max_trace_length < 2:
        raise TraceInputError(f"max_trace_length must be at least 2 tokens, got {max_trace_length}")
    check_columns(dataset.column_names, source)
    template = turn_template(tokenizer, f"the tokenizer for {source}")
    has_weight = "weight" in dataset.column_names
    stats = PrepStats(rows=len(dataset))
    examples: list[dict[str, list[int]]] = []
    for index, row in enumerate(dataset):
        example = tokenize_trace(row, tokenizer, template, index=index, source=source)
        copies = 1
        if repeat_by_weight and has_weight:
            weight = row["weight"]
            if not isinstance(weight, (int, float)) or not math.isfinite(weight) or not 0 <= weight <= MAX_WEIGHT:
                raise TraceInputError(
                    f"row {index} of {source}: weight must be a number from 0 to {MAX_WEIGHT} (it repeats the row), "
                    f"got {weight!r}; set repeat_by_weight=false to ignore weights"
                )
            copies = max(1, round(weight))
        n = len(example["input_ids"])
        if max_trace_length is not None and n > max_trace_length:
            if overlong == "drop":
                stats.dropped_overlong += 1
                continue
            example = {k: v[:max_trace_length] for k, v in example.items()}
            if all(lab == IGNORE_INDEX for lab in example["labels"]):
                stats.dropped_overlong += 1  # nothing the model wrote is left
                continue
            stats.truncated += 1
        stats.kept += 1
        stats.repeated += copies - 1
        examples += [example] * copies
    if not examples:
        raise TraceInputError(
            f"no trace of {source} fits in max_trace_length={max_trace_length} tokens; raise it or use "
            "overlong=truncate"
        )
    stats.lengths = [len(e["input_ids"]) for e in examples]
    stats.longest = max(stats.lengths)
    stats.total_tokens = sum(stats.lengths)
    stats.supervised_tokens = sum(sum(lab != IGNORE_INDEX for lab in e["labels"]) for e in examples)
    return Dataset.from_list(examples), stats
