"""`r1ci published traces`: the paper's multi-turn SFT traces imported into our traces format.

The paper trained with LLaMA-Factory, whose datasets come in two layouts:
- sharegpt: a `conversations` (or `messages`) list of `{"from": ..., "value": ...}` turns
  (`human`/`gpt`/`observation`/`system`, or `role`/`content` with `user`/`assistant`/`tool`),
  an optional `system` field;
- alpaca: `instruction`, `input`, `output`, optional `system` and `history` (a list of
  `[user, assistant]` pairs before the last exchange).
A `dataset_info.json` next to the files (LLaMA-Factory's index) is honoured: it names the files, their
formatting, and the column and role tags they use.

In a trace the first user turn is the question. Interpreter output appears in one of two ways, both
recovered: as separate turns (an `observation`/`tool` turn, or a user turn, between two assistant
turns; the assistant turn before it must end with a closed python block, since the interpreter
only answers such a block), or inside one assistant message as a fenced ```output block right
after a python block. Each output (unwrapped from a ```output fence or a leading
"Code Execution Results:") is re-rendered with our protocol's `render_result`, exactly what the
interpreter inserts at inference, and the assistant turns are joined into one assistant message;
`inserted_spans` gives the character spans of the inserted results, which SFT masks.

A record that cannot be read that way is reported with the reason (counted by kind, the first ones
shown), never dropped in silence: a user follow-up that does not answer a python block, a python
block with no result after it, a result written inline as "Code Execution Results: ..." with no
end marker (where it ends cannot be told; `--rerun-inline-results` runs the snippet again in the
local sandbox and finds it by what it prints), no final `<<<answer>>>` in model-written text, a
turn that is not text. The rows have the columns `r1ci traces build` writes (style "paper";
`completion_tokens` is null: the paper's token counts are unknown), so `trainers/sft.py` trains on
them unchanged.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from code_interpreter.errors import InputError, MissingInput
from code_interpreter.protocol import ProtocolConfig, extract_answer, iter_blocks, render_result
from hub_tools.errors import HubInputError

#: A traces file larger than this is refused (the paper's ~6.5k traces are tens of megabytes).
MAX_FILE_BYTES = 512 * 1024 * 1024
#: A record whose text is longer than this is reported instead of imported (a trace is a few
#: thousand tokens; a huge one would only be dropped as over-long by SFT).
MAX_RECORD_CHARS = 400_000
#: Problems shown on the terminal; all are counted.
SHOWN_PROBLEMS = 10
STYLE = "paper"
#: Problem kinds of a whole file (the others are one record's).
FILE_PROBLEMS = frozenset({"file too large", "malformed file", "no records", "unsafe file name"})

USER_ROLES = frozenset({"human", "user"})
ASSISTANT_ROLES = frozenset({"gpt", "assistant", "model", "bot"})
OBSERVATION_ROLES = frozenset({"observation", "tool", "function", "ipython", "interpreter", "execution"})
SYSTEM_ROLES = frozenset({"system"})

_OUTPUT_FENCE = re.compile(r"\A\s*```[ \t]*output[ \t]*\n(.*?)\n?[ \t]*```\s*\Z", re.DOTALL)
_RESULT_PREFIX = re.compile(r"\A\s*Code Execution Results:[ \t]?")
_INLINE_RESULT = re.compile(r"\A\s*Code Execution Results:")
_ERROR_LINE = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b", re.MULTILINE)


class TraceParseError(ValueError):
    """One record that cannot be imported; `kind` groups the report, the message says why."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Schema:
    """Column and role names of a file (LLaMA-Factory's `columns` and `tags`); defaults read both layouts."""

    formatting: str | None = None  # "sharegpt", "alpaca" or None (told per record)
    messages: str | None = None
    system: str = "system"
    prompt: str = "instruction"
    query: str = "input"
    response: str = "output"
    history: str = "history"
    role_tag: str | None = None
    content_tag: str | None = None
    roles: dict[str, str] = field(default_factory=dict)  # source role -> ours

    @classmethod
    def from_dataset_info(cls, info: dict[str, Any]) -> Schema:
        schema = cls(formatting=info.get("formatting") if isinstance(info.get("formatting"), str) else None)
        columns = info.get("columns") if isinstance(info.get("columns"), dict) else {}
        tags = info.get("tags") if isinstance(info.get("tags"), dict) else {}
        for ours, theirs in (("messages", "messages"), ("system", "system"), ("prompt", "prompt"),
                             ("query", "query"), ("response", "response"), ("history", "history")):  # fmt: skip
            if isinstance(columns.get(theirs), str):
                setattr(schema, ours, columns[theirs])
        schema.role_tag = tags.get("role_tag") if isinstance(tags.get("role_tag"), str) else None
        schema.content_tag = tags.get("content_tag") if isinstance(tags.get("content_tag"), str) else None
        for tag, ours in (("user_tag", "user"), ("assistant_tag", "assistant"), ("observation_tag", "tool"),
                          ("system_tag", "system")):  # fmt: skip
            if isinstance(tags.get(tag), str):
                schema.roles[tags[tag]] = ours
        return schema

    def role(self, name: Any) -> str | None:
        if not isinstance(name, str):
            return None
        if name in self.roles:
            return self.roles[name]
        lowered = name.lower()
        for roles, ours in ((USER_ROLES, "user"), (ASSISTANT_ROLES, "assistant"), (OBSERVATION_ROLES, "tool"),
                            (SYSTEM_ROLES, "system")):  # fmt: skip
            if lowered in roles:
                return ours
        return None


@dataclass(frozen=True)
class Turn:
    role: str  # system, user, assistant, tool
    text: str


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TraceParseError("not text", f"{what} is a {type(value).__name__}, expected text")
    return value


def record_turns(record: Any, schema: Schema) -> tuple[str, list[Turn]]:
    """(format, turns) of one sharegpt or alpaca record."""
    if not isinstance(record, dict):
        raise TraceParseError("not a record", f"a {type(record).__name__}, expected a JSON object")
    keys = [schema.messages] if schema.messages else ["conversations", "messages"]
    key = next((k for k in keys if k in record), None)
    if schema.formatting == "sharegpt" or (schema.formatting is None and key is not None):
        if key is None or not isinstance(record[key], list):
            raise TraceParseError("no turns", f"expected a list of turns under {' or '.join(repr(k) for k in keys)}")
        turns = []
        if record.get(schema.system):
            turns.append(Turn("system", _text(record[schema.system], f"field {schema.system!r}")))
        for i, item in enumerate(record[key]):
            if not isinstance(item, dict):
                raise TraceParseError("not a turn", f"turn {i} is a {type(item).__name__}, expected an object")
            role_key = schema.role_tag or ("from" if "from" in item else "role")
            content_key = schema.content_tag or ("value" if "value" in item else "content")
            role = schema.role(item.get(role_key))
            if role is None:
                raise TraceParseError(
                    "unknown role",
                    f"turn {i} has the role {str(item.get(role_key))[:40]!r}, expected one of human/user, gpt/assistant, "
                    "observation/tool or system",
                )
            turns.append(Turn(role, _text(item.get(content_key), f"turn {i}'s {content_key!r}")))
        return "sharegpt", turns
    if schema.formatting == "alpaca" or (schema.formatting is None and schema.prompt in record):
        turns = []
        if record.get(schema.system):
            turns.append(Turn("system", _text(record[schema.system], f"field {schema.system!r}")))
        history = record.get(schema.history) or []
        if not isinstance(history, list):
            raise TraceParseError(
                "no turns", f"field {schema.history!r} is a {type(history).__name__}, expected a list"
            )
        for i, pair in enumerate(history):
            if not isinstance(pair, list) or len(pair) != 2:
                raise TraceParseError("not a turn", f"history item {i} should be a [user, assistant] pair")
            turns += [Turn("user", _text(pair[0], f"history {i}")), Turn("assistant", _text(pair[1], f"history {i}"))]
        prompt = _text(record.get(schema.prompt), f"field {schema.prompt!r}")
        query = record.get(schema.query) or ""
        user = f"{prompt}\n{_text(query, f'field {schema.query!r}')}" if query else prompt
        turns += [
            Turn("user", user),
            Turn("assistant", _text(record.get(schema.response), f"field {schema.response!r}")),
        ]
        return "alpaca", turns
    raise TraceParseError(
        "unknown layout",
        "neither sharegpt (a 'conversations' or 'messages' list) nor alpaca ('instruction'/'output' fields)",
    )


def output_text(value: str) -> str:
    """The program output a result turn holds, without a ```output fence or a 'Code Execution Results:' label."""
    fenced = _OUTPUT_FENCE.match(value)
    if fenced:
        return fenced.group(1)
    return _RESULT_PREFIX.sub("", value, count=1).strip("\n")


@dataclass
class Assembled:
    content: str
    spans: list[list[int]]
    outputs: list[str]


#: Runs a snippet and returns its output as the interpreter reports it (`format_output`).
Rerun = Callable[[str], str]


def _inline_result_end(rest: str, code: str, rerun: Rerun | None, turn: int) -> tuple[str, int]:
    """(output, end) of a result written inline as "Code Execution Results: ..." at the start of `rest`.

    Its end is not marked, so it is found by running the snippet again (`rerun`) and matching what it
    prints; without `rerun`, or when the text does not hold that output, the record is refused.
    """
    label = _INLINE_RESULT.match(rest)
    assert label is not None
    if rerun is None:
        raise TraceParseError(
            "inline result",
            f"assistant turn {turn} writes a result as 'Code Execution Results: ...' right in its text, with no end "
            "marker, so where the interpreter's output ends cannot be told (--rerun-inline-results finds it by "
            "running the snippet again)",
        )
    output = rerun(code)
    start = label.end() + (rest[label.end() : label.end() + 1] == " ")
    if not rest.startswith(output, start):
        shown = rest[start : start + 60].replace("\n", "\\n")
        raise TraceParseError(
            "inline result differs",
            f"assistant turn {turn}: running the snippet again printed {output[:60]!r}, but the text after it reads "
            f"{shown!r}, so where the recorded output ends cannot be told",
        )
    end = start + len(output)
    return output, end + (rest[end : end + 1] == "\n")


def _split_inline(text: str, final: bool, turn: int, rerun: Rerun | None = None) -> tuple[list[str], list[str]]:
    """An assistant turn's text cut at its inline results: (model pieces, outputs).

    Every closed python block must be answered: by a ```output block right after it, by an inline
    "Code Execution Results: ..." that `rerun` confirms, or (the last block of a non-final turn) by
    the next turn. Text after a non-final turn's last block is refused.
    """
    pieces, outputs, pos = [], [], 0
    while True:
        # scanned again after each result: fences a program printed must not pair with the model's
        blocks = iter_blocks(text[pos:])
        i = next((j for j, b in enumerate(blocks) if b.lang.lower() == "output" or (b.is_python and b.end)), None)
        if i is None:
            break
        block = blocks[i]
        if block.lang.lower() == "output":
            raise TraceParseError(
                "output without code", f"assistant turn {turn} has a ```output block that follows no python block"
            )
        block_end = pos + block.end
        after = blocks[i + 1] if i + 1 < len(blocks) else None
        rest = text[block_end:]
        if after is not None and after.lang.lower() == "output" and after.end is not None:
            if not text[block_end : pos + after.start].strip():
                pieces.append(text[pos:block_end])
                outputs.append(after.code.rstrip("\n"))  # as `format_output` ends a program's output
                # the fence line's own line break belongs to the block: the result template ends the line itself
                pos += after.end + (text[pos + after.end : pos + after.end + 1] == "\n")
                continue
        if not final and not rest.strip():
            pieces.append(text[pos:block_end])  # the next turn answers it
            return pieces, outputs
        if _INLINE_RESULT.match(rest):
            output, end = _inline_result_end(rest, block.code, rerun, turn)
            pieces.append(text[pos:block_end])
            outputs.append(output)
            pos = block_end + end
            continue
        raise TraceParseError(
            "code without result",
            f"assistant turn {turn} has a python block with no interpreter result after it (expected a ```output "
            "block or, at the end of the turn, a result turn)",
        )
    if not final:
        raise TraceParseError(
            "follow-up is not a result",
            f"assistant turn {turn} is followed by another turn but does not end with a python block; the interpreter "
            "answers only a closed ```python block, so that turn is a user follow-up, not a result",
        )
    pieces.append(text[pos:])
    return pieces, outputs


def assemble(turns: list[Turn], protocol: ProtocolConfig, rerun: Rerun | None = None) -> tuple[str, str, Assembled]:
    """(system prompt, question, the assistant turn with its inserted spans) of a trace's turns."""
    system = [t.text for t in turns if t.role == "system"]
    rest = [t for t in turns if t.role != "system"]
    if len(system) > 1 or (turns and turns[0].role != "system" and system):
        raise TraceParseError("system turns", "expected at most one system prompt, before every other turn")
    if len(rest) < 2 or rest[0].role != "user" or rest[1].role != "assistant":
        raise TraceParseError("no question", "expected the question (a user turn) followed by an assistant turn")
    if rest[-1].role != "assistant":
        raise TraceParseError(
            "no final answer turn", "the trace ends with a result or user turn; expected the assistant's final turn"
        )
    body = rest[1:]
    for a, b in zip(body, body[1:], strict=False):
        if (a.role == "assistant") == (b.role == "assistant"):
            raise TraceParseError(
                "turn order", f"two {'assistant' if a.role == 'assistant' else 'result'} turns in a row"
            )
    content, spans, outputs = "", [], []

    def insert(output: str) -> None:
        nonlocal content
        inserted, _ = render_result(output, protocol)
        spans.append([len(content), len(content) + len(inserted)])
        outputs.append(output)
        content += inserted

    assistant_turns = [t for t in body if t.role == "assistant"]
    results = [t for t in body if t.role != "assistant"]
    for k, turn in enumerate(assistant_turns):
        final = k == len(assistant_turns) - 1
        pieces, inline = _split_inline(turn.text, final, k + 1, rerun)
        for i, piece in enumerate(pieces):
            content += piece
            if i < len(inline):
                insert(inline[i])
        if not final:
            insert(output_text(results[k].text))
    return (system[0] if system else protocol.system_prompt), rest[0].text, Assembled(content, spans, outputs)


def trace_row(record: Any, schema: Schema, protocol: ProtocolConfig, *, ident: str, source: dict[str, str],
              multi_turn_weight: float, rerun: Rerun | None = None) -> dict[str, Any]:  # fmt: skip
    """Our traces row of one record; TraceParseError says why a record cannot be one."""
    fmt, turns = record_turns(record, schema)
    if sum(len(t.text) for t in turns) > MAX_RECORD_CHARS:
        raise TraceParseError("too long", f"more than {MAX_RECORD_CHARS} characters of text")
    system, question, trace = assemble(turns, protocol, rerun)
    answer = extract_answer(trace.content, inserted_spans=trace.spans)
    if answer is None:
        raise TraceParseError("no answer", "no final <<<answer>>> in text the assistant wrote")
    task = record.get("task") if isinstance(record.get("task"), str) else ""
    task = task if task in _task_names() else ""
    repaired = any(_ERROR_LINE.search(out) for out in trace.outputs[:-1])
    return {
        "task": task,
        "id": str(record["id"])
        if isinstance(record.get("id"), (str, int)) and len(str(record["id"])) <= 200
        else ident,
        "style": STYLE,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": question},
            {"role": "assistant", "content": trace.content},
        ],
        "inserted_spans": trace.spans,
        "answer": answer,
        "num_code_calls": len(trace.spans),
        "num_turns": len(trace.spans) + 1,
        "completion_tokens": None,
        "weight": multi_turn_weight if len(trace.spans) > 1 or repaired else 1.0,
        "teacher": json.dumps({**source, "format": fmt}, sort_keys=True),
    }


@cache
def _task_names() -> frozenset[str]:
    from dataset_builders.registry import list_tasks

    return frozenset(t.name for t in list_tasks())


# -- reading files ----------------------------------------------------------------------------------


@dataclass
class ImportReport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (where, kind, reason)
    records: int = 0
    files: list[str] = field(default_factory=list)
    card: str | None = None
    repo_id: str | None = None
    commit: str | None = None

    def kinds(self) -> Counter[str]:
        return Counter(kind for _, kind, _ in self.problems)

    def unread_files(self) -> int:
        return sum(kind in FILE_PROBLEMS for _, kind, _ in self.problems)

    def lines(self, shown: int = SHOWN_PROBLEMS) -> list[str]:
        failed = len(self.problems) - self.unread_files()
        out = [f"{self.records} record(s) in {len(self.files)} file(s): {len(self.rows)} imported"]
        if failed:
            kinds = ", ".join(f"{k} {n}" for k, n in self.kinds().most_common() if k not in FILE_PROBLEMS)
            out[0] += f", {failed} could not be parsed ({kinds})"
        if self.unread_files():
            out[0] += f"; {self.unread_files()} file(s) hold no readable records"
        out += [f"  - {where}: {reason}" for where, _, reason in self.problems[:shown]]
        if len(self.problems) > shown:
            out.append(f"  ... and {len(self.problems) - shown} more (all are counted in the card)")
        return out


def _load_json(path: Path, name: str) -> Any:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise TraceParseError(
            "file too large", f"{size} bytes, larger than the {MAX_FILE_BYTES} bytes a traces file may have"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise TraceParseError(
            "malformed file", f"not a JSON document ({type(exc).__name__}: {str(exc)[:120]})"
        ) from None


def iter_records(path: Path, name: str) -> Iterator[tuple[str, Any]]:
    """(where, record) of a .json (a list of records, or one) or .jsonl file; a bad line or file is
    yielded as (where, TraceParseError)."""
    if path.suffix == ".jsonl":
        if path.stat().st_size > MAX_FILE_BYTES:
            yield (
                name,
                TraceParseError("file too large", f"larger than the {MAX_FILE_BYTES} bytes a traces file may have"),
            )
            return
        with path.open(encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield f"{name} line {n}", json.loads(line)
                except (json.JSONDecodeError, RecursionError) as exc:
                    yield f"{name} line {n}", TraceParseError("malformed line", f"not JSON ({str(exc)[:100]})")
        return
    try:
        data = _load_json(path, name)
    except TraceParseError as exc:
        yield name, exc
        return
    if isinstance(data, dict) and any(k in data for k in ("conversations", "messages", "instruction")):
        data = [data]
    if not isinstance(data, list):
        yield (
            name,
            TraceParseError("no records", "holds no trace records: expected a JSON list of sharegpt or alpaca records"),
        )
        return
    for i, record in enumerate(data):
        yield f"{name}[{i}]", record


def dataset_info_schemas(info_path: Path) -> dict[str, Schema]:
    """{file name: Schema} from a LLaMA-Factory dataset_info.json; {} when it names no local file."""
    try:
        info = _load_json(info_path, info_path.name)
    except TraceParseError as exc:
        raise InputError(f"{info_path}: {exc}") from None
    out = {}
    if isinstance(info, dict):
        for entry in info.values():
            if isinstance(entry, dict) and isinstance(entry.get("file_name"), str):
                out[entry["file_name"]] = Schema.from_dataset_info(entry)
    return out


def trace_files(root: Path, patterns: list[str] | None) -> list[tuple[Path, Schema]]:
    """The trace files under `root` (or `root` itself) with the schema each is read with."""
    if root.is_file():
        return [(root, Schema())]
    info = root / "dataset_info.json"
    schemas = dataset_info_schemas(info) if info.is_file() else {}
    files = sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix in (".json", ".jsonl") and p.name != "dataset_info.json"
        and not any(part.startswith((".", "_")) for part in p.relative_to(root).parts)
    )  # fmt: skip
    if schemas:
        files = [p for p in files if p.relative_to(root).as_posix() in schemas or p.name in schemas]
    if patterns:
        files = [p for p in files if any(fnmatch.fnmatchcase(p.relative_to(root).as_posix(), pat) for pat in patterns)]
    return [(p, schemas.get(p.relative_to(root).as_posix()) or schemas.get(p.name) or Schema()) for p in files]


def _fetch(
    repo_id: str, revision: str | None, patterns: list[str] | None
) -> tuple[Path, str, list[tuple[str, str, str]]]:
    """Download the JSON/JSONL files (and dataset_info.json, README.md) of a dataset repo: (folder, commit,
    problems of the files left out: unsafe names, files over the size bound)."""
    from huggingface_hub import HfApi, RepoFile, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    from dataset_builders.published_hub import MAX_CARD_BYTES, _literal, is_safe_repo_path

    rev = revision or "main"
    api = HfApi()
    try:
        tree = [f for f in api.list_repo_tree(repo_id, repo_type="dataset", revision=rev, recursive=True)
                if isinstance(f, RepoFile)]  # fmt: skip
    except RevisionNotFoundError:
        raise HubInputError(
            f"revision {rev!r} of dataset repo {repo_id} does not exist: expected a branch, tag or commit"
        ) from None
    except RepositoryNotFoundError:
        raise HubInputError(
            f"no local file or folder {repo_id!r} and no dataset repo {repo_id} on the Hub: expected trace files "
            "(sharegpt or alpaca JSON/JSONL) in a folder or a Hub dataset repo"
        ) from None
    wanted, left_out = [], []
    for f in tree:
        if not f.path.endswith((".json", ".jsonl")):
            continue
        named = f.path.endswith("dataset_info.json") or not patterns
        if not named and not any(fnmatch.fnmatchcase(f.path, p) for p in patterns):
            continue
        if not is_safe_repo_path(f.path):
            left_out.append(
                (repr(f.path), "unsafe file name", "a name that could be written outside the download folder")
            )
        elif (f.size or 0) > MAX_FILE_BYTES:
            left_out.append(
                (
                    f.path,
                    "file too large",
                    f"{f.size} bytes, larger than the {MAX_FILE_BYTES} bytes a traces file may have",
                )
            )
        else:
            wanted.append(f.path)
    if not [p for p in wanted if not p.endswith("dataset_info.json")]:
        raise HubInputError(
            f"dataset repo {repo_id} at revision {rev!r} holds no trace files"
            + (f" matching {', '.join(patterns)}" if patterns else "")
            + ": expected sharegpt or alpaca records in .json or .jsonl files"
        )
    card = [f.path for f in tree if f.path == "README.md" and (f.size or 0) <= MAX_CARD_BYTES]
    folder = Path(snapshot_download(repo_id, repo_type="dataset", revision=rev,
                                    allow_patterns=[_literal(p) for p in wanted] + card))  # fmt: skip
    return folder, folder.name, left_out


def import_traces(
    source: str,
    *,
    revision: str | None = None,
    patterns: list[str] | None = None,
    multi_turn_weight: float = 2.0,
    protocol: ProtocolConfig | None = None,
    rerun_inline: bool = False,
) -> ImportReport:
    """Import every record of the trace files at `source` (a file, a folder or a Hub dataset repo id).

    `rerun_inline` runs snippets whose result is written inline ("Code Execution Results: ...", no end
    marker) again in the local sandbox, to find where that result ends (see `_inline_result_end`).
    """
    from contextlib import ExitStack

    from dataset_builders.published import is_repo_id
    from hub_tools.publish import offline

    protocol = protocol or ProtocolConfig()
    report = ImportReport()
    local = Path(source)
    if local.exists():
        if revision is not None:
            raise InputError(f"--revision {revision!r} applies to a Hub repo, but {local} is a local path; drop it")
        root = local
        label = local.name
    elif is_repo_id(source):
        if offline():
            from dataset_builders.published_hub import _cached_snapshot

            cached = _cached_snapshot(source, revision or "main")
            if cached is None:
                raise HubInputError(
                    f"dataset repo {source} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: run once "
                    "online (unset HF_HUB_OFFLINE) or give a local file or folder"
                )
            report.commit, root = cached
        else:
            root, report.commit, left_out = _fetch(source, revision, patterns)
            report.problems += left_out
        report.repo_id, label = source, source
        card = root / "README.md"
        report.card = card.read_text(encoding="utf-8", errors="replace") if card.is_file() else None
    else:
        raise MissingInput(
            f"{source} does not exist and is not a Hub repo id 'owner/name': expected a trace file, a folder of them "
            "or a Hub dataset repo"
        )
    files = trace_files(root, patterns)
    if not files:
        raise InputError(
            f"{source} holds no .json or .jsonl trace files" + (f" matching {', '.join(patterns)}" if patterns else "")
        )
    with ExitStack() as stack:
        rerun = _sandbox_rerun(stack, protocol) if rerun_inline else None
        _import_files(report, root, files, label, protocol, multi_turn_weight, rerun)
    return report


def _sandbox_rerun(stack: Any, protocol: ProtocolConfig) -> Rerun:
    """A `Rerun` over the local sandbox (closed with `stack`); a snippet that repeats runs once."""
    from code_interpreter import get_sandbox
    from code_interpreter.protocol import format_output

    sandbox = stack.enter_context(get_sandbox("local"))
    seen: dict[str, str] = {}

    def rerun(code: str) -> str:
        if code not in seen:
            result = sandbox.run(code, timeout=protocol.timeout_s)
            seen[code] = format_output(
                result.stdout, result.stderr, timed_out=result.timed_out, timeout_s=protocol.timeout_s
            )
        return seen[code]

    return rerun


def _import_files(report: ImportReport, root: Path, files: list[tuple[Path, Schema]], label: str,
                  protocol: ProtocolConfig, multi_turn_weight: float, rerun: Rerun | None) -> None:  # fmt: skip
    from tqdm.auto import tqdm

    for path, schema in tqdm(files, desc="importing trace files", unit="file"):
        name = path.relative_to(root).as_posix() if path != root else path.name
        report.files.append(name)
        origin = (
            {"source": label, "file": name}
            if report.repo_id is None
            else {"source": label, "commit": report.commit or "", "file": name}
        )
        for where, record in iter_records(path, name):
            if not isinstance(record, TraceParseError) or record.kind not in FILE_PROBLEMS:
                report.records += 1  # a malformed line is a record that could not be parsed
            if isinstance(record, TraceParseError):
                report.problems.append((where, record.kind, str(record)))
                continue
            try:
                report.rows.append(trace_row(record, schema, protocol, ident=f"paper-{where}", source=origin,
                                             multi_turn_weight=multi_turn_weight, rerun=rerun))  # fmt: skip
            except TraceParseError as exc:
                report.problems.append((where, exc.kind, str(exc)))


def traces_features() -> Any:
    """The columns of a traces dataset, typed so that a null `completion_tokens` stays an integer column."""
    from datasets import Features, List, Value

    return Features({
        "task": Value("string"), "id": Value("string"), "style": Value("string"),
        "messages": List({"role": Value("string"), "content": Value("string")}),
        "inserted_spans": List(List(Value("int64"))), "answer": Value("string"),
        "num_code_calls": Value("int64"), "num_turns": Value("int64"), "completion_tokens": Value("int64"),
        "weight": Value("float64"), "teacher": Value("string"),
    })  # fmt: skip


def write_imported(report: ImportReport, target: Any, source: str) -> Path:
    """The imported traces as a dataset folder (config "default", split "train") with its card."""
    from datasets import Dataset
    from huggingface_hub import constants

    from hub_tools.dataset_folder import write_dataset_folder
    from model_cards.published_card import paper_traces_card, source_credit, source_license

    if not report.rows:
        first = "; ".join(f"{w}: {r}" for w, _, r in report.problems[:3])
        raise InputError(f"no record of {source} could be imported ({len(report.problems)} problem(s); {first})")
    card = paper_traces_card(
        repo_id=target.repo_id or str(target.folder),
        num_rows=len(report.rows),
        records=report.records,
        problems=report.problems,
        license=source_license(report.card),
        credit=source_credit(source, report.repo_id, None, report.commit, constants.ENDPOINT),
        source_repo=report.repo_id,
    )
    rows = Dataset.from_list(report.rows, features=traces_features())
    return write_dataset_folder(target.folder, {"default": {"train": rows}}, card)


# -- command line ---------------------------------------------------------------------------------


def make_parser(published_subparsers: argparse._SubParsersAction) -> None:
    p = published_subparsers.add_parser(
        "traces", help="import the paper's SFT traces (sharegpt or alpaca JSON/JSONL) into our traces format"
    )
    p.add_argument("--source", required=True, help="a .json/.jsonl file, a folder of them, or a Hub dataset repo id")
    p.add_argument("--revision", help="branch, tag or commit of the source repo (default: main)")
    p.add_argument("--files", help="comma-separated glob patterns of the files to read (default: every .json/.jsonl)")
    p.add_argument("--multi-turn-weight", type=float, default=2.0, help="weight of traces with several code calls")
    p.add_argument(
        "--rerun-inline-results",
        action="store_true",
        help="run snippets whose result is written inline ('Code Execution Results: ...') again in the local sandbox "
        "to find where that result ends (otherwise such records are reported, not imported)",
    )
    p.add_argument("--output-dir", help="local folder with the Hub repo's layout")
    p.add_argument("--push-to-hub", metavar="REPO", help="dataset repo id to publish the imported traces to")
    p.add_argument("--private", action="store_true")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from rich.console import Console

    from hub_tools.dataset_folder import folder_digest
    from hub_tools.publish import commit_message, push_folder, resolve_target

    target = resolve_target(args.output_dir, args.push_to_hub, private=args.private)
    if not 0 <= args.multi_turn_weight <= 100:
        raise InputError(f"--multi-turn-weight must be from 0 to 100, got {args.multi_turn_weight}")
    patterns = [p.strip() for p in args.files.split(",") if p.strip()] if args.files else None
    report = import_traces(
        args.source,
        revision=args.revision,
        patterns=patterns,
        multi_turn_weight=args.multi_turn_weight,
        rerun_inline=args.rerun_inline_results,
    )
    console = Console()
    for line in report.lines():
        console.print(line, soft_wrap=True, highlight=False, markup=False)
    folder = write_imported(report, target, args.source)
    console.print(f"{len(report.rows)} traces written to {folder}", highlight=False, markup=False)
    if target.pushes:
        summary, description = commit_message(
            f"Import the paper's SFT traces: {len(report.rows)} traces", source=args.source, commit=report.commit or ""
        )
        result = push_folder(folder, str(target.repo_id), summary=summary, description=description,
                             private=args.private, tag=f"paper-traces-{folder_digest(folder)[:12]}", content_tag=True)  # fmt: skip
        state = "new commit" if result.new_commit else "unchanged, no new commit"
        console.print(f"pushed to {result.url} ({state} {result.commit[:12]}, tag {result.tag})")
    return 0
