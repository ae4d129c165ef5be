"""The R1-Code-Interpreter protocol: prompt, stop rule, code and answer extraction, result text.

This module is the single owner of the text conventions that trained checkpoints rely on, so the
SFT data, GRPO rollouts, evaluation and the demo all agree byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SYSTEM_PROMPT = """\
You are a helpful assistant that solves problems by reasoning step by step. Whenever computation, \
search, enumeration or checking would help, you may write Python code.

To run code, write one complete Python script in a block that starts with ```python and ends \
with ```. A code query must be a single self-contained script that prints everything you need \
to see. Once the script is complete, stop: the interpreter runs it and returns its output and \
errors as "Code Execution Results: ...", and then you continue reasoning. You may query the \
interpreter several times, or not at all if reasoning in text is enough.

At the end of your response, give the final answer in the format <<<answer content>>>."""

RESULT_TEMPLATE = "\nCode Execution Results: {output}\n"
"""Text appended after a closed python block; `{output}` is the (truncated) interpreter output."""

#: The paper's per-call execution timeout.
DEFAULT_TIMEOUT_S = 60.0
#: Cap on code calls per episode: R1-CI v1 allowed 5, v2 allows 8.
MAX_CODE_CALLS = {"v1": 5, "v2": 8}
DEFAULT_MAX_OUTPUT_CHARS = 2000
DEFAULT_MAX_OUTPUT_TOKENS = 512

PYTHON_LANGS = frozenset({"python", "py", "python3"})
_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+\-.]*)[ \t]*$")


@dataclass(frozen=True)
class ProtocolConfig:
    """Parameters of the interaction; the defaults follow the paper."""

    version: str = "v2"
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_code_calls: int | None = None
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    system_prompt: str = SYSTEM_PROMPT
    result_template: str = RESULT_TEMPLATE

    def __post_init__(self) -> None:
        if self.version not in MAX_CODE_CALLS:
            raise ValueError(f"protocol version must be one of {sorted(MAX_CODE_CALLS)}, got {self.version!r}")
        if "{output}" not in self.result_template:
            raise ValueError("result_template must contain the placeholder {output}")
        if self.timeout_s <= 0 or self.max_output_chars <= 0 or self.max_output_tokens <= 0:
            raise ValueError("timeout_s, max_output_chars and max_output_tokens must be positive")
        if self.max_code_calls is not None and self.max_code_calls < 0:
            raise ValueError(
                f"max_code_calls must be at least 0 (or None for the version's cap), got {self.max_code_calls}"
            )

    @property
    def code_call_cap(self) -> int:
        """Code calls allowed per episode: `max_code_calls` when set, else the version's cap."""
        return self.max_code_calls if self.max_code_calls is not None else MAX_CODE_CALLS[self.version]


@dataclass(frozen=True)
class CodeBlock:
    """A fenced block; `start`/`end` span the whole block, fences included; `end` is None if unclosed."""

    lang: str
    code: str
    start: int
    end: int | None

    @property
    def is_python(self) -> bool:
        return self.lang.lower() in PYTHON_LANGS


def iter_blocks(text: str) -> list[CodeBlock]:
    """Fenced blocks in `text`, markdown-style: a fence is a line holding only ``` and a language.

    Backticks inside a code line (``print("```")``) are not fences, so they never close a block.
    """
    blocks: list[CodeBlock] = []
    pos = 0
    open_lang: str | None = None
    open_start = body_start = 0
    for line in text.splitlines(keepends=True):
        m = _FENCE.match(line.rstrip("\r\n"))
        if m:
            if open_lang is None:
                open_lang, open_start, body_start = m.group(1), pos, pos + len(line)
            elif not m.group(1):
                end = pos + len(line.rstrip("\r\n"))
                blocks.append(CodeBlock(open_lang, text[body_start:pos], open_start, end))
                open_lang = None
        pos += len(line)
    if open_lang is not None:
        blocks.append(CodeBlock(open_lang, text[body_start:], open_start, None))
    return blocks


def first_closed_python(text: str) -> CodeBlock | None:
    """The first python block of `text` that has its closing fence: the one the stop rule runs."""
    return next((b for b in iter_blocks(text) if b.is_python and b.end is not None), None)


def find_stop(text: str) -> int | None:
    """Index just past the closing fence of the first closed python block, or None.

    This is the stop rule: generation ends there, the block runs, and its output follows.
    """
    block = first_closed_python(text)
    return None if block is None else block.end


def truncate_at_stop(text: str) -> tuple[str, bool]:
    """Cut `text` at the stop point; returns (text, stopped). Text a backend produced past the
    closing fence (a backend that ignores stop strings) is dropped, as if it had stopped."""
    stop = find_stop(text)
    return (text, False) if stop is None else (text[:stop], True)


def strip_code(text: str) -> str:
    """`text` with the bodies of python blocks removed (used so `<<<` in code is not an answer)."""
    out, pos = [], 0
    for block in iter_blocks(text):
        if block.is_python:
            out.append(text[pos : block.start])
            pos = block.end if block.end is not None else len(text)
    out.append(text[pos:])
    return "".join(out)


def extract_answer(text: str) -> str | None:
    """The content of the last <<<...>>> outside python code, stripped; None when there is none."""
    text = strip_code(text)
    start = text.rfind("<<<")
    while start != -1:
        end = text.find(">>>", start + 3)
        if end != -1:
            # A run of more than three '>' closes with its last three: "<<<] >>>>" holds "] >".
            while text.startswith(">", end + 3):
                end += 1
            return text[start + 3 : end].strip()
        start = text.rfind("<<<", 0, start)
    return None


def truncate_middle(
    text: str, max_chars: int, tokenizer: Any = None, max_tokens: int | None = None
) -> tuple[str, bool]:
    """Keep the head and tail of long output, bounded in characters and (with a tokenizer) tokens.

    The middle is replaced by a marker saying how much was dropped, so the model can tell the output
    was cut. Returns (text, truncated).
    """
    truncated = False
    if len(text) > max_chars:
        text = _cut(text, max_chars, len(text) - max_chars, "characters")
        truncated = True
    if tokenizer is not None and max_tokens is not None:
        ids = tokenizer.encode(text, add_special_tokens=False)
        if len(ids) > max_tokens:
            head = tokenizer.decode(ids[: max_tokens // 2])
            tail = tokenizer.decode(ids[len(ids) - max_tokens // 2 :])
            text = f"{head}\n... [{len(ids) - max_tokens} tokens truncated] ...\n{tail}"
            truncated = True
    return text, truncated


def _cut(text: str, keep: int, dropped: int, unit: str) -> str:
    head = keep // 2
    tail = keep - head
    return f"{text[:head]}\n... [{dropped} {unit} truncated] ...\n{text[len(text) - tail :]}"


def format_output(stdout: str, stderr: str = "", *, timed_out: bool = False, timeout_s: float | None = None) -> str:
    """The interpreter's answer as the model sees it: stdout, then errors, or a timeout notice."""
    parts = [stdout.rstrip("\n")] if stdout.strip() else []
    if stderr.strip():
        parts.append(stderr.rstrip("\n"))
    if timed_out:
        parts.append(
            f"TimeoutError: execution exceeded the time limit of {timeout_s:g} s"
            if timeout_s
            else "TimeoutError: execution timed out"
        )
    return "\n".join(parts) if parts else "(no output)"


def render_result(output: str, config: ProtocolConfig = ProtocolConfig(), tokenizer: Any = None) -> tuple[str, bool]:
    """Truncate `output` per `config` and wrap it in the result template; returns (text, truncated)."""
    body, truncated = truncate_middle(output, config.max_output_chars, tokenizer, config.max_output_tokens)
    return config.result_template.format(output=body), truncated


def build_messages(question: str, config: ProtocolConfig = ProtocolConfig()) -> list[dict[str, str]]:
    """Chat messages that open an episode."""
    return [{"role": "system", "content": config.system_prompt}, {"role": "user", "content": question}]
