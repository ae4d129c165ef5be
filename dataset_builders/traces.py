"""`r1ci traces build`: verified multi-turn text+code traces from a teacher, the SFT set of R1-CI.

A teacher (any `code_interpreter` generator: an OpenAI-compatible endpoint such as GPT-4o or a vLLM
server, a local transformers model, or an offline solver) answers questions of the train tasks in
real episodes: its python blocks run in the sandbox and their output is fed back. A trace is kept
only when the task's verifier accepts the answer the teacher wrote (interpreter output never
supplies it), at most `max_per_task` per task, one per question (the first accepted), in one of
the prompt styles of the paper (`STYLES`), recorded per trace.

Resumable: every attempt is appended (and fsynced) to JSONL shards in a cache folder keyed by the
build's settings; a restart skips what was attempted and never duplicates a trace. The output is
a dataset folder with the Hub's layout (`hub_tools.dataset_folder`): config "default", split
"train", one row per trace with the chat `messages` (system, user, and one assistant message
holding the whole turn, interpreter output included) and `inserted_spans`, the character spans of
that assistant content which the interpreter inserted. Trainers must mask those spans: training on
the messages as plain chat would teach the model to predict interpreter output.

`weight` up-weights traces that switch strategy or repair code (more than one code call, or code
after an execution error) by `multi_turn_weight`; trainers may repeat rows by it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from code_interpreter.episode import Episode, EpisodeRunner
from code_interpreter.protocol import ProtocolConfig, build_messages
from dataset_builders.registry import get_task, list_tasks
from dataset_builders.task import Entry, Task, generate_entries, parse_levels
from hub_tools.errors import HubInputError

#: Prompt styles, as in the paper: the teacher chooses freely, writes code first, or reasons in text
#: and then checks with code. The hint is appended to the system prompt.
STYLES: dict[str, str] = {
    "free": "",
    "code_first": "Start by writing a Python script that computes the answer, then give the final answer from its output.",
    "text_then_code": (
        "First reason step by step in text to a candidate answer, then write a Python script that checks it, "
        "and give the final answer once it is verified."
    ),
}

#: Finish reasons that mean the teacher endpoint, not the trace, failed.
_ENDPOINT_FAILURE = "generator_error"
#: Endpoint errors (the openai client's names) that pass: a rate limit, a server error, a dropped
#: connection. The client retries each request a few times within seconds; a batch that still
#: fails on all of them waits (doubling, up to `teacher_patience_s` in all) before the build stops.
_TRANSIENT_TEACHER_ERRORS = ("RateLimitError", "InternalServerError", "APIConnectionError", "APITimeoutError")


class TeacherUnavailable(RuntimeError):
    """The teacher failed on every request of a batch (endpoint down, auth error): stop, keep what was accepted."""


@dataclass
class TraceBuildConfig:
    tasks: list[str] | None = None
    max_per_task: int = 70
    attempts_per_task: int = 140
    seed: int = 0
    styles: tuple[str, ...] = tuple(STYLES)
    protocol_version: str = "v2"
    timeout_s: float = 60.0
    max_new_tokens: int = 4096
    batch_size: int = 16
    multi_turn_weight: float = 2.0
    cost_per_1k_tokens: float = 0.0
    teacher_patience_s: float = 600.0
    complexity: str | None = None
    """Draw generated questions from these difficulty levels only ("2", "1-3"; default: every level)."""

    def __post_init__(self) -> None:
        unknown = [s for s in self.styles if s not in STYLES]
        if unknown or not self.styles:
            raise HubInputError(
                f"{'unknown style(s) ' + ', '.join(unknown) if unknown else 'no style given'}; "
                f"choose from {', '.join(STYLES)}"
            )
        for name in ("max_per_task", "attempts_per_task", "batch_size", "max_new_tokens"):
            if getattr(self, name) < 1:
                raise HubInputError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.teacher_patience_s < 0:
            raise HubInputError(f"teacher_patience_s must be at least 0, got {self.teacher_patience_s}")
        parse_levels(self.complexity)  # a malformed range stops here, before the attempt log is opened

    def key(self, teacher: dict[str, Any]) -> str:
        """The cache folder of a build: the teacher and the settings that shape a trace. Tasks, caps,
        batch size and the multi-turn weight (applied when rows are read) are left out, so raising a
        cap, adding tasks or re-weighting resumes the same attempts instead of paying for them again."""
        shaping = ("seed", "styles", "protocol_version", "timeout_s", "max_new_tokens", "complexity")
        blob = json.dumps({"teacher": teacher, **{k: getattr(self, k) for k in shaping}}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class TaskTally:
    attempted: int = 0
    accepted: int = 0


@dataclass
class TraceBuild:
    rows: list[dict[str, Any]]
    tally: dict[str, TaskTally] = field(default_factory=dict)
    tokens: int = 0
    stopped: str | None = None


def train_tasks(names: Sequence[str] | None) -> list[Task]:
    """The tasks to draw questions from; test tasks are refused (their questions must stay unseen)."""
    if not names:
        return list_tasks(split="train")
    tasks = [get_task(n) for n in dict.fromkeys(names)]  # a name given twice is one task
    held_out = [t.name for t in tasks if t.split == "test"]
    if held_out:
        raise HubInputError(
            f"{', '.join(held_out)} {'is a' if len(held_out) == 1 else 'are'} held-out test task(s): traces are built "
            "only from train tasks, so that evaluation stays on unseen tasks"
        )
    return tasks


def style_of(entry: Entry, styles: Sequence[str], seed: int) -> str:
    return random.Random(f"{entry['id']}:{seed}:style").choice(list(styles))


def weight_of(episode: Episode, multi_turn_weight: float) -> float:
    """`multi_turn_weight` for traces that use code more than once or write code after an error."""
    return multi_turn_weight if is_multi_turn(episode) else 1.0


def is_multi_turn(episode: Episode) -> bool:
    """The trace uses code more than once, or writes code after an execution error."""
    results = [s for s in episode.segments if s.role == "interpreter"]
    repaired = any(
        (r.execution or {}).get("exit_code") not in (0, None) or (r.execution or {}).get("timed_out")
        for r in results[:-1]
    )
    return len(results) > 1 or repaired


def trace_row(task: Task, entry: Entry, style: str, episode: Episode, teacher: dict, weight: float) -> dict:
    """One dataset row: the chat with the whole assistant turn, and the spans the interpreter inserted."""
    rounds, _ = episode.rounds()
    return {
        "task": task.name,
        "id": entry["id"],
        "style": style,
        "messages": [*episode.messages, {"role": "assistant", "content": episode.completion}],
        "inserted_spans": [list(span) for span in episode.inserted_spans],
        "answer": episode.answer or "",
        "num_code_calls": episode.num_code_calls,
        "num_turns": len(rounds) + 1,
        "completion_tokens": episode.tokens_used,
        "weight": weight,
        "teacher": json.dumps(teacher, sort_keys=True),
    }


class AttemptLog:
    """Append-only JSONL shards of attempts; a torn last line (a kill mid-write) is ignored on reading.

    One build at a time holds the folder (an flock, released by `close` or when the process dies):
    two builds appending to the same shard could interleave records larger than a write and lose them.
    """

    def __init__(self, folder: Path) -> None:
        import fcntl

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = (folder / ".lock").open("a")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise HubInputError(
                f"another traces build is using the attempt log {folder}; wait for it to finish or give "
                "this one another --cache-dir"
            ) from None
        existing = sorted(folder.glob("attempts-*.jsonl"))
        self.path = folder / f"attempts-{len(existing):05d}.jsonl"  # a new shard per run: no torn tails reused

    def close(self) -> None:
        self._lock.close()

    def read(self) -> Iterator[dict[str, Any]]:
        for shard in sorted(self.folder.glob("attempts-*.jsonl")):
            for line in shard.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict) and {"key", "task", "question", "row"} <= record.keys():
                    yield record

    def append(self, records: Sequence[dict[str, Any]]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())


def build_traces(
    generator: Any,
    sandbox: Any,
    config: TraceBuildConfig,
    *,
    cache_dir: Path,
    teacher: dict[str, Any],
) -> TraceBuild:
    """Run the teacher over the train tasks until each has `max_per_task` traces or its attempts run out."""
    tasks = train_tasks(config.tasks)
    log = AttemptLog(cache_dir / config.key(teacher))
    done: set[str] = set()
    build = TraceBuild(rows=[], tally={t.name: TaskTally() for t in tasks})
    seen_questions: set[tuple[str, str]] = set()
    for record in log.read():
        done.add(record["key"])
        tally = build.tally.get(record["task"])
        if tally is None:
            continue  # a task of an earlier run that this one did not ask for (or no longer a train task)
        tally.attempted += 1
        build.tokens += record.get("tokens", 0)
        fresh = (record["task"], record["question"]) not in seen_questions
        if record["row"] is not None and fresh and tally.accepted < config.max_per_task:
            seen_questions.add((record["task"], record["question"]))
            tally.accepted += 1
            row = record["row"]
            if "multi_turn" in record:  # the weight of this run, not of the run that logged the row
                row = {**row, "weight": config.multi_turn_weight if record["multi_turn"] else 1.0}
            build.rows.append(row)

    protocol = ProtocolConfig(version=config.protocol_version, timeout_s=config.timeout_s)
    # mode="auto": a server teacher (OpenAI-compatible endpoint, vLLM server) runs asynchronous episodes, so
    # within a batch no episode waits for another's snippet; the batch stays the unit of the attempt log.
    runner = EpisodeRunner(generator, sandbox, protocol, max_new_tokens=config.max_new_tokens, mode="auto")
    bar = tqdm(total=config.attempts_per_task * len(tasks), desc="teacher traces", unit="episode")
    bar.update(sum(t.attempted for t in build.tally.values()))
    waited, backoff = 0.0, 2.0  # seconds spent waiting for a busy teacher, and the next pause
    try:
        for task in tasks:
            tally = build.tally[task.name]
            queue = [
                (e, style_of(e, config.styles, config.seed))
                for e in generate_entries(task, config.attempts_per_task, config.seed, config.complexity)
            ]
            queue = [
                (e, s)
                for e, s in queue
                if f"{e['id']}|{s}" not in done and (task.name, e["question"]) not in seen_questions
            ]
            while queue and tally.accepted < config.max_per_task:
                need = config.max_per_task - tally.accepted
                batch, queue = queue[: min(config.batch_size, need)], queue[min(config.batch_size, need) :]
                episodes = runner.run([_messages(e["question"], s, protocol) for e, s in batch])
                if all(ep.finish_reason == _ENDPOINT_FAILURE for ep in episodes):
                    error = episodes[0].error or "the teacher failed"
                    if not error.startswith(_TRANSIENT_TEACHER_ERRORS) or waited >= config.teacher_patience_s:
                        raise TeacherUnavailable(error)
                    pause = min(backoff, config.teacher_patience_s - waited)
                    bar.set_postfix_str(f"teacher busy ({error.split(':')[0]}): waiting {pause:.0f} s")
                    time.sleep(pause)
                    waited, backoff = waited + pause, min(2 * backoff, 120.0)
                    queue = batch + queue
                    continue
                waited, backoff = 0.0, 2.0
                records = []
                for (entry, style), ep in zip(batch, episodes, strict=True):
                    if ep.finish_reason == _ENDPOINT_FAILURE:
                        continue  # not an attempt: retried on the next run
                    ok = task.score(ep.completion, entry, inserted_spans=ep.inserted_spans) == 1.0
                    fresh = (task.name, entry["question"]) not in seen_questions
                    row = trace_row(task, entry, style, ep, teacher, weight_of(ep, config.multi_turn_weight))
                    keep = ok and fresh and tally.accepted < config.max_per_task
                    if keep:
                        seen_questions.add((task.name, entry["question"]))
                        tally.accepted += 1
                        build.rows.append(row)
                    tally.attempted += 1
                    build.tokens += ep.tokens_used
                    records.append({"key": f"{entry['id']}|{style}", "task": task.name, "question": entry["question"],
                                    "tokens": ep.tokens_used, "row": row if keep else None,
                                    "multi_turn": is_multi_turn(ep)})  # fmt: skip
                log.append(records)
                bar.update(len(records))
                accepted = sum(t.accepted for t in build.tally.values())
                attempted = max(1, sum(t.attempted for t in build.tally.values()))
                bar.set_postfix(
                    accepted=accepted,
                    rate=f"{accepted / attempted:.0%}",
                    tokens=build.tokens,
                    cost=f"${build.tokens / 1000 * config.cost_per_1k_tokens:.2f}",
                )
    except TeacherUnavailable as exc:
        build.stopped = str(exc)
    finally:
        bar.close()
        log.close()
    build.rows.sort(key=lambda r: (r["task"], r["id"]))
    return build


def has_solver(task: Task) -> bool:
    """Whether `Task.solve_with_code` is overridden (the offline solver teacher can answer the task)."""
    return type(task).solve_with_code is not Task.solve_with_code


def solver_tasks() -> list[str]:
    return [t.name for t in list_tasks(split="train") if has_solver(t)]


def _messages(question: str, style: str, protocol: ProtocolConfig) -> list[dict[str, str]]:
    messages = build_messages(question, protocol)
    if STYLES[style]:
        messages[0] = {"role": "system", "content": f"{messages[0]['content']}\n\n{STYLES[style]}"}
    return messages


def style_counts(rows: Sequence[dict[str, Any]]) -> Counter[str]:
    return Counter(r["style"] for r in rows)


def write_traces(build: TraceBuild, target: Any, config: TraceBuildConfig, teacher: dict[str, Any]) -> Path:
    """The traces as a dataset folder with card and plots (pushed by the caller when the target pushes)."""
    from datasets import Dataset

    from hub_tools.dataset_folder import write_dataset_folder
    from model_cards.dataset_cards import traces_dataset_card
    from model_cards.plots import histogram_png

    if not build.rows:
        raise HubInputError("no trace was accepted, so there is nothing to write; see the log above")
    rows = Dataset.from_list(build.rows)
    settings = {k: v for k, v in asdict(config).items() if k != "tasks"}
    card = traces_dataset_card(
        repo_id=target.repo_id or str(target.folder),
        num_rows=len(build.rows),
        tally=sorted(build.tally.items()),
        max_per_task=config.max_per_task,
        teacher=json.dumps(teacher, sort_keys=True),
        styles=", ".join(f"{s} ({n})" for s, n in sorted(style_counts(build.rows).items())),
        settings="\n".join(f"{k}: {v}" for k, v in settings.items()),
    )
    images = {
        "code_calls.png": histogram_png(
            [r["num_code_calls"] for r in build.rows], title="Code calls per trace", xlabel="code calls"
        ),
        "turns.png": histogram_png([r["num_turns"] for r in build.rows], title="Turns per trace", xlabel="turns"),
    }
    return write_dataset_folder(target.folder, {"default": {"train": rows}}, card, images=images)


# -- command line ---------------------------------------------------------------------------------


def public_url(url: str) -> str:
    """`url` without user info, query or fragment: what may be written into rows, cards and commits
    (`http://user:key@host/v1?api-key=...` -> `http://host/v1`)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        raise HubInputError("--base-url has a port that is not a number") from None  # the URL may hold a key
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def make_parser(subparsers: Any) -> None:
    traces = subparsers.add_parser("traces", help="verified teacher traces (the SFT set)")
    traces.set_defaults(func=main)
    tsub = traces.add_subparsers(dest="traces_command", required=True)
    p = tsub.add_parser("build", help="run a teacher over the train tasks and keep traces whose answers verify")
    p.add_argument(
        "--teacher",
        choices=["openai", "transformers", "solver"],
        default="openai",
        help="teacher backend; 'solver' writes traces offline from the tasks' reference solvers (no model)",
    )
    p.add_argument("--model", help="served model name (openai) or model folder / Hub id (transformers)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (default: OpenAI)")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the endpoint's key")
    p.add_argument("--openai-mode", choices=["chat", "completions"], default="chat")
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--max-concurrency", type=int, default=16, help="requests in flight against the endpoint")
    p.add_argument("--request-timeout", type=float, default=600.0, help="seconds before one request is abandoned")
    p.add_argument(
        "--teacher-patience",
        type=float,
        default=600.0,
        help="seconds to keep waiting (with backoff) while the endpoint rate-limits or fails before stopping",
    )
    p.add_argument("--tasks", help="comma-separated train task names (default: all 107 train tasks)")
    p.add_argument("--max-per-task", type=int, default=70)
    p.add_argument("--complexity", help="draw generated questions from these levels only: a level (2) or a range (1-3)")
    p.add_argument("--attempts-per-task", type=int, default=140, help="questions tried per task at most")
    p.add_argument("--styles", default=",".join(STYLES), help=f"prompt styles to draw from ({', '.join(STYLES)})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sandbox", choices=["local", "e2b"], default="local")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-new-tokens", type=int, default=4096)
    p.add_argument("--multi-turn-weight", type=float, default=2.0)
    p.add_argument("--cost-per-1k-tokens", type=float, default=0.0, help="for the running cost estimate")
    p.add_argument("--cache-dir", default="outputs/cache/traces", help="attempt log; a rerun resumes from it")
    p.add_argument("--output-dir")
    p.add_argument("--push-to-hub", metavar="REPO", help="dataset repo id, e.g. <org>/R1-CI-SFT-traces")
    p.add_argument("--private", action="store_true")


def main(args: Any) -> int:
    from rich.console import Console

    from code_interpreter import get_generator, get_sandbox
    from hub_tools.dataset_folder import folder_digest
    from hub_tools.publish import commit_message, push_folder, resolve_target

    target = resolve_target(args.output_dir, args.push_to_hub, private=args.private)
    config = TraceBuildConfig(
        tasks=[n.strip() for n in args.tasks.split(",") if n.strip()] if args.tasks else None,
        max_per_task=args.max_per_task,
        attempts_per_task=args.attempts_per_task,
        seed=args.seed,
        styles=tuple(s.strip() for s in args.styles.split(",") if s.strip()),
        timeout_s=60.0,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        multi_turn_weight=args.multi_turn_weight,
        cost_per_1k_tokens=args.cost_per_1k_tokens,
        teacher_patience_s=args.teacher_patience,
        complexity=args.complexity,
    )
    tasks = train_tasks(config.tasks)  # refuse test tasks before any model loads
    if args.teacher != "solver" and not args.model:
        raise HubInputError(f"--teacher {args.teacher} needs --model (a served model name or a model folder)")
    teacher = {"backend": args.teacher, "model": args.model, "temperature": args.temperature}
    if args.teacher == "solver":
        from dataset_builders.solver_teacher import SolverTeacher

        unsolved = [t.name for t in tasks if not has_solver(t)]
        if unsolved:
            raise HubInputError(
                f"--teacher solver needs tasks with a reference solver; {', '.join(unsolved)} "
                f"{'has' if len(unsolved) == 1 else 'have'} none (tasks with one: {', '.join(solver_tasks())})"
            )
        generator = SolverTeacher(tasks)
        teacher = generator.describe()
    elif args.teacher == "openai":
        teacher |= {"base_url": public_url(args.base_url or "https://api.openai.com/v1"), "mode": args.openai_mode}
        generator = get_generator(
            "openai",
            model=args.model,
            base_url=args.base_url,
            api_key=os.environ.get(args.api_key_env),
            mode=args.openai_mode,
            temperature=args.temperature,
            max_concurrency=args.max_concurrency,
            request_timeout=args.request_timeout,
        )
    else:
        generator = get_generator("transformers", model=args.model, temperature=args.temperature)
    console = Console()
    with get_sandbox(args.sandbox) as sandbox:
        build = build_traces(generator, sandbox, config, cache_dir=Path(args.cache_dir), teacher=teacher)
    if build.stopped:
        console.print(
            f"[red]the teacher stopped answering:[/] {build.stopped}\ncheck --base-url, that the server is up and "
            f"that {args.api_key_env} holds a valid key; accepted traces are kept in {args.cache_dir} and a rerun "
            "resumes",
            soft_wrap=True,
            highlight=False,
        )
    folder = write_traces(build, target, config, teacher)
    attempted = sum(t.attempted for t in build.tally.values())
    console.print(f"{len(build.rows)} traces accepted of {attempted} attempts, written to {folder}")
    if target.pushes and build.stopped:
        console.print(f"not pushed to {target.repo_id}: the build stopped before it was complete; rerun to resume")
    elif target.pushes:
        summary, description = commit_message(f"Build SFT traces: {len(build.rows)} traces", **teacher, seed=args.seed)
        result = push_folder(
            folder,
            str(target.repo_id),
            summary=summary,
            description=description,
            private=args.private,
            tag=f"traces-{folder_digest(folder)[:12]}",
            content_tag=True,
        )
        state = "new commit" if result.new_commit else "unchanged, no new commit"
        console.print(f"pushed to {result.url} ({state} {result.commit[:12]}, tag {result.tag})")
    return 1 if build.stopped else 0
