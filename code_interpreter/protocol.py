"""The R1-Code-Interpreter protocol: prompt, stop rule, code and answer extraction, result text.

This module is the single owner of the text conventions that trained checkpoints rely on, so the
SFT data, GRPO rollouts, evaluation and the demo all agree byte for byte.

Interpreter output as the model and a terminal see it
------------------------------------------------------
`ExecutionResult` keeps the raw text; everything rendered from it (`format_output`,
`render_result`, transcripts printed to a terminal) goes through `escape_controls`, here and only
here, so the local and E2B backends look the same:

* Carriage returns follow Python's universal newlines: ``\\r\\n`` and a lone ``\\r`` become ``\\n``
  (what ``subprocess.run(..., text=True)`` shows). A progress bar's redraws become lines, which
  the middle truncation bounds; nothing the program printed is lost.
* Every other control or invisible format character except ``\\n`` and ``\\t`` is written as its
  Python escape, lower-case hex: ``\\x1b``, ``\\x00``, ``\\u202e``, ``\\udc80``, ``\\U000e0041``.
  That covers C0, DEL and C1 (so ANSI CSI colours and OSC-52 clipboard writes show as text like
  ``\\x1b[31m``), bidi overrides and isolates, zero-width characters, BOM, tag characters, lone
  surrogates and the Unicode line/paragraph separators: the categories Cc, Cf, Cs, Zl, Zp, frozen
  in `CONTROL_RANGES` so the rendering does not change with the Python version. The escape is
  idempotent and deliberately not reversible (backslashes are not doubled, so paths and regexes
  print as they are; undecodable bytes already arrive as ``\\xNN`` from the local sandbox).

In the model's context `render_result` also makes the inserted block inert: a line that would be a
markdown fence gets a backslash before its backticks (``\\```python``), and, under the default
answer rule, every ``<`` or ``>`` in a run of three or more is written ``\\<`` / ``\\>``. So an
inserted block can neither open nor close a code block, nor hold an answer marker.

Where the final answer comes from
---------------------------------
The answer is the last ``<<<...>>>`` in text the model wrote, outside python code. Text the
interpreter inserted never supplies it, and a pair whose ``<<<`` and ``>>>`` lie on both sides of a
closed python block or an inserted block is not an answer (a model never needs one that way, and
otherwise the pair would enclose the output).

* Spans known (episodes, traces, GRPO rollouts): ``extract_answer(text, inserted_spans=...)``
  reads only the text outside the spans. `Episode.answer` does this.
* Plain strings (``Task.score(completion, entry)``, reward functions given only text): an inserted
  block always follows the closing fence of a python block (the stop rule), so cutting the text
  after every closed python block separates each block from the model text before it. Where the
  block ends cannot be told from the string (a program can print anything, text that looks like
  the model's or like the template included), and need not be: the rendering above guarantees that
  a block holds no answer marker and no fence line, so the answer found in each piece is the
  model's, the same the spans give. This needs no template, so it survives custom templates and
  edits to the result lines; it is exact for completions rendered by this module. For text
  rendered elsewhere (raw markers in output) pass the spans.
* ``ProtocolConfig(answer_source="anywhere")`` is the looser rule some checkpoints were trained
  under: the last ``<<<...>>>`` anywhere outside code, inserted output included (and markers in
  output are then rendered unchanged). It is off by default; use it only to evaluate such
  checkpoints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
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
#: "model": answers come only from model-written text (default). "anywhere": the looser rule of
#: older checkpoints, inserted output included.
ANSWER_SOURCES = ("model", "anywhere")

PYTHON_LANGS = frozenset({"python", "py", "python3"})

#: Code points `escape_controls` escapes (inclusive ranges): Unicode categories Cc, Cf, Cs, Zl and
#: Zp as of Unicode 15, frozen so the model's context does not change with the Python version.
CONTROL_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C),
    (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E),
    (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F), (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip


def _escape_code_point(cp: int) -> str:
    if cp < 0x100:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


@lru_cache(maxsize=1)
def _control_table() -> dict[int, str]:
    table = {cp: _escape_code_point(cp) for lo, hi in CONTROL_RANGES for cp in range(lo, hi + 1)}
    del table[ord("\t")], table[ord("\n")]
    table[ord("\r")] = "\n"  # "\r\n" is folded first, so this is a lone carriage return
    return table


def escape_controls(text: str) -> str:
    """`text` with carriage returns as newlines and every other control or invisible format
    character except newline and tab written as its Python escape (see the module docstring).

    Linear time, idempotent; the result holds no character of `CONTROL_RANGES` but "\\n" and "\\t".
    """
    return text.replace("\r\n", "\n").translate(_control_table())


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
    answer_source: str = "model"
    """Where the final answer may come from: "model" (default) or "anywhere" (see the module docstring)."""

    def __post_init__(self) -> None:
        if self.version not in MAX_CODE_CALLS:
            raise ValueError(f"protocol version must be one of {sorted(MAX_CODE_CALLS)}, got {self.version!r}")
        _check_template(self.result_template)
        if self.timeout_s <= 0 or self.max_output_chars <= 0 or self.max_output_tokens <= 0:
            raise ValueError("timeout_s, max_output_chars and max_output_tokens must be positive")
        if self.max_code_calls is not None and self.max_code_calls < 0:
            raise ValueError(
                f"max_code_calls must be at least 0 (or None for the version's cap), got {self.max_code_calls}"
            )
        if self.answer_source not in ANSWER_SOURCES:
            raise ValueError(f"answer_source must be one of {ANSWER_SOURCES}, got {self.answer_source!r}")

    @property
    def code_call_cap(self) -> int:
        """Code calls allowed per episode: `max_code_calls` when set, else the version's cap."""
        return self.max_code_calls if self.max_code_calls is not None else MAX_CODE_CALLS[self.version]

    def extract_answer(self, text: str, inserted_spans: Sequence[Sequence[int]] | None = None) -> str | None:
        """`extract_answer` under this config's answer rule."""
        return extract_answer(text, inserted_spans=inserted_spans, answer_source=self.answer_source)


def _check_template(template: str) -> None:
    """Refuse a result template whose block could join the model's text into a fence line or an
    answer marker (the guarantees the answer rule relies on)."""
    if not isinstance(template, str) or template.count("{output}") != 1:
        raise ValueError("result_template must contain the placeholder {output} exactly once")
    if escape_controls(template) != template:
        raise ValueError("result_template must not contain control characters other than newline and tab")
    try:
        prefix, suffix = template.format(output="\0").split("\0")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(
            f"result_template may hold no placeholder but {{output}} (write braces as {{{{ }}}}): {exc}"
        ) from exc
    if not prefix.startswith("\n") or not suffix.endswith("\n"):
        raise ValueError(
            "result_template must start and end with a newline, so the closing fence before it stays a "
            "fence line and the model continues on a line of its own"
        )
    if "```" in template or "<<<" in template or ">>>" in template or prefix[-1] in "<>" or suffix[0] in "<>":
        raise ValueError("result_template must not contain ``` or answer markers, nor put '<' or '>' next to {output}")


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


# What may follow the ``` of a fence line: a language, then \r\n, \r, \n or the end of the text.
# Written so that no two quantifiers compete for the same characters: the obvious
# `[ \t]*([lang]*)[ \t]*$` backtracks quadratically on "```" and a long run of spaces, and the stop
# rule runs on every generated chunk.
_FENCE_TAIL = re.compile(r"[ \t]*(?:([A-Za-z0-9_+\-.]+)[ \t]*)?(\r\n?|\n|\Z)")
_BACKTICKS = re.compile(r"`*")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")  # where str.splitlines breaks


def _raw_blocks(text: str) -> Iterator[tuple[str, int, int, int, int | None]]:
    """(language, block start, body start, body end, block end or None if unclosed) per fenced block.

    A fence is a line holding only ``` and a language. Linear time: each run of spaces or backticks
    is read once, and text without ``` costs one `str.find`.
    """
    find, tail, backticks, breaks = text.find, _FENCE_TAIL.match, _BACKTICKS.match, _LINE_BREAKS
    open_lang: str | None = None
    open_start = body_start = 0
    i = find("```")
    while i != -1:
        start = i
        while start and text[start - 1] in " \t":
            start -= 1
        m = tail(text, i + 3) if start == 0 or text[start - 1] in breaks else None
        if m is None:
            # No fence starts inside this run of backticks: a longer run is not a fence.
            i = find("```", backticks(text, i).end())
            continue
        lang = m.group(1) or ""
        if open_lang is None:
            open_lang, open_start, body_start = lang, start, m.end()
        elif not lang:
            yield open_lang, open_start, body_start, start, m.start(2)
            open_lang = None
        i = find("```", m.end())
    if open_lang is not None:
        yield open_lang, open_start, body_start, len(text), None


def _scan_blocks(text: str) -> Iterator[CodeBlock]:
    for lang, start, body_start, body_end, end in _raw_blocks(text):
        yield CodeBlock(lang, text[body_start:body_end], start, end)


def _python_spans(text: str) -> Iterator[tuple[int, int | None]]:
    """(start, end or None if unclosed) of each python block, without building `CodeBlock`s."""
    for lang, start, _, _, end in _raw_blocks(text):
        if lang in PYTHON_LANGS or lang.lower() in PYTHON_LANGS:
            yield start, end


def iter_blocks(text: str) -> list[CodeBlock]:
    """Fenced blocks in `text`, markdown-style: a fence is a line holding only ``` and a language.

    Backticks inside a code line (``print("```")``) are not fences, so they never close a block.
    Linear time.
    """
    return list(_scan_blocks(text))


def first_closed_python(text: str) -> CodeBlock | None:
    """The first python block of `text` that has its closing fence: the one the stop rule runs."""
    return next((b for b in _scan_blocks(text) if b.is_python and b.end is not None), None)


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
    for start, end in _python_spans(text):
        out.append(text[pos:start])
        pos = end if end is not None else len(text)
    out.append(text[pos:])
    return "".join(out)


def model_regions(text: str, *, inserted_spans: Sequence[Sequence[int]] | None = None) -> list[str]:
    """The stretches of `text` an answer may come from, in order, python code removed; an answer never
    spans two of them.

    The text outside `inserted_spans` ((start, end) character spans the interpreter inserted, sorted;
    all of `text` when None), cut after every closed python block: the interpreter's output, when it
    was inserted, follows such a block (see the module docstring).
    """
    if inserted_spans is None:
        return [r for r in _code_free_regions(text) if r]
    regions: list[str] = []
    pos = 0
    for span in inserted_spans:
        try:
            a, b = (int(x) for x in span)
        except (TypeError, ValueError):
            raise ValueError(f"inserted_spans must hold (start, end) pairs of integers, got {span!r}") from None
        if not pos <= a <= b <= len(text):
            raise ValueError(
                f"inserted_spans must be sorted, non-overlapping spans within the text (length {len(text)}); "
                f"got {span!r} after position {pos}"
            )
        regions += _code_free_regions(text[pos:a])
        pos = b
    return [r for r in regions + _code_free_regions(text[pos:]) if r]


def _code_free_regions(text: str, *, cut: bool = True) -> list[str]:
    """`text` without python code, cut after each closed python block (when `cut`); one scan."""
    regions, current, pos = [], [], 0
    for start, end in _python_spans(text):
        current.append(text[pos:start])
        pos = len(text) if end is None else end
        if cut and end is not None:
            regions.append("".join(current))
            current = []
    current.append(text[pos:])
    regions.append("".join(current))
    return regions


_GT_RUN = re.compile(">*")


def _last_marked(text: str) -> str | None:
    """The content of the last <<<...>>> in `text`, in linear time."""
    close = text.rfind(">>>")
    start = text.rfind("<<<", 0, close) if close != -1 else -1
    if start == -1:
        return None
    end = text.find(">>>", start + 3)
    # A run of more than three '>' closes with its last three: "<<<] >>>>" holds "] >".
    end = _GT_RUN.match(text, end + 3).end() - 3
    return text[start + 3 : end].strip()


def extract_answer(
    text: str, *, inserted_spans: Sequence[Sequence[int]] | None = None, answer_source: str = "model"
) -> str | None:
    """The final answer: the content of the last <<<...>>> the model wrote outside python code,
    stripped; None when there is none. Linear time in `len(text)`.

    Pass `inserted_spans` when they are known (episodes, GRPO rollouts); a plain completion is read
    as the module docstring says. `answer_source="anywhere"` reads answers the looser way, inserted
    output included, for evaluating checkpoints trained under that rule.
    """
    if not isinstance(text, str):
        raise TypeError(f"extract_answer needs the completion as a str, got {type(text).__name__}")
    if answer_source not in ANSWER_SOURCES:
        raise ValueError(f"answer_source must be one of {ANSWER_SOURCES}, got {answer_source!r}")
    if answer_source == "anywhere":
        regions = _code_free_regions(text, cut=False)
    else:
        regions = model_regions(text, inserted_spans=inserted_spans)
    for region in reversed(regions):
        answer = _last_marked(region)
        if answer is not None:
            return answer
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
    """The interpreter's answer as the model sees it: stdout, then errors, or a timeout notice.

    Control characters are escaped (`escape_controls`), so the text is safe to show anywhere.
    """
    stdout, stderr = escape_controls(stdout), escape_controls(stderr)
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


_FENCE_START = re.compile(r"^([ \t]*)(?=```)", re.MULTILINE)
_MARKER_RUN = re.compile(r"<{3,}|>{3,}")


def _inert(text: str, *, markers: bool) -> str:
    """`text` escaped so that, inside the model's context, it holds no control character, no fence
    line and (with `markers`) no answer marker. Idempotent."""
    text = _FENCE_START.sub(r"\1\\", escape_controls(text))
    if markers:
        text = _MARKER_RUN.sub(lambda m: "\\" + "\\".join(m.group()), text)
    return text


def render_result(output: str, config: ProtocolConfig = ProtocolConfig(), tokenizer: Any = None) -> tuple[str, bool]:
    """Escape and truncate `output` per `config` and wrap it in the result template; returns
    (text, truncated). The block is inert in the model's context (see the module docstring)."""
    markers = config.answer_source == "model"
    body, truncated = truncate_middle(
        _inert(output, markers=markers), config.max_output_chars, tokenizer, config.max_output_tokens
    )
    # Again after the cut: a cut can start a line inside "\```", and decoding a token slice is not
    # guaranteed to give back a substring.
    return config.result_template.format(output=_inert(body, markers=markers)), truncated


def build_messages(question: str, config: ProtocolConfig = ProtocolConfig()) -> list[dict[str, str]]:
    """Chat messages that open an episode."""
    return [{"role": "system", "content": config.system_prompt}, {"role": "user", "content": question}]
